"""Bulk writes of pollution sources that keep the search index in step.

Row by row, the FTS5 trigger costs ~110 µs a source; indexing a batch in one INSERT … SELECT costs
a fifth of that. So a bulk insert drops the insert trigger, inserts, indexes the new rows and puts
the trigger back — all inside the caller's transaction (SQLite DDL is transactional), so a crash at
any point leaves either everything or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

# must match the sources_fts definition in the migrations (checked by a test)
FTS_COLUMNS = ("name", "address", "name_abbr")

SOURCE_COLUMNS = (
    "id", "name", "credit_code", "address", "county_id", "industry", "longitude", "latitude",
    "permit_no", "legal_rep", "contact_phone", "cat_water", "cat_air", "cat_waste", "cat_noise",
    "key_monitored", "mn_codes", "logger_pw", "origin_project_id", "name_py", "name_abbr", "created_at",
    "updated_at", "origin_kit", "row_version",
)

_CREATED = SOURCE_COLUMNS.index("created_at")
_UPDATED = SOURCE_COLUMNS.index("updated_at")


def sqlite_datetime(dt: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores, for a UTC time (see db.types.UTCDateTime)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def insert_sources(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    trigger = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'sources_fts_ai'"
    ).scalar()
    first = conn.exec_driver_sql("SELECT coalesce(max(rid), 0) FROM sources").scalar()
    if trigger:
        conn.exec_driver_sql("DROP TRIGGER sources_fts_ai")
    stamps: dict[datetime, str] = {}  # a batch shares a handful of timestamps

    def stamp(v: Any) -> Any:
        if isinstance(v, datetime):
            return stamps.get(v) or stamps.setdefault(v, sqlite_datetime(v))
        return v

    params = []
    for r in rows:
        t = list(map(r.get, SOURCE_COLUMNS))
        t[_CREATED] = stamp(t[_CREATED])
        t[_UPDATED] = stamp(t[_UPDATED])
        params.append(tuple(t))
    marks = ",".join("?" * len(SOURCE_COLUMNS))
    conn.exec_driver_sql(
        f"INSERT INTO sources ({','.join(SOURCE_COLUMNS)}) VALUES ({marks})", params
    )
    cols = ",".join(FTS_COLUMNS)
    conn.exec_driver_sql(
        f"INSERT INTO sources_fts(rowid, {cols}) SELECT rid, {cols} FROM sources WHERE rid > ?",
        (first,),
    )
    if trigger:
        conn.exec_driver_sql(trigger)
