"""The one way an evidence item comes into being: its row, its officers and its first custody event,
written together in the caller's transaction — for imported files, camera captures, instrument
recordings and issued documents alike. The original must already be stored and durable."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from kit_app.db.models import EvidenceItem, EvidenceOfficer
from kit_app.dto import OfficerInfo
from kit_app.evidence import custody as C


@dataclass
class NewItem:
    """What is known of an original when it becomes evidence."""

    case_id: str
    kind: str
    name: str
    size: int
    sha256: str
    media_type: str
    captured_at: datetime | None = None
    captured_offset_min: int | None = None
    captured_clock: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    device: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def offset_minutes(at: datetime | None) -> int | None:
    """The UTC offset of an aware time, in minutes (None for a naive one)."""
    if at is None or at.tzinfo is None:
        return None
    return int((at.utcoffset() or timedelta()).total_seconds() // 60)


def record_item(s: Session, log: C.CustodyLog, kit_id: str, new: NewItem, officers: list[OfficerInfo], *,
                event: str, at: datetime, details: dict[str, Any], place: dict[str, Any] | None = None) -> EvidenceItem:
    """Add the item with its officers (in order) and append its first custody event (``event``:
    imported, collected, issued). The caller commits, and flushes the log's checkpoint."""
    item = EvidenceItem(
        case_id=new.case_id, kind=new.kind, original_name=new.name, size=new.size, sha256=new.sha256,
        media_type=new.media_type, captured_at=new.captured_at, captured_offset_min=new.captured_offset_min,
        captured_clock=new.captured_clock, latitude=new.latitude, longitude=new.longitude, altitude=new.altitude,
        device=new.device, description=new.description, metadata_json=json.dumps(new.metadata, ensure_ascii=False),
        warnings_json=json.dumps(new.warnings, ensure_ascii=False), imported_at=at, created_at=at, updated_at=at,
        origin_kit=kit_id)
    for i, o in enumerate(officers):
        item.officers.append(EvidenceOfficer(officer_id=o.id, position=i))
    s.add(item)
    s.flush()
    log.append(s, evidence_id=item.id, case_id=new.case_id, kind=event, actors=[C.actor(o) for o in officers],
               item_sha256=new.sha256, device=new.device, place=place, details=details, at=at)
    return item
