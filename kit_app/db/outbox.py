"""The outbox: every flush that adds or changes a case, evidence item or issued document also
writes an outbox row, in the same transaction — so a change is either committed with its outbox
row or not at all, and nothing committed is forgotten by sync. Custody events need no outbox: the
chain's sequence numbers say what the server has not acknowledged yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from kit_app.db.models import (
    Case,
    CaseEvent,
    CaseOfficer,
    Document,
    EvidenceItem,
    EvidenceOfficer,
    Finding,
    Inspection,
    InspectionAnswer,
    InspectionOfficer,
    InspectionStep,
    SyncOutbox,
)
from kit_app.timeutil import utcnow

ENTITIES: dict[type, str] = {Case: "case", EvidenceItem: "evidence", Document: "document"}
# rows that travel inside their case or item: a change queues the parent
PARENTS: dict[type, tuple[str, str]] = {
    CaseOfficer: ("case", "case_id"), CaseEvent: ("case", "case_id"), Inspection: ("case", "case_id"),
    InspectionOfficer: ("case", "case_id"), InspectionStep: ("case", "case_id"),
    InspectionAnswer: ("case", "case_id"), Finding: ("case", "case_id"),
    EvidenceOfficer: ("evidence", "evidence_id"),
}


def _changes(s: Session) -> list[tuple[str, Any, str]]:
    """(entity, object, attribute holding the id): ids given by column defaults exist only after
    the flush, so they are read then."""
    out: list[tuple[str, Any, str]] = []
    for obj in list(s.new) + list(s.dirty):
        kind = ENTITIES.get(type(obj))
        if kind is not None:
            if obj in s.dirty and not s.is_modified(obj, include_collections=False):
                continue
            out.append((kind, obj, "id"))
        elif type(obj) in PARENTS:
            kind, attr = PARENTS[type(obj)]
            out.append((kind, obj, attr))
    for obj in s.deleted:
        if type(obj) in PARENTS:
            kind, attr = PARENTS[type(obj)]
            out.append((kind, obj, attr))
    return out


@event.listens_for(Session, "before_flush")
def _collect(s: Session, _ctx: Any, _instances: Any) -> None:
    s.info.setdefault("outbox", []).extend(_changes(s))


@event.listens_for(Session, "after_flush")
def _write(s: Session, _ctx: Any) -> None:
    pending = s.info.pop("outbox", None)
    if not pending:
        return
    now = utcnow()
    ids = sorted({(kind, getattr(obj, attr)) for kind, obj, attr in pending})
    rows = [{"entity": k, "entity_id": i, "created_at": now} for k, i in ids if i]
    if rows:
        s.connection().execute(insert(SyncOutbox), rows)
