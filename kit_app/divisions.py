"""Guangxi's administrative divisions (GB/T 2260) and the enforcement agencies attached to them."""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import resources

# Reference data is the same on every kit: its ids are derived from the division code, and its
# origin is the nil kit id.
REFERENCE_ORIGIN = "00000000-0000-0000-0000-000000000000"
_NAMESPACE = uuid.UUID("6f1c1d64-8a53-4e1b-9d0a-3c1a6b0e2a45")


def agency_id(code: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"agency:{code}"))


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str
    parent_code: str | None
    longitude: float
    latitude: float

    @property
    def agency_name(self) -> str:
        return agency_name(self, divisions_by_code())


@lru_cache(maxsize=1)
def divisions() -> tuple[Division, ...]:
    with resources.path("data", "guangxi_divisions.csv").open(encoding="utf-8") as fh:
        return tuple(
            Division(
                code=r["code"],
                name=r["name"],
                level=r["level"],
                parent_code=r["parent_code"] or None,
                longitude=float(r["longitude"]),
                latitude=float(r["latitude"]),
            )
            for r in csv.DictReader(fh)
        )


@lru_cache(maxsize=1)
def divisions_by_code() -> dict[str, Division]:
    return {d.code: d for d in divisions()}


def agency_name(d: Division, by_code: dict[str, Division]) -> str:
    if d.level == "province":
        return f"{d.name}生态环境厅"
    if d.level == "city":
        return f"{d.name}生态环境局"
    city = by_code[d.parent_code].name if d.parent_code else ""
    return f"{city}生态环境局{d.name}分局"


def review_body(code: str) -> str | None:
    """The body that hears an application for administrative review (行政复议机关) of the agency of
    division ``code``: the people's government at its level (《中华人民共和国行政复议法》（2023年修订）
    第二十四条); a county branch (分局) of a city bureau, under the vertical management of ecology and
    environment below the province, answers to the city's government."""
    by_code = divisions_by_code()
    d = by_code.get(code)
    if d is None:
        return None
    if d.level == "county" and d.parent_code in by_code:
        d = by_code[d.parent_code]
    return f"{d.name}人民政府"


def agency_rows() -> list[dict[str, object]]:
    """Rows for the agencies table, parents before children."""
    by_code = divisions_by_code()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    order = {"province": 0, "city": 1, "county": 2}
    return [
        {
            "id": agency_id(d.code),
            "code": d.code,
            "division_name": d.name,
            "name": agency_name(d, by_code),
            "level": d.level,
            "parent_id": agency_id(d.parent_code) if d.parent_code else None,
            "longitude": d.longitude,
            "latitude": d.latitude,
            "created_at": now,
            "updated_at": now,
            "origin_kit": REFERENCE_ORIGIN,
            "row_version": 1,
        }
        for d in sorted(divisions(), key=lambda d: (order[d.level], d.code))
    ]
