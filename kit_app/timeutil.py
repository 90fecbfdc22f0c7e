"""Times are stored in UTC with their offset and shown in the local zone (Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    """Today in the kit's zone (Asia/Shanghai), whatever zone the laptop's clock is set to."""
    return utcnow().astimezone(LOCAL_TZ).date()


def to_local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime: every stored time must carry its offset")
    return dt.astimezone(LOCAL_TZ)


def format_local(dt: datetime | None, with_seconds: bool = False) -> str:
    local = to_local(dt)
    if local is None:
        return ""
    return local.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")
