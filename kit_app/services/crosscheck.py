"""Issuing the cross-check record of a data logger (在线监控数据比对记录) and making a suspicion a
finding of the inspection. Above both the documents and the inspections (which a document's
auto-fill draws on), so neither needs to know of the other's part in it."""

from __future__ import annotations

from typing import Any

from kit_app.dto import OfficerInfo
from kit_app.errors import NotFound, PermissionDenied
from kit_app.services.documents import DocumentService
from kit_app.services.inspections import InspectionService
from kit_app.services.monitoring import FIRED, MonitoringService, printed

RECORD = "monitoring_crosscheck"


class CrossCheckService:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.monitoring = MonitoringService(store)

    def issue_record(self, case_ref: str, officer: OfficerInfo, *, limits: dict[str, float] | None = None,
                     place: str, conditions: str | None = None, logger_item: str | None = None,
                     others: list[OfficerInfo] | None = None, sessions: list[str] | None = None) -> dict[str, Any]:
        """Issue the cross-check record of the case; when a check fired, the suspicion becomes a
        finding of the case's inspection (while it is under way) with the violation it points to,
        citing the logger's record, the analyzer's sessions and the issued record."""
        with printed():
            res = self.monitoring.check(case_ref, limits, logger_item, sessions)
        docs = DocumentService(self.store, self.monitoring.evidence)
        payload = docs.prefill(res["case_id"], RECORD, officer, crosscheck=res)  # the check is not run again
        payload["place"] = place
        if conditions:
            payload["conditions"] = conditions
        issued = docs.issue(res["case_id"], officer, RECORD, payload, others=others)
        out = {"check": res, "document_id": issued.id, "number": issued.number,
               "document_evidence_id": issued.evidence_id, "finding_id": None}
        if res["suspicious"]:
            out["finding_id"] = self._finding(res, officer, issued.evidence_id)
        return out

    def _finding(self, res: dict[str, Any], officer: OfficerInfo, record_evidence: str) -> str | None:
        fired = [c for c in res["checks"] if c["status"] == FIRED]
        with printed():
            text = f"数采仪（MN {res['mn']}）数据经比对异常：" + "；".join(
                f"{c['title']}——{c['summary']}" for c in fired)
        evidence = [res["logger_evidence_id"], *[s["evidence_id"] for s in res["analyzer_sessions"]], record_evidence]
        svc = InspectionService(self.store)
        try:
            status = svc.status(res["case_id"])
        except NotFound:
            return None  # a case without an inspection: the record stands on its own
        item = "om_consistency" if any(i.item.id == "om_consistency" for i in status.items) else None
        try:
            return svc.add_finding(res["case_id"], officer, text[:2000], item_id=item,
                                   violation_id=res.get("violation"), evidence_ids=evidence)
        except PermissionDenied:
            return None  # the inspection has ended: the record is issued, the finding is for the officer
