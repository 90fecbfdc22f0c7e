"""What the kit sends of a record: a case (with its officers, agency, history and — for an
inspection — its steps, answers and findings), an evidence item or an issued document, as the JSON
body the server validates and keeps."""

from __future__ import annotations

import json
from typing import Any


def snapshot(s: Any, entity: str, entity_id: str) -> dict[str, Any] | None:
    from sqlalchemy import select

    from kit_app.db.models import Case, Document, EvidenceItem

    model = {"case": Case, "evidence": EvidenceItem, "document": Document}[entity]
    obj = s.get(model, entity_id)
    if obj is None:
        return None
    body: dict[str, Any] = {}
    for col in obj.__table__.columns:
        v = getattr(obj, col.key)
        body[col.name] = v.isoformat() if hasattr(v, "isoformat") else v
    if entity in ("case", "evidence"):
        body["officers"] = [o.officer_id for o in obj.officers]
    if entity == "case":
        from kit_app.db.models import Agency, CaseEvent

        body["agency_code"] = s.scalar(select(Agency.code).where(Agency.id == obj.agency_id)) if obj.agency_id \
            else None
        body["history"] = [
            {"id": e.id, "seq": e.seq, "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
             "at": e.at.isoformat(), "actor_id": e.actor_id, "actor_name": e.actor_name, "actor_cert": e.actor_cert,
             "reason": e.reason, "details": json.loads(e.details)}
            for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == entity_id).order_by(CaseEvent.seq))]
        if obj.kind == "inspection":
            body["inspection"] = _inspection_snapshot(s, entity_id)
    return {"entity": entity, "id": entity_id, "row_version": body.get("row_version") or 1, "body": body}


def _inspection_snapshot(s: Any, case_id: str) -> dict[str, Any] | None:
    """An inspection's record as the server keeps it: origin, team, opening steps, answers, findings."""
    from sqlalchemy import select

    from kit_app.db.models import Finding, Inspection, InspectionAnswer, InspectionStep

    insp = s.get(Inspection, case_id)
    if insp is None:
        return None

    def at(v: Any) -> Any:
        return v.isoformat() if v is not None else None

    return {
        "origin": insp.origin, "origin_ref": insp.origin_ref, "place": insp.place,
        "checklists": json.loads(insp.checklists), "catalogue": insp.catalogue, "started_at": at(insp.started_at),
        "team": [{"officer_id": m.officer_id, "recorder": m.recorder, "confirmed_at": at(m.confirmed_at)}
                 for m in sorted(insp.officers, key=lambda m: m.officer_id)],
        "steps": [{"id": st.id, "step": st.step, "at": at(st.at), "officer_id": st.officer_id,
                   "details": json.loads(st.details), "evidence_id": st.evidence_id}
                  for st in s.scalars(select(InspectionStep).where(InspectionStep.case_id == case_id)
                                      .order_by(InspectionStep.at, InspectionStep.id))],
        "answers": [{"item_id": a.item_id, "answer": a.answer, "note": a.note,
                     "evidence_ids": json.loads(a.evidence_ids), "answered_by": a.answered_by,
                     "answered_at": at(a.answered_at)}
                    for a in s.scalars(select(InspectionAnswer).where(InspectionAnswer.case_id == case_id)
                                       .order_by(InspectionAnswer.item_id))],
        "findings": [{"id": f.id, "item_id": f.item_id, "violation_id": f.violation_id, "description": f.description,
                      "evidence_ids": json.loads(f.evidence_ids), "created_by": f.created_by, "at": at(f.at)}
                     for f in s.scalars(select(Finding).where(Finding.case_id == case_id).order_by(Finding.at))],
    }
