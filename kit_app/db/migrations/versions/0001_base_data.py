"""Base data: kit metadata, agencies (Guangxi), officers, pollution sources with their search
index, construction projects and their history.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _sync_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("origin_kit", sa.String(36), nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False, server_default="1"),
    ]


# Substring search over these; codes and full pinyin are searched by prefix on their own indexes.
FTS_COLUMNS = ("name", "address", "name_abbr")


def upgrade() -> None:
    op.create_table(
        "kit_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "agencies",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("code", sa.String(12), nullable=False, unique=True),
        sa.Column("division_name", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.String(36), sa.ForeignKey("agencies.id"), index=True),
        sa.Column("longitude", sa.Float),
        sa.Column("latitude", sa.Float),
        *_sync_columns(),
    )
    op.create_table(
        "officers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("cert_no", sa.String(32), nullable=False, unique=True),
        sa.Column("agency_id", sa.String(36), sa.ForeignKey("agencies.id"), index=True),
        sa.Column("roles", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("last_login_at", UTCDateTime),
        *_sync_columns(),
    )
    op.create_table(
        "sources",
        sa.Column("rid", sa.Integer, primary_key=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False, index=True),
        sa.Column("credit_code", sa.String(18), unique=True),
        sa.Column("address", sa.String(300)),
        sa.Column("county_id", sa.String(36), sa.ForeignKey("agencies.id"), index=True),
        sa.Column("industry", sa.String(100)),
        sa.Column("longitude", sa.Float),
        sa.Column("latitude", sa.Float),
        sa.Column("permit_no", sa.String(40), index=True),
        sa.Column("legal_rep", sa.String(64)),
        sa.Column("contact_phone", sa.String(40)),
        sa.Column("cat_water", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("cat_air", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("cat_waste", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("cat_noise", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("key_monitored", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("mn_codes", sa.Text),
        sa.Column("origin_project_id", sa.String(36)),
        sa.Column("name_py", sa.String(600), nullable=False, server_default="", index=True),
        sa.Column("name_abbr", sa.String(200), nullable=False, server_default="", index=True),
        *_sync_columns(),
    )
    cols = ", ".join(FTS_COLUMNS)
    new = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
    old = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
    op.execute(
        f"CREATE VIRTUAL TABLE sources_fts USING fts5({cols}, "
        "content='sources', content_rowid='rid', tokenize='trigram')"
    )
    op.execute(
        f"CREATE TRIGGER sources_fts_ai AFTER INSERT ON sources BEGIN "
        f"INSERT INTO sources_fts(rowid, {cols}) VALUES (new.rid, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER sources_fts_ad AFTER DELETE ON sources BEGIN "
        f"INSERT INTO sources_fts(sources_fts, rowid, {cols}) VALUES ('delete', old.rid, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER sources_fts_au AFTER UPDATE OF {cols} ON sources BEGIN "
        f"INSERT INTO sources_fts(sources_fts, rowid, {cols}) VALUES ('delete', old.rid, {old}); "
        f"INSERT INTO sources_fts(rowid, {cols}) VALUES (new.rid, {new}); END"
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, index=True),
        sa.Column("developer", sa.String(200)),
        sa.Column("developer_credit_code", sa.String(18), index=True),
        sa.Column("address", sa.String(300)),
        sa.Column("county_id", sa.String(36), sa.ForeignKey("agencies.id"), index=True),
        sa.Column("industry", sa.String(100)),
        sa.Column("longitude", sa.Float),
        sa.Column("latitude", sa.Float),
        sa.Column("eia_approval_no", sa.String(64), unique=True),
        sa.Column("eia_approval_date", sa.Date),
        sa.Column("status", sa.String(24), nullable=False, server_default="approved"),
        sa.Column("acceptance_date", sa.Date),
        sa.Column("source_id", sa.String(36), sa.ForeignKey("sources.id"), index=True),
        *_sync_columns(),
    )
    op.create_table(
        "project_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(36), sa.ForeignKey("projects.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("officer_id", sa.String(36), sa.ForeignKey("officers.id")),
        sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
        sa.Column("origin_kit", sa.String(36), nullable=False),
    )
    # Project history is a record: it is appended to, never rewritten.
    op.execute(
        "CREATE TRIGGER project_events_no_update BEFORE UPDATE ON project_events "
        "BEGIN SELECT RAISE(ABORT, 'project history is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER project_events_no_delete BEFORE DELETE ON project_events "
        "BEGIN SELECT RAISE(ABORT, 'project history is append-only'); END"
    )

    from kit_app.divisions import agency_rows

    agencies = sa.table(
        "agencies",
        *(sa.column(c) for c in (
            "id", "code", "division_name", "name", "level", "parent_id", "longitude", "latitude",
            "origin_kit", "row_version",
        )),
        sa.column("created_at", UTCDateTime),
        sa.column("updated_at", UTCDateTime),
    )
    op.bulk_insert(agencies, agency_rows())


def downgrade() -> None:
    for trigger in ("project_events_no_update", "project_events_no_delete",
                    "sources_fts_ai", "sources_fts_ad", "sources_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.drop_table("project_events")
    op.drop_table("projects")
    op.execute("DROP TABLE IF EXISTS sources_fts")
    op.drop_table("sources")
    op.drop_table("officers")
    op.drop_table("agencies")
    op.drop_table("kit_meta")
