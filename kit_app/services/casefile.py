"""The case file (立卷): every paper the case issued, in the archive order ``forms/archive`` gives,
each service receipt after the paper it served, imported PDF evidence with the investigation, and an
annex of the evidence not yet on any issued paper; one PDF with its contents list and page numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from kit_app.db import Store
from kit_app.db.models import Document
from kit_app.dto import OfficerInfo
from kit_app.evidence import media
from kit_app.i18n import _
from kit_app.imaging import can_show
from kit_app.services.documents import DocumentService, _photo_row
from kit_app.timeutil import LOCAL_TZ, utcnow

_KINDS = {media.PHOTO: "照片", media.VIDEO: "视频", media.AUDIO: "录音", media.DOCUMENT: "书证",
          media.READING: "仪器读数", media.PHYSICAL: "物证"}


@dataclass
class CaseFile:
    pdf: bytes
    pages: int
    contents: list[dict[str, Any]]
    warnings: list[str]
    definition: str  # the order followed: "case_file v1"


@dataclass
class Archived:
    event: Any  # the case's 立卷归档 step (CaseEventInfo)
    evidence_id: str  # the case file kept as the case's evidence
    sha256: str
    pages: int
    contents: list[dict[str, Any]]
    warnings: list[str]


class CaseFileService:
    def __init__(self, store: Store, documents: DocumentService | None = None) -> None:
        self.store = store
        self.documents = documents or DocumentService(store)
        self.evidence = self.documents.evidence

    def build(self, case_id: str, compiled_by: OfficerInfo | None = None) -> CaseFile:
        """The case file of ``case_id`` as it stands (a case not yet closed gives its file so far)."""
        from forms.casefile import case_file
        from kit_app.services.cases import CaseService
        from reports.casefile import Paper, Volume, annex, build

        defn = case_file()
        case = CaseService(self.store).get(case_id)
        with self.store.session() as s:
            docs = list(s.scalars(select(Document).where(Document.case_id == case.id)
                                  .order_by(Document.issued_at, Document.id)))
            issued = [(d, json.loads(d.payload_json)) for d in docs]
        every = self.evidence.list_for_case(case.id)
        by_evidence = {i["id"]: i for i in every}
        items = [i for i in every if not (i.get("disposition") or {}).get("excluded")]
        superseded = {d.corrects_id: d for d, _p in issued if d.corrects_id}

        def paper(d: Document, note: str = "") -> Paper:
            sha = by_evidence[d.evidence_id]["sha256"]
            if d.id in superseded:
                note = "已更正" + (f"，见{superseded[d.id].number}" if superseded[d.id].number else "")
            elif d.corrects_id:
                old = next((o for o, _p in issued if o.id == d.corrects_id), None)
                note = "更正" + (old.number or old.title if old is not None else "")
            return Paper(title=d.title, number=d.number, date=_day(d.issued_at), note=note,
                         pdf=self.evidence.blobs.read_bytes(sha))

        # receipts go after the paper they served (by its number, else its title); the rest go last
        receipts = [(d, p) for d, p in issued if d.doc_type == defn.receipt]
        placed: set[str] = set()
        parts: dict[str, list[Paper]] = {p.id: [] for p in defn.parts}
        for d, _payload in issued:
            if d.doc_type == defn.receipt:
                continue
            parts[defn.part_of(d.doc_type).id].append(paper(d))
            for r, rp in receipts:
                if r.id not in placed and ((d.number and rp.get("document_number") == d.number) or
                                           (not rp.get("document_number") and rp.get("document_title") == d.title)):
                    served = paper(r)
                    served.title = f"{r.title}（{d.number or d.title}）"
                    parts[defn.part_of(d.doc_type).id].append(served)
                    placed.add(r.id)
        rest = next(p.id for p in defn.parts if p.rest)
        for r, rp in receipts:
            if r.id not in placed:
                served = paper(r)
                served.title = f"{r.title}（{rp.get('document_number') or rp.get('document_title') or ''}）"
                parts[rest].append(served)

        # evidence: imported PDFs (书证) with the investigation, the rest not yet on a paper in the annex
        annex_part = next(p.id for p in defn.parts if p.annex)
        issued_evidence = {d.evidence_id for d, _p in issued}
        on_paper = " ".join(d.payload_json for d, _p in issued)
        photos, readings, others = [], [], []
        for i in items:
            if i["id"] in issued_evidence:
                continue
            if i["kind"] == media.DOCUMENT and i["media_type"] == "application/pdf" and i["stored_path"]:
                parts[annex_part].append(Paper(title=i["description"] or i["original_name"] or "书证", number=None,
                                               date=_day_iso(i["captured_at"] or i["imported_at"]), note="书证",
                                               pdf=self.evidence.blobs.read_bytes(i["sha256"])))
            elif i["sha256"] and i["sha256"] in on_paper:
                continue
            elif i["kind"] == media.PHOTO and i["sha256"] and can_show(self.evidence.blobs.source(i["sha256"]),
                                                                         i["media_type"]):
                photos.append(_photo_row(self.evidence.readable(i)))
            elif i["kind"] == media.READING and i["sha256"]:
                readings.append(_reading_annex(self.evidence.readable(i)))
            else:
                others.append(i)
        warnings: list[str] = []
        if photos or readings:
            what = "、".join(x for x in (f"照片 {len(photos)} 张" if photos else "",
                                        f"仪器读数 {len(readings)} 组" if readings else "") if x)
            pdf, warned = annex(f"证据附件（{what}）", photos, readings)
            warnings += warned
            parts[annex_part].append(Paper(title=f"证据附件（{what}）", number=None, date=_today(),
                                           note="", pdf=pdf))
        if others:
            parts[annex_part].append(Paper(title="其他证据目录", number=None, date=_today(), note="原件另存",
                                           pdf=_other_evidence(case.number, others)))
        main = [p for part in defn.parts if not part.side for p in parts[part.id]]
        side = [p for part in defn.parts if part.side for p in parts[part.id]]
        cover = {"agency": case.agency_name or "", "title": f"{case.party.get('name') or ''}{case.title}案",
                 "case_number": case.number, "party": case.party.get("name") or "", "cause": case.title,
                 "opened": _day(case.opened_at), "closed": _day(case.closed_at) if case.closed_at else "",
                 "retention": defn.retention, "compiled_by": compiled_by.name if compiled_by else "",
                 "compiled_on": _today()}
        res = build(cover, [Volume("正卷", main), Volume("副卷", side)])
        if not main and not side:
            warnings.append(_("the case has issued no documents and holds no evidence: the file is empty"))
        return CaseFile(res.pdf, res.pages, res.contents, warnings + res.warnings,
                        f"{defn.id} v{defn.version}")


    def archive(self, case_id: str, officer: OfficerInfo, reason: str | None = None) -> Archived:
        """归档: the case file is built, stored as the case's evidence (a custody event ``issued``
        naming the order followed) and the case moves to 已归档 — in one transaction. From then on
        the case is frozen: no paper is issued, no evidence added, captioned or excluded."""
        from kit_app.evidence import custody as C
        from kit_app.evidence.items import NewItem, record_item
        from kit_app.services.lifecycle import ARCHIVE, CaseLifecycle, ProcedureError

        life = CaseLifecycle(self.store)
        st = life.status(case_id, officer)
        step = next((a for a in st.actions if a.id == ARCHIVE), None)
        if step is None:
            raise ProcedureError(_("Case {number} is at {state}: it is archived once it is closed.").format(
                number=st.number, state=st.state_label))
        if not step.allowed:
            raise ProcedureError(step.why_not or _("The case cannot be archived now."))
        built = self.build(case_id, officer)
        ev = self.evidence
        name = f"案卷-{st.number}.pdf"
        with ev.blobs.writing():
            tmp = ev.blobs.scratch() / f"casefile-{st.case_id}.pdf"
            tmp.write_bytes(built.pdf)
            try:
                sha, size, new = ev.blobs.put(tmp)
            finally:
                tmp.unlink(missing_ok=True)
            ev.blobs.sync()
            now = utcnow()
            made: dict[str, Any] = {}

            def record(s: Any, case: Any) -> None:
                item = record_item(s, ev.log, self.store.kit_id, NewItem(
                    case_id=case.id, kind=media.DOCUMENT, name=name, size=size, sha256=sha,
                    media_type="application/pdf", captured_at=now, captured_clock="kit",
                    description=f"案卷（{built.pages} 页）", metadata={"case_file": built.definition,
                                                                  "contents": built.contents}),
                    [officer], event=C.ISSUED, at=now,
                    details={"case_file": built.definition, "pages": built.pages, "papers": len(built.contents)})
                ev.log.flush_checkpoint(s)
                made["id"] = item.id

            try:
                event = life.act(case_id, ARCHIVE, officer, reason=reason, also=record)
            except Exception:
                if new:
                    ev.blobs.remove_new(sha)
                raise
        return Archived(event, made["id"], sha, built.pages, built.contents, built.warnings)


def _reading_annex(i: dict[str, Any]) -> dict[str, Any]:
    from devices.values import load_series

    meta = i.get("metadata") or {}
    inst = meta.get("instrument") or {}
    summary = meta.get("readings") or {}
    _header, series = load_series(i["stored_path"])
    return {"title": i["description"] or "仪器读数", "sha256": i["sha256"],
            "instrument": " ".join(str(x) for x in (inst.get("model"), inst.get("serial") and f"#{inst['serial']}")
                                   if x),
            "start": _minutes(summary.get("first")), "end": _minutes(summary.get("last")),
            "series": [(label, unit, pts) for label, unit, pts in series.values()]}


def _other_evidence(case_number: str, items: list[dict[str, Any]]) -> bytes:
    from reports.casefile import _doc, _styles

    st = _styles()
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    from reports.linebreak import Para

    def p(text: Any, style: str = "cell") -> Any:
        return Para(escape("" if text is None else str(text)), st[style])

    rows = [[p(h, "label") for h in ("序号", "类别", "名称", "封条编号 / SHA-256")]]
    for k, i in enumerate(items, start=1):
        rows.append([p(k), p(_KINDS.get(i["kind"], i["kind"])), p(i["description"] or i["original_name"] or ""),
                     p(i["seal_no"] or i["sha256"] or "", "small")])
    t = Table(rows, colWidths=[12 * mm, 20 * mm, 55 * mm, 78 * mm], repeatRows=1)
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return _doc([p("其他证据目录", "title"), p(f"{case_number}：以下证据的原件（视频、录音、电子文档）或实物另行保存，"
                                           "SHA-256 用于核对原件。", "cell"), t])


def _day(v: Any) -> str:
    return v.astimezone(LOCAL_TZ).date().isoformat() if v is not None else ""


def _day_iso(v: str | None) -> str:
    from datetime import datetime

    return _day(datetime.fromisoformat(v)) if v else ""


def _minutes(v: str | None) -> str:
    from datetime import datetime

    return datetime.fromisoformat(v).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if v else ""


def _today() -> str:
    return utcnow().astimezone(LOCAL_TZ).date().isoformat()


__all__ = ["Archived", "CaseFile", "CaseFileService"]
