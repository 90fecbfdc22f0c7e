"""Issuing enforcement documents: numbering without collisions between kits, and freezing.

Numbers come from the blocks reserved for this kit (``kit_app.services.numbering``); the next one
is taken in the same transaction as the document, so two kits never issue the same number and a
kit never reuses one.

Refusals: a paper the party refused to sign (or accept), or signed in its absence, says so, with the
reason, the witness and the photo that shows it (field type ``signing``); the photo must be evidence
of the case and its custody log points back to the paper.

Issuing freezes a document: the validated payload, its content hash and its PDF are stored; the
PDF is an evidence item of the case with a custody event ``issued``; the row cannot be updated or
deleted. A correction is a new document that names the one it corrects.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kit_app import roles as R
from kit_app.db import Store
from kit_app.db.models import Agency, Case, Document, EvidenceItem, Source
from kit_app.dto import OfficerInfo
from kit_app.errors import KitError, NotFound, PermissionDenied, ValidationError
from kit_app.evidence import custody as C
from kit_app.evidence import media
from kit_app.evidence.items import NewItem, record_item
from kit_app.evidence.service import EvidenceService
from kit_app.i18n import _
from kit_app.ids import new_id
from kit_app.imaging import can_show
from kit_app.services.numbering import NumberingService
from kit_app.sync.pull import forms_dir
from kit_app.timeutil import LOCAL_TZ, format_local, utcnow


@dataclass(frozen=True)
class IssuedDocument:
    id: str
    case_id: str
    doc_type: str
    title: str
    number: str | None
    content_sha256: str
    evidence_id: str
    pdf_sha256: str
    pages: int
    corrects_id: str | None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__} | {"warnings": list(self.warnings)}


class DocumentService:
    def __init__(self, store: Store, evidence: EvidenceService | None = None) -> None:
        self.store = store
        self.evidence = evidence or EvidenceService(store)
        self.numbers = NumberingService(store)
        if forms_dir(store).is_dir():  # the definitions this kit pulled from the central server
            import forms.model

            forms.model.use_directory(forms_dir(store))

    # ------------------------------------------------------------ issuing
    def issue(self, case_id: str, officer: OfficerInfo, doc_type: str, payload: dict[str, Any], *,
              corrects: str | None = None, others: list[OfficerInfo] | None = None) -> IssuedDocument:
        """Validate, number, render and freeze a document of a case; its PDF becomes evidence."""
        import forms
        from reports import render

        R.require(officer, "document.issue")
        try:
            defn = forms.get(doc_type)
        except KeyError as exc:
            raise ValidationError(str(exc.args[0]), "type") from None
        data = defn.validate(payload)
        ev = self.evidence
        self._not_archived(case_id)
        shown = self._signing_photos(case_id, defn, data)
        now = utcnow()
        year = now.astimezone(LOCAL_TZ).year
        doc_id = new_id()
        officers = [officer, *[o for o in (others or []) if o.id != officer.id]]
        with ev.blobs.writing():  # one writer of the kit's store at a time (imports, captures, documents)
            for _attempt in range(3):
                # read what the document needs; render it outside SQLite's write lock; then write, after
                # checking that its number is still the next one (else render again with the new one)
                with self.store.session() as s:
                    case_id_, agency_code, seq, number = self._numbering(s, case_id, corrects, defn.id,
                                                                         bool(defn.number), year)
                res = render(defn, data, doc_id=doc_id, number=number, seal_text=self.seal_text(case_id))
                tmp = ev.blobs.scratch() / f"document-{doc_id}.pdf"
                tmp.write_bytes(res.pdf)
                try:
                    sha, size, new = ev.blobs.put(tmp)
                finally:
                    tmp.unlink(missing_ok=True)
                ev.blobs.sync()
                with self.store.write_session() as s:
                    if self._numbering(s, case_id, corrects, defn.id, bool(defn.number), year) != \
                            (case_id_, agency_code, seq, number):
                        if new:
                            ev.blobs.remove_new(sha)
                        continue
                    issued = self._record_issued(s, defn, data, res, doc_id=doc_id, case_id=case_id_,
                                                 agency_code=agency_code, seq=seq, number=number, year=year,
                                                 sha=sha, size=size, officer=officer, officers=officers,
                                                 corrects=corrects, now=now)
                    for evidence_id, note in shown:  # the photo of a refusal points to the paper it concerns
                        ev.log.append(s, evidence_id=evidence_id, case_id=case_id_, kind=C.ANNOTATED,
                                      actors=[C.actor(officer)], item_sha256=None,
                                      reason=note.format(title=defn.title, number=number or ""),
                                      details={"document": doc_id}, at=now)
                    ev.log.flush_checkpoint(s)
                    return issued
        raise KitError(_("The document could not be numbered: numbers were being taken while it was issued. "
                         "Issue it again."))

    def seal_text(self, case_ref: str) -> str | None:
        """The words of the seal of the case's agency, as its settings give them (None: its name)."""
        with self.store.session() as s:
            row = s.execute(select(Agency.seal_text).join(Case, Case.agency_id == Agency.id).where(
                (Case.id == case_ref) | (Case.number == case_ref))).first()
            return row[0] if row else None

    def _not_archived(self, case_ref: str) -> None:
        """An archived case is frozen: no paper is added to its file."""
        from forms.procedure import case_procedure

        with self.store.session() as s:
            case = s.scalar(select(Case).where((Case.id == case_ref) | (Case.number == case_ref)))
            state = case_procedure().states.get(case.status) if case is not None else None
            if case is not None and state is not None and state.final:
                raise PermissionDenied(_("Case {number} is archived: its file is closed and no document can be "
                                         "issued for it.").format(number=case.number))

    def _signing_photos(self, case_ref: str, defn: Any, data: dict[str, Any]) -> list[tuple[str, str]]:
        """A photo or clip named for a refusal or absence must be evidence of this case; the printed
        note names it by file name and SHA-256 (never by its internal id). Fills ``photo_label``."""
        out: list[tuple[str, str]] = []
        for f in defn.fields:
            signing = data.get(f.name) if f.type == "signing" else None
            if not signing or not signing.get("photo"):
                if signing:
                    signing.pop("photo_label", None)
                continue
            with self.store.session() as s:
                item = s.get(EvidenceItem, signing["photo"])
                case = s.scalar(select(Case).where((Case.id == case_ref) | (Case.number == case_ref)))
                if item is None or case is None or item.case_id != case.id or \
                        item.kind not in (media.PHOTO, media.VIDEO):
                    raise ValidationError(_("{label}: the photo or video named is not evidence of this case; "
                                            "choose one of the case's photos").format(label=f.label), f.name)
                signing["photo_label"] = _printed_photo(item.description or item.original_name, item.sha256)
            out.append((item.id, _("shows how the party signed {title} {number}")))
        return out

    def signing_photos(self, case_id: str) -> list[dict[str, str]]:
        """The case's photos and clips, newest first: id, what the officer recognises them by, and how
        a document prints them."""
        items = [i for i in self.evidence.list_for_case(case_id) if i["kind"] in (media.PHOTO, media.VIDEO)]
        out = []
        for i in reversed(items):
            name = i.get("description") or i.get("original_name")
            when = (_local_minutes(i.get("captured_at") or i.get("imported_at")) or "").replace("T", " ")
            out.append({"id": i["id"], "label": f"{name or '—'} · {when}",
                        "printed": _printed_photo(name, i.get("sha256"))})
        return out

    @staticmethod
    def _check_prerequisites(s: Any, case_id: str, doc_type: str) -> None:
        """A paper that follows another (an extension follows the 查封 decision, a decision the notice
        that told the party) is refused, the missing paper named, until the case has issued it."""
        import forms

        issued = set(s.scalars(select(Document.doc_type).where(Document.case_id == case_id)))
        for need in forms.get(doc_type).requires:
            if not issued & set(need):
                titles = "或".join(f"《{forms.get(t).title}》" for t in need)
                raise ValidationError(_("Issue {titles} of this case first: {title} follows it.").format(
                    titles=titles, title=forms.get(doc_type).title), "type")

    def _numbering(self, s: Any, case_id: str, corrects: str | None, doc_type: str, numbered: bool,
                   year: int) -> tuple[str, str | None, int | None, str | None]:
        """The case's id and agency and the document's next number (read only): refused, with the
        field named, when the case or the corrected document is not there or no number is free."""
        case = s.scalar(select(Case).where((Case.id == case_id) | (Case.number == case_id)))
        if case is None:
            raise NotFound(_("No case with id or number {id}.").format(id=case_id))
        if corrects:
            old = s.get(Document, corrects)
            if old is None or old.case_id != case.id:
                raise ValidationError(_("The document to correct ({id}) is not a document of this case.")
                                      .format(id=corrects), "corrects")
        if not corrects:
            self._check_prerequisites(s, case.id, doc_type)
        agency_code = s.scalar(select(Agency.code).where(Agency.id == case.agency_id)) if case.agency_id else None
        seq = number = None
        if numbered:
            if agency_code is None:
                raise ValidationError(_("The case has no agency, so the document cannot be numbered."), "agency")
            seq, number = self.numbers.next_number(s, agency_code, doc_type, year)
        return case.id, agency_code, seq, number

    def _record_issued(self, s: Any, defn: Any, data: dict[str, Any], res: Any, *, doc_id: str, case_id: str,
                       agency_code: str | None, seq: int | None, number: str | None, year: int, sha: str,
                       size: int, officer: OfficerInfo, officers: list[OfficerInfo], corrects: str | None,
                       now: Any) -> IssuedDocument:
        """The issued document's evidence item, its row and its custody events, in one transaction."""
        ev = self.evidence
        title = defn.title_for(data)  # as printed: it may follow a choice (事先告知书 without a hearing)
        name = f"{title}-{number or doc_id[:8]}.pdf"
        details = {"document": doc_id, "type": defn.id, "version": defn.version, "number": number,
                   "content_sha256": res.content_sha256, "corrects": corrects}
        new = NewItem(case_id=case_id, kind=media.DOCUMENT, name=name, size=size, sha256=sha,
                      media_type="application/pdf", captured_at=now, captured_clock="kit",
                      description=title + (f" {number}" if number else ""),
                      metadata={"document": {"id": doc_id, "type": defn.id, "version": defn.version,
                                             "number": number, "content_sha256": res.content_sha256,
                                             "pages": res.pages, "corrects": corrects}},
                      warnings=list(res.warnings))
        item = record_item(s, ev.log, self.store.kit_id, new, officers, event=C.ISSUED, at=now, details=details)
        s.add(Document(id=doc_id, case_id=case_id, doc_type=defn.id, def_version=defn.version,
                       title=title, number=number, agency_code=agency_code if seq else None,
                       year=year if seq else None, seq=seq,
                       payload_json=json.dumps(data, ensure_ascii=False, sort_keys=True),
                       content_sha256=res.content_sha256, evidence_id=item.id, corrects_id=corrects,
                       issued_by=officer.id, issued_at=now, created_at=now, updated_at=now,
                       origin_kit=self.store.kit_id))
        s.flush()
        if corrects:
            old = s.get(Document, corrects)
            ev.log.append(s, evidence_id=old.evidence_id, case_id=case_id, kind=C.ANNOTATED,
                          actors=[C.actor(officer)], item_sha256=None,
                          reason=_("corrected by {title} {number}").format(title=title, number=number or doc_id),
                          details={"corrected_by": doc_id}, at=now)
        ev.log.flush_checkpoint(s)
        return IssuedDocument(doc_id, case_id, defn.id, title, number, res.content_sha256, item.id,
                              res.pdf_sha256, res.pages, corrects, tuple(res.warnings))

    # ------------------------------------------------------------ auto-fill from the case
    def prefill(self, case_id: str, doc_type: str, officer: OfficerInfo | None,
                evidence_id: str | None = None, *, logger_item: str | None = None,
                limits: dict[str, float] | None = None, sessions: list[str] | None = None,
                crosscheck: dict[str, Any] | None = None) -> dict[str, Any]:
        """A payload for ``doc_type`` filled from the case, its evidence and the officer, following
        each field's ``source``; fields without one get their default. Editors start from it. The
        ``logger.*`` sources are the cross-check of the case's (latest, or ``logger_item``) data
        logger record against its analyzer sessions, with the emission ``limits`` given — or
        ``crosscheck``, one already run (``MonitoringService.check``, in Chinese)."""
        import forms
        from kit_app.services.cases import CaseService

        defn = forms.get(doc_type)
        case = CaseService(self.store).get(case_id)
        legal_rep = None
        if case.party.get("source_id"):
            with self.store.session() as s:
                src = s.scalar(select(Source).where(Source.id == case.party["source_id"]))
                legal_rep = src.legal_rep if src is not None else None
        now = utcnow().astimezone(LOCAL_TZ)
        # an item the officer excluded stays in custody but is not listed or printed as evidence
        items = [i for i in self.evidence.list_for_case(case.id) if not (i.get("disposition") or {}).get("excluded")]
        reading = next((i for i in reversed(items) if i["kind"] == media.READING
                        and i["media_type"] != media.LOGGER_EXCHANGE  # a logger's record has its own form
                        and (evidence_id is None or i["id"] == evidence_id)), None)
        values: dict[str, Any] = {
            "case.agency_name": case.agency_name, "case.number": case.number, "case.title": case.title,
            "case.party.name": case.party.get("name"), "case.party.address": case.party.get("address"),
            "case.party.credit_code": case.party.get("credit_code"), "case.party.legal_rep": legal_rep,
            "case.officers": [{"name": o.name, "cert_no": o.cert_no} for o in case.officers],
            "officer.name": officer.name if officer else None, "officer.cert_no": officer.cert_no if officer else None,
            "now": now.strftime("%Y-%m-%dT%H:%M"), "today": now.date().isoformat(),
            "case.evidence.photos": [_photo_row(self.evidence.readable(i)) for i in items
                                     if i["kind"] == media.PHOTO and i["sha256"]
                                     and can_show(self.evidence.blobs.source(i["sha256"]), i["media_type"])],
            "case.evidence": [_evidence_row(i) for i in items],
        }
        if reading is not None:
            values |= _reading_values(self.evidence.readable(reading))
        if any(f.source and f.source.startswith("logger.") for f in defn.fields):
            from kit_app.services.monitoring import MonitoringService

            monitoring = MonitoringService(self.store)
            with contextlib.suppress(NotFound):  # no logger read in this case: the officer fills it in by hand
                values |= (monitoring.record_values(crosscheck) if crosscheck is not None
                           else monitoring.record_payload_values(case.id, limits, logger_item, sessions))
        from kit_app.services.inspections import InspectionService

        values |= InspectionService(self.store).prefill_values(case.id)  # nothing for a case without one
        from kit_app.divisions import review_body

        with self.store.session() as s:  # the agency's own settings first, then what its division implies
            agency = s.scalar(select(Agency).where(Agency.code == case.agency_code)) if case.agency_code else None
            values["agency.court"] = agency.court if agency is not None else None
            values["agency.review_body"] = (agency.review_body if agency is not None else None) or \
                (review_body(case.agency_code) if case.agency_code else None)
        with self.store.session() as s:  # the decision a service receipt is for: the latest numbered one
            decision = s.scalars(select(Document).where(Document.case_id == case.id, Document.number.is_not(None))
                                 .order_by(Document.issued_at.desc())).first()
            if decision is not None:
                values |= {"case.decision.title": decision.title, "case.decision.number": decision.number}
            values |= _earlier_documents(s, case.id)
        out: dict[str, Any] = {}
        for f in defn.fields:
            v = values.get(f.source) if f.source else None
            if v in (None, "", []) and f.default is not None:
                v = f.default
            if v not in (None, "", []):
                out[f.name] = v
        return out

    def attach_signed_copy(self, doc_id: str, officer: OfficerInfo, path: Path) -> str:
        """The photo or scan of the signed paper becomes evidence, linked to the document."""
        with self.store.session() as s:
            d = s.get(Document, doc_id)
            if d is None:
                raise NotFound(_("No document with id {id}.").format(id=doc_id))
            case_id, evidence_id, title, number = d.case_id, d.evidence_id, d.title, d.number
        [res] = self.evidence.ingest(case_id, officer, [path],
                                     description=_("signed copy of {title} {number}").format(
                                         title=title, number=number or doc_id[:8]))
        if res.status == "error":
            raise ValidationError(res.error or "", "file")
        self.evidence.record(evidence_id, C.ANNOTATED, officer,
                             reason=_("signed copy attached"), details={"signed_copy": res.evidence_id})
        return res.evidence_id or ""

    def record_printed(self, doc_ids: list[str], officer: OfficerInfo | None, printer: str) -> None:
        """A custody event ``printed`` for each document printed (by review staff, for example)."""
        with self.store.session() as s:
            targets = [s.get(Document, d) for d in doc_ids]
        for d in targets:
            if d is not None:
                self.evidence.record(d.evidence_id, C.PRINTED, officer, details={"printer": printer,
                                                                                  "document": d.id})

    def list_for_case(self, case_id: str) -> list[dict[str, Any]]:
        with self.store.session() as s:
            rows = s.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.issued_at)).all()
            return [{"id": d.id, "type": d.doc_type, "version": d.def_version, "title": d.title, "number": d.number,
                     "content_sha256": d.content_sha256, "evidence_id": d.evidence_id, "corrects": d.corrects_id,
                     "issued_at": d.issued_at.isoformat(), "issued_by": d.issued_by} for d in rows]

    def find(self, doc_type: str | None = None, issued_on: date | None = None,
             limit: int = 500) -> list[dict[str, Any]]:
        """Issued documents across cases (review staff print them in batches): of one type, issued on
        one local day, newest first; each with its case's number and party."""
        q = select(Document, Case.number, Case.party_name).join(Case, Case.id == Document.case_id)
        if doc_type:
            q = q.where(Document.doc_type == doc_type)
        if issued_on is not None:
            start = datetime.combine(issued_on, datetime.min.time(), tzinfo=LOCAL_TZ)
            q = q.where(Document.issued_at >= start, Document.issued_at < start + timedelta(days=1))
        with self.store.session() as s:
            rows = s.execute(q.order_by(Document.issued_at.desc()).limit(limit)).all()
            return [{"id": d.id, "type": d.doc_type, "title": d.title, "number": d.number, "case_id": d.case_id,
                     "case_number": number, "party": party, "issued_at": d.issued_at.isoformat(),
                     "issued_local": format_local(d.issued_at)} for d, number, party in rows]

    def get(self, doc_id: str) -> dict[str, Any]:
        """An issued document with its frozen payload."""
        with self.store.session() as s:
            d = s.get(Document, doc_id)
            if d is None:
                raise NotFound(_("No document with id {id}.").format(id=doc_id))
            return {"id": d.id, "case_id": d.case_id, "type": d.doc_type, "version": d.def_version, "title": d.title,
                    "number": d.number, "payload": json.loads(d.payload_json), "content_sha256": d.content_sha256,
                    "evidence_id": d.evidence_id, "corrects": d.corrects_id}

    def check_code(self, code: str) -> dict[str, Any]:
        """Check the QR code of a paper copy (``kitdoc:<id>:<sha256>``) against the issued record:
        ``ok`` only if the document exists here and its content hash is the one printed."""
        parts = code.strip().split(":")
        if len(parts) == 3 and parts[0] == "kitdoc-specimen":
            why = _("this paper is a specimen (a preview or an example): it was never issued")
            return {"ok": False, "id": parts[1], "reason": why}
        if len(parts) != 3 or parts[0] != "kitdoc" or len(parts[2]) != 64:
            raise ValidationError(_("Not a document code (kitdoc:<id>:<SHA-256>): {code}").format(code=code[:80]),
                                  "code")
        _kind, doc_id, sha = parts
        with self.store.session() as s:
            d = s.get(Document, doc_id)
            if d is None:
                return {"ok": False, "id": doc_id, "reason": _("no document with this id was issued on this kit")}
            info = {"id": d.id, "title": d.title, "number": d.number, "case_id": d.case_id,
                    "issued_at": d.issued_at.isoformat(), "issued_local": format_local(d.issued_at),
                    "content_sha256": d.content_sha256}
        if d.content_sha256 != sha:
            return {"ok": False, **info, "printed_sha256": sha,
                    "reason": _("the content hash printed differs from the issued document's: this paper is not "
                                "the issued document")}
        return {"ok": True, **info}

    def pdf_path(self, doc_id: str) -> Path:
        with self.store.session() as s:
            d = s.get(Document, doc_id)
            if d is None:
                raise NotFound(_("No document with id {id}.").format(id=doc_id))
            sha = s.scalar(select(EvidenceItem.sha256).where(EvidenceItem.id == d.evidence_id))
            if sha is None:
                raise NotFound(_("No document with id {id}.").format(id=doc_id))
            return self.evidence.blobs.plain(sha)


