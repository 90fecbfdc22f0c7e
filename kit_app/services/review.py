"""Review (案件审查, 法制审核, 立卷归档) for review staff: the queue of cases waiting for them, most
urgent first, and a completeness check per case — the papers and evidence its violations call for
(``forms/review/completeness.json``), how the party signed each paper, the legal deadlines, the
custody chain. Approving, sending back and opinions are steps of the case procedure
(``CaseLifecycle``); this service only reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kit_app.db import Store
from kit_app.db.models import Case, CustodyEvent, Document, EvidenceItem, Finding
from kit_app.dto import OfficerInfo
from kit_app.evidence import media
from kit_app.i18n import _, language
from kit_app.services.lifecycle import CaseLifecycle, CaseStatus

# the states where a case waits for review staff, and the step they take there
WAITING = {"investigation_closed": "start_review", "under_review": "approve_review",
           "legal_review": "approve_legal_review", "closed": "archive"}

_KIND_LABELS = {media.PHOTO: ("照片", "photo"), media.VIDEO: ("视频", "video"), media.AUDIO: ("录音", "recording"),
                media.DOCUMENT: ("书证", "documentary evidence"), media.READING: ("仪器读数", "instrument readings"),
                media.PHYSICAL: ("物证", "physical item")}


@dataclass(frozen=True)
class QueueRow:
    case_id: str
    number: str
    title: str
    party: str
    state: str
    state_label: str
    step: str  # the action review staff take next
    step_label: str
    due: date | None  # the nearest open deadline
    due_label: str
    days_left: int | None
    overdue: bool
    remote: bool = False  # held by another kit: seen and reviewed through the central server
    pending: int = 0  # steps sent to that kit it has not taken yet


@dataclass(frozen=True)
class Check:
    id: str  # documents, evidence, signatures, deadlines, custody
    label: str
    ok: bool
    details: tuple[str, ...]  # what is missing or wrong, in the reviewer's words


@cache
def completeness_rules() -> dict[str, Any]:
    """What a case's papers and evidence must include, by its violations' categories (versioned data)."""
    import forms

    path = Path(forms.__file__).parent / "review" / "completeness.json"
    rules: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return rules


class ReviewService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.life = CaseLifecycle(store)

    def queue(self, reviewer: OfficerInfo | None, step: str | None = None, due_within: int | None = None,
              today: date | None = None) -> list[QueueRow]:
        """Cases waiting for review staff (``step``: only those waiting for that step; ``due_within``:
        only those with a deadline in that many days or overdue), the most urgent first."""
        with self.store.session() as s:
            ids = list(s.scalars(select(Case.id).where(Case.status.in_(list(WAITING)))))
        rows: list[QueueRow] = []
        for cid in ids:
            st = self.life.status(cid, reviewer, today)
            wanted = WAITING[st.state]
            if step is not None and wanted != step:
                continue
            open_ = sorted((d for d in st.deadlines if d.open and d.due is not None), key=lambda d: d.due)
            nearest = open_[0] if open_ else None
            if due_within is not None and (nearest is None or (nearest.days_left or 0) > due_within):
                continue
            action = self.life.procedure.actions[wanted]
            rows.append(QueueRow(
                case_id=st.case_id, number=st.number, title=st.title, party=st.party_name, state=st.state,
                state_label=st.state_label, step=wanted,
                step_label=action.label if language() == "zh_CN" else action.label_en,
                due=nearest.due if nearest else None, due_label=nearest.label if nearest else "",
                days_left=nearest.days_left if nearest else None, overdue=bool(nearest and nearest.overdue)))
        rows.sort(key=lambda r: (r.due is None, r.due or date.max, r.number))
        return rows

    def check(self, case_id: str, reviewer: OfficerInfo | None = None, verify_custody: bool = True) -> list[Check]:
        """The completeness of the case as a reviewer checks it before approving."""
        st = self.life.status(case_id, reviewer)
        rules = completeness_rules()
        with self.store.session() as s:
            case = s.scalar(select(Case).where((Case.id == case_id) | (Case.number == case_id)))
            assert case is not None  # status() found it
            docs = list(s.scalars(select(Document).where(Document.case_id == case.id)))
            items = list(s.scalars(select(EvidenceItem).where(EvidenceItem.case_id == case.id)))
            violations = [v for v in s.scalars(select(Finding.violation_id).where(Finding.case_id == case.id)) if v]
            excluded = _excluded(s, case.id)
            copies = {json.loads(b).get("evidence_id") for b in s.scalars(
                select(CustodyEvent.body).where(CustodyEvent.case_id == case.id, CustodyEvent.kind == "annotated"))
                if "signed_copy" in b}
        categories = _categories(violations)
        wanted = [rules["always"]] + [rules["by_category"][c] for c in categories if c in rules["by_category"]]
        issued = {d.doc_type for d in docs}
        kinds = {i.kind for i in items if i.id not in excluded and not _is_paper(i, docs)}
        missing_docs = [_alternatives([_doc_title(t) for t in alt]) for need in wanted
                        for alt in need.get("documents", []) if not issued & set(alt)]
        missing_ev = [_alternatives([_kind_label(k) for k in alt]) for need in wanted
                      for alt in need.get("evidence", []) if not kinds & set(alt)]
        out = [
            Check("documents", _("Papers the case calls for"), not missing_docs,
                  tuple(_("missing: {what}").format(what=m) for m in dict.fromkeys(missing_docs))),
            Check("evidence", _("Evidence its violations call for"), not missing_ev,
                  tuple(_("missing: {what}").format(what=m) for m in dict.fromkeys(missing_ev))),
            self._signatures(docs, copies),
            self._deadlines(st),
        ]
        if verify_custody:
            from kit_app.evidence.service import EvidenceService

            rep = EvidenceService(self.store).verify(case.id, all_signatures=False)
            out.append(Check("custody", _("Originals and custody verified"), rep.ok,
                             tuple(p.detail for p in rep.problems[:10])))
        return out

    def remote_rows(self, rows: list[dict[str, Any]]) -> list[QueueRow]:
        """Queue rows for the cases the central server holds (``remote_review.queue``) that this kit's
        own queue does not list (another kit's; a copy here — an assignment seen from the city — does
        not count)."""
        p = self.life.procedure
        with self.store.session() as s:
            here = set(s.scalars(select(Case.id).where(Case.id.in_([r["id"] for r in rows]),
                                                       Case.status.in_(list(WAITING)))))
        out = []
        for r in rows:
            if r["id"] in here or r["status"] not in p.states or r["step"] not in p.actions:
                continue
            st, action = p.states[r["status"]], p.actions[r["step"]]
            zh = language() == "zh_CN"
            record = r.get("record") or {"status": r["status"], "history": r.get("history") or [],
                                         "opened_at": r.get("opened_at")}
            open_ = sorted((d for d in self.life.deadlines_of_record(record) if d.open), key=lambda d: d.due)
            nearest = open_[0] if open_ else None
            out.append(QueueRow(case_id=r["id"], number=r["number"], title=r.get("title") or "",
                                party=r.get("party_name") or "", state=r["status"],
                                state_label=st.label if zh else st.label_en, step=r["step"],
                                step_label=action.label if zh else action.label_en,
                                due=nearest.due if nearest else None, due_label=nearest.label if nearest else "",
                                days_left=nearest.days_left if nearest else None,
                                overdue=bool(nearest and nearest.overdue), remote=True,
                                pending=len(r.get("pending") or [])))
        return out

    def check_remote(self, detail: dict[str, Any]) -> list[Check]:
        """The completeness of a case another kit holds, from what the central server holds of it:
        papers, evidence, signatures (with the signed copies the server has custody of), deadlines
        from its record, and its custody as the server checked it when the kit pushed it."""
        rules = completeness_rules()
        case = detail["case"]
        findings = ((case.get("inspection") or {}).get("findings") or []) if isinstance(case, dict) else []
        categories = _categories([str(f["violation_id"]) for f in findings if isinstance(f, dict)
                                  and f.get("violation_id")])
        wanted = [rules["always"]] + [rules["by_category"][c] for c in categories if c in rules["by_category"]]
        docs = [d for d in detail.get("documents") or [] if isinstance(d, dict)]
        issued = {d.get("doc_type") for d in docs}
        papers = {d.get("evidence_id") for d in docs}
        kinds = {i.get("kind") for i in detail.get("evidence") or [] if isinstance(i, dict)
                 and i.get("id") not in papers}
        missing_docs = [_alternatives([_doc_title(t) for t in alt]) for need in wanted
                        for alt in need.get("documents", []) if not issued & set(alt)]
        missing_ev = [_alternatives([_kind_label(k) for k in alt]) for need in wanted
                      for alt in need.get("evidence", []) if not kinds & set(alt)]
        events = int(detail.get("custody_events") or 0)
        from types import SimpleNamespace

        papers_held = [SimpleNamespace(**{k: d.get(k) for k in ("id", "corrects_id", "doc_type", "evidence_id",
                                                                "number", "title")},
                                       payload_json=d.get("payload_json") or "{}") for d in docs]
        copies = {str(x) for x in detail.get("signed_copies") or []}
        status = SimpleNamespace(deadlines=self.life.deadlines_of_record(case))
        return [
            Check("documents", _("Papers the case calls for"), not missing_docs,
                  tuple(_("missing: {what}").format(what=m) for m in dict.fromkeys(missing_docs))),
            Check("evidence", _("Evidence its violations call for"), not missing_ev,
                  tuple(_("missing: {what}").format(what=m) for m in dict.fromkeys(missing_ev))),
            self._signatures(papers_held, copies),  # type: ignore[arg-type]
            self._deadlines(status),  # type: ignore[arg-type]
            Check("custody", _("Custody received by the central server"), True,
                  (_("{n} custody events, each checked by the server when the kit pushed it").format(n=events),)),
        ]

    @staticmethod
    def _signatures(docs: list[Document], copies: set[str]) -> Check:
        """Each issued paper the party signs: signed, with the signed copy attached — or the refusal or
        absence recorded with its reason and witness (the form enforces those when it is issued)."""
        import forms

        superseded = {d.corrects_id for d in docs if d.corrects_id}
        problems: list[str] = []
        for d in docs:
            if d.id in superseded:
                continue
            try:
                defn = forms.get(d.doc_type)
            except KeyError:
                continue
            payload = json.loads(d.payload_json)
            for f in defn.fields:
                if f.type != "signing":
                    continue
                value = payload.get(f.name) or {"status": "signed"}  # the form keeps nothing for a plain signature
                if value.get("status") == "signed" and d.evidence_id not in copies:
                    problems.append(_("{paper}: signed, but the signed copy is not attached").format(
                        paper=d.number or d.title))
        return Check("signatures", _("Signatures or recorded refusals"), not problems, tuple(problems))

    @staticmethod
    def _deadlines(st: CaseStatus) -> Check:
        late = [d for d in st.deadlines if d.kind == "due" and (d.overdue or (d.met_on is not None
                                                                              and d.met_on > d.due))]
        return Check("deadlines", _("Legal deadlines met"), not late,
                     tuple(_("{what}: due {due}").format(what=d.label, due=d.due.isoformat()) for d in late))


def _excluded(s: Any, case_id: str) -> set[str]:
    out: dict[str, bool] = {}
    for eid, body in s.execute(select(CustodyEvent.evidence_id, CustodyEvent.body).where(
            CustodyEvent.case_id == case_id, CustodyEvent.kind == "annotated").order_by(CustodyEvent.seq)):
        action = (json.loads(body).get("details") or {}).get("disposition")
        if action in ("excluded", "included"):
            out[eid] = action == "excluded"
    return {k for k, v in out.items() if v}


def _is_paper(item: EvidenceItem, docs: list[Document]) -> bool:
    """An issued paper's own PDF is no evidence of the facts."""
    return any(d.evidence_id == item.id for d in docs)


