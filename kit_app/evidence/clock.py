"""What the kit knows of the time when it records a custody event: its own clock, the satellites'
time from a current GNSS fix, and its clock's offset from the central server measured at the last
sync. Every custody event carries all three (``time`` in its body), and says truthfully which clock
its ``at`` was read from: ``gnss`` when a current fix gave the time, else ``kit``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from kit_app.db.models import KitMeta

OFFSET_KEY = "clock_offset"  # KitMeta: the offset measured at the last sync, JSON
GNSS_MAX_AGE = 5.0  # seconds: a satellites' time heard longer ago is not used to stamp an event

GnssSource = Callable[[], dict[str, Any] | None]


@dataclass(frozen=True)
class Offset:
    """The kit clock's offset from the server: server time − kit time, in seconds, measured at a sync."""

    offset_s: float
    rtt_s: float
    measured_at: str  # the kit's clock then, ISO 8601

    def as_dict(self) -> dict[str, Any]:
        return {"offset_s": self.offset_s, "rtt_s": self.rtt_s, "measured_at": self.measured_at}


def read_offset(s: Session) -> Offset | None:
    row = s.get(KitMeta, OFFSET_KEY)
    if row is None:
        return None
    try:
        d = json.loads(row.value)
        return Offset(float(d["offset_s"]), float(d["rtt_s"]), str(d["measured_at"]))
    except (ValueError, KeyError, TypeError):
        return None


def write_offset(s: Session, offset: Offset) -> None:
    s.merge(KitMeta(key=OFFSET_KEY, value=json.dumps(offset.as_dict())))


def measure_offset(sent: datetime, received: datetime, server_time: datetime) -> Offset:
    """The offset as NTP takes it: the server's time against the middle of the round trip."""
    rtt = (received - sent).total_seconds()
    middle = sent + (received - sent) / 2
    return Offset(round((server_time - middle).total_seconds(), 3), round(rtt, 3), sent.isoformat())


def gnss_now(fix: dict[str, Any] | None) -> datetime | None:
    """The satellites' time now, from a fix whose UTC time was heard less than GNSS_MAX_AGE ago."""
    if not fix or not fix.get("time") or fix.get("time_age_s") is None:
        return None
    age = float(fix["time_age_s"])
    if not 0 <= age <= GNSS_MAX_AGE:
        return None
    try:
        t = datetime.fromisoformat(str(fix["time"]))
    except ValueError:
        return None
    if t.tzinfo is None:
        return None
    return t + timedelta(seconds=age)


def stamp(kit_now: datetime, fix: dict[str, Any] | None, offset: Offset | None) -> tuple[datetime, str, dict[str, Any]]:
    """(at, clock, time) for an event recorded now: ``at`` from the satellites when a current fix
    gives their time, else from the kit's clock; ``time`` keeps every reading."""
    time: dict[str, Any] = {"kit": kit_now.isoformat()}
    g = gnss_now(fix)
    if g is not None:
        time["gnss"] = g.isoformat()
        time["gnss_offset_s"] = round((g - kit_now).total_seconds(), 3)
    if offset is not None:
        time["server_offset_s"] = offset.offset_s
        time["server_offset_measured_at"] = offset.measured_at
    return (g, "gnss", time) if g is not None else (kit_now, "kit", time)