def _local_minutes(iso: str | None) -> str | None:
    from datetime import datetime

    if not iso:
        return None
    return datetime.fromisoformat(iso).astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def _printed_photo(name: str | None, sha256: str | None) -> str:
    """A photo as a document names it: its name and the start of its SHA-256."""
    sha = f"SHA-256 {(sha256 or '')[:16]}…"
    return f"{name}（{sha}）" if name else sha


def _place(i: dict[str, Any]) -> str:
    if i.get("place"):
        return str(i["place"])
    if i.get("latitude") is not None:
        return f"{i['latitude']:.5f}, {i['longitude']:.5f}"
    return "—"


def _photo_row(i: dict[str, Any]) -> dict[str, Any]:
    return {"image": i["stored_path"], "evidence_id": i["id"],
            "caption": i.get("description") or i.get("original_name") or "—",
            "time": _local_minutes(i.get("captured_at") or i.get("imported_at")), "place": _place(i),
            "photographer": "、".join(o["name"] for o in i["officers"]) or "—", "device": i.get("device") or "",
            "sha256": i.get("sha256") or ""}


_KIND_NAMES = {media.PHOTO: "照片", media.VIDEO: "视频", media.AUDIO: "录音", media.DOCUMENT: "文书",
               media.READING: "仪器读数", media.PHYSICAL: "物证"}