def _categories(violations: list[str]) -> list[str]:
    from forms.inspection import catalogue

    by_id = catalogue().violations
    return list(dict.fromkeys(by_id[v].category for v in violations if v in by_id))


def _doc_title(doc_type: str) -> str:
    import forms

    try:
        return forms.get(doc_type).title
    except KeyError:
        return doc_type


def _kind_label(kind: str) -> str:
    zh, en = _KIND_LABELS.get(kind, (kind, kind))
    return zh if language() == "zh_CN" else en


def _alternatives(names: list[str]) -> str:
    return (" 或 " if language() == "zh_CN" else " or ").join(names)


def apply_review_steps(store: Store) -> dict[str, int]:
    """Take the review steps pulled from the central server (reviewers working from there), each
    checked against the case as it stands on this kit and recorded with the reviewer as its actor and
    the step's own id (taken once). A step that no longer applies becomes a comment on the case
    saying why, for the officer to see."""
    from kit_app.db.models import CaseComment, CaseEvent, CentralItem
    from kit_app.errors import KitError
    from kit_app.ids import new_id
    from kit_app.services.lifecycle import label

    done = {"taken": 0, "refused": 0}
    if store.read_only:
        return done
    life = CaseLifecycle(store)
    with store.session() as s:
        keys = list(s.scalars(select(CentralItem.key).where(CentralItem.kind == "review_step")
                              .order_by(CentralItem.server_seq)))
    for key in keys:
        with store.write_session() as s:
            row = s.get(CentralItem, ("review_step", key))
            if row is None:
                continue
            b = json.loads(row.body)
            s.delete(row)
            if s.get(CaseEvent, b["id"]) is not None or s.get(Case, b["case_id"]) is None:
                continue  # taken already, or not a case of this kit
            who = b["actor"]
            actor = OfficerInfo(id=str(who.get("id")), name=str(who.get("name")), cert_no=str(who.get("cert_no")),
                                roles=tuple(r for r in who.get("roles") or [] if isinstance(r, str)),
                                agency_code=who.get("agency"), agency_name=None, active=True)
            try:
                with s.begin_nested():
                    life.act_in(s, b["case_id"], b["action"], actor, reason=b.get("reason"), event_id=b["id"])
                done["taken"] += 1
            except KitError as exc:
                a = life.procedure.actions.get(b["action"])
                s.add(CaseComment(id=new_id(), case_id=b["case_id"], author_name=actor.name,
                                  author_cert=actor.cert_no, at=b.get("at") or "", server_seq=row.server_seq,
                                  text=_("The review step {step} sent from the central server could not be taken "
                                         "here: {why}").format(step=label(a) if a else b["action"], why=exc)))
                done["refused"] += 1
    return done


__all__ = ["Check", "QueueRow", "ReviewService", "WAITING", "apply_review_steps", "completeness_rules"]
