"""Per-case sync state: a case counts as synced only when the server's receipts cover all of it —
no change of the case, its evidence items or documents waiting in the outbox (entries leave it only
when their batch's signed receipt is stored), no custody event of it beyond the last acknowledged,
and a signed blob receipt for every original."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kit_app.db.models import (
    CustodyEvent,
    Document,
    EvidenceItem,
    KitMeta,
    SyncBlob,
    SyncOutbox,
)


def waiting_by_case(s: Session, kit_id: str, case_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """For each case: how many records, custody events and originals wait for a receipt."""
    ids = list(case_ids)
    out: dict[str, dict[str, int]] = {c: {"records": 0, "custody_events": 0, "originals": 0} for c in ids}
    if not ids:
        return out
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        case_of: dict[str, str] = {c: c for c in chunk}
        case_of |= dict(s.execute(select(EvidenceItem.id, EvidenceItem.case_id)
                                  .where(EvidenceItem.case_id.in_(chunk))).all())
        case_of |= dict(s.execute(select(Document.id, Document.case_id).where(Document.case_id.in_(chunk))).all())
        rows = s.execute(select(SyncOutbox.entity_id).where(SyncOutbox.entity_id.in_(list(case_of)))
                         .distinct()).scalars()
        for eid in rows:
            out[case_of[eid]]["records"] += 1
        acked = int((s.get(KitMeta, "sync_custody_acked") or KitMeta(value="0")).value)
        for cid, n in s.execute(select(CustodyEvent.case_id, func.count()).where(
                CustodyEvent.kit_id == kit_id, CustodyEvent.seq > acked, CustodyEvent.case_id.in_(chunk))
                .group_by(CustodyEvent.case_id)):
            out[cid]["custody_events"] = n
        held = select(SyncBlob.sha256)
        for cid, n in s.execute(select(EvidenceItem.case_id, func.count(func.distinct(EvidenceItem.sha256))).where(
                EvidenceItem.case_id.in_(chunk), EvidenceItem.sha256.is_not(None),
                EvidenceItem.sha256.not_in(held)).group_by(EvidenceItem.case_id)):
            out[cid]["originals"] = n
    return out


def case_state(s: Session, kit_id: str, case_id: str) -> dict[str, Any]:
    w = waiting_by_case(s, kit_id, [case_id])[case_id]
    return w | {"synced": not any(w.values())}