def _evidence_row(i: dict[str, Any]) -> dict[str, Any]:
    pages = (i.get("metadata") or {}).get("document", {}).get("pages")
    return {"name": (i.get("description") or i.get("original_name") or "—")[:100],
            "kind": _KIND_NAMES.get(i["kind"], i["kind"]),
            "collected": _local_minutes(i.get("captured_at") or i.get("imported_at")),
            "collector": "、".join(o["name"] for o in i["officers"])[:40],
            "source": _evidence_source(i),
            "quantity": f"{pages} 页" if pages else ("1 件" if i["kind"] == media.PHYSICAL else "1 份"),
            "sha256": (i.get("sha256") or i.get("seal_no") or "")[:16], "proves": ""}


# later papers name earlier ones: source prefix → (document type, {key: payload field or "number"/"title"})
_EARLIER = {
    "case.notice": ("penalty_notice", {"title": "title", "number": "number", "date": "issue_date"}),
    "case.seizure": ("seizure_decision", {"number": "number", "date": "start_date", "end": "end_date"}),
    "case.preservation": ("evidence_preservation_notice", {"number": "number", "date": "issue_date"}),
    "case.order": ("order_to_correct", {"number": "number"}),
    "case.penalty_decision": ("penalty_decision", {"number": "number", "date": "issue_date"}),
}


def _earlier_documents(s: Any, case_id: str) -> dict[str, Any]:
    """What later papers take from the case's latest document of each kind (e.g. a decision names the
    notice that told the party, by its title as printed, number and date)."""
    out: dict[str, Any] = {}
    for prefix, (doc_type, keys) in _EARLIER.items():
        doc = s.scalars(select(Document).where(Document.case_id == case_id, Document.doc_type == doc_type)
                        .order_by(Document.issued_at.desc())).first()
        if doc is None:
            continue
        payload = json.loads(doc.payload_json)
        for key, what in keys.items():
            out[f"{prefix}.{key}"] = getattr(doc, what) if what in ("number", "title") else payload.get(what)
    return out


def _evidence_source(i: dict[str, Any]) -> str:
    """Where an item came from, as an evidence list says it (printed in Chinese)."""
    device = f"（{i['device']}）" if i.get("device") else ""
    if i["kind"] == media.DOCUMENT:
        return "本机关制作"
    if i["media_type"] == media.LOGGER_EXCHANGE:
        return "现场读取企业数采仪数据（HJ 212）"
    if i["kind"] == media.READING:
        return ("便携式仪器现场监测" + device)[:60]
    if i["kind"] in (media.PHOTO, media.VIDEO, media.AUDIO):
        return ("执法人员现场" + ("录音" if i["kind"] == media.AUDIO else "拍摄") + device)[:60]
    return "执法人员现场提取"


def _reading_values(i: dict[str, Any]) -> dict[str, Any]:
    from devices.values import load_series

    meta = i.get("metadata") or {}
    inst = meta.get("instrument") or {}
    gps = meta.get("gps") or {}
    rows: list[dict[str, Any]] = []
    if i.get("stored_path"):
        from datetime import datetime

        _header, series = load_series(i["stored_path"])
        for _key, (label, unit, pts) in series.items():
            rows += [{"time": datetime.fromtimestamp(t, LOCAL_TZ).strftime("%Y-%m-%dT%H:%M:%S"),
                      "quantity": label, "value": v, "unit": unit} for t, v in pts[:500]]
    summary = meta.get("readings") or {}
    return {
        "evidence.instrument.model": inst.get("model"), "evidence.instrument.serial": inst.get("serial"),
        "evidence.instrument.calibrated": inst.get("calibrated"),
        "evidence.gps": f"{gps['latitude']:.5f}, {gps['longitude']:.5f}" if gps.get("fix") else None,
        "evidence.sha256": i.get("sha256"), "evidence.readings": rows,
        "evidence.start": _local_minutes(summary.get("first")), "evidence.end": _local_minutes(summary.get("last")),
    }
