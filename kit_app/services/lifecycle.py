"""A case's lifecycle, enforced in the core: from 立案 to 结案 and 归档 as the procedure definition
(``forms/procedures``) says — who may take each action, what must exist first, what it records —
with every legal deadline computed on the Chinese working-day calendar.

Every action taken is one append-only event of the case (who, when, why, what it recorded),
written in the same transaction as the case's new state and synced with it. An action that is not
allowed is refused with the rule that forbids it and the law it rests on (``ProcedureError``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import forms
import forms.procedure as P
from kit_app import roles as R
from kit_app import workdays
from kit_app.db import Store
from kit_app.db.models import Case, CaseEvent, CaseOfficer, Document, EvidenceItem
from kit_app.dto import OfficerInfo
from kit_app.errors import KitError, NotFound, ValidationError
from kit_app.i18n import _, language
from kit_app.ids import new_id
from kit_app.services.inspections import InspectionService
from kit_app.timeutil import LOCAL_TZ, local_today, utcnow


class ProcedureError(KitError):
    """The procedure does not allow this action now; the message names the rule and its law."""

    refusal = True


def label(item: P.State | P.Action | P.Outcome | P.DeadlineRule | P.Procedure) -> str:
    """The item's name in the language of the interface."""
    if isinstance(item, P.Procedure):
        return item.title if language() == "zh_CN" else item.title_en
    return item.label if language() == "zh_CN" else item.label_en


@dataclass(frozen=True)
class CaseEventInfo:
    seq: int
    action: str
    action_label: str
    from_state: str | None
    to_state: str
    at: datetime
    actor: str | None
    actor_cert: str | None
    reason: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class ActionInfo:
    id: str
    label: str
    to: str | None
    allowed: bool
    why_not: str | None  # the rule that stands in the way, with its law
    mine: bool  # the officer holds a role that may take it (else it is someone else's step)
    roles: tuple[str, ...]
    reason_required: bool
    fields: tuple[str, ...]
    basis: str


@dataclass(frozen=True)
class DeadlineInfo:
    id: str
    label: str
    kind: str  # due (act by then), wait (the party's time), watch (the party's deadline)
    start: date
    due: date
    working: bool
    estimated: bool  # a year the holiday calendar does not cover yet
    days_left: int  # calendar days from today (negative: overdue)
    met_on: date | None
    extended_days: int
    basis: str
    overdue: bool  # not met, a "due" deadline, and past
    surcharge_yuan: float | None = None  # late payment surcharge accrued so far

    @property
    def open(self) -> bool:
        return self.met_on is None


@dataclass(frozen=True)
class CaseStatus:
    case_id: str
    number: str
    title: str
    party_name: str
    state: str
    state_label: str
    final: bool
    outcome: str | None
    procedure: str
    discovered_on: date | None
    history: tuple[CaseEventInfo, ...]
    deadlines: tuple[DeadlineInfo, ...]
    actions: tuple[ActionInfo, ...] = field(default=())
    # the documents this step makes, in order, and whether the case has issued each one yet
    documents: tuple[tuple[str, bool], ...] = field(default=())


ARCHIVE = "archive"  # the step that files the case: the case file goes with it


def accepts_evidence(state: str) -> bool:
    """Evidence may still be collected for a case in this state (not once it is decided)."""
    return P.case_procedure().accepts_evidence(state)


def local_date(at: datetime) -> date:
    return at.astimezone(LOCAL_TZ).date()


class _Facts:
    """What the rules look at, read once in the session of the check."""

    def __init__(self, s: Session, case: Case) -> None:
        self.case = case
        self.events = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)))
        self.officers = {o.officer_id for o in case.officers}
        self.evidence = s.scalar(select(func.count()).select_from(EvidenceItem)
                                 .where(EvidenceItem.case_id == case.id)) or 0
        self.documents = list(s.scalars(select(Document).where(Document.case_id == case.id)
                                        .order_by(Document.issued_at)))
        self._session = s
        self.findings = InspectionService.finding_count(s, case.id)

    @cached_property
    def inspection_missing(self) -> list[str] | None:
        """What the inspection still lacks (None: the case is no inspection); read when a rule asks."""
        return InspectionService.missing(self._session, self.case.id)

    def last(self, action: str) -> CaseEvent | None:
        return next((e for e in reversed(self.events) if e.action == action), None)

    def details(self, action: str) -> dict[str, Any]:
        e = self.last(action)
        return json.loads(e.details) if e is not None else {}

    def document(self, doc_type: str) -> Document | None:
        return next((d for d in reversed(self.documents) if d.doc_type == doc_type), None)


class _SnapshotFacts:
    """The facts the deadline rules read, from a case as the central server holds it (its pushed
    record: columns and history) — for a case another kit holds. Papers are not part of it: rules
    that start from a paper are left out."""

    def __init__(self, body: dict[str, Any]) -> None:
        from types import SimpleNamespace

        def when(v: Any) -> datetime | None:
            try:
                return datetime.fromisoformat(str(v)) if v else None
            except ValueError:
                return None

        discovered = body.get("discovered_on")
        self.case = SimpleNamespace(
            status=body.get("status"), outcome=body.get("outcome"), kind=body.get("kind") or "case",
            opened_at=when(body.get("opened_at")) or utcnow(),
            discovered_on=date.fromisoformat(str(discovered)[:10]) if discovered else None)
        self.events = [SimpleNamespace(action=str(h.get("action")), at=at, seq=h.get("seq"),
                                       details=json.dumps(h.get("details") or {}))
                       for h in body.get("history") or [] if isinstance(h, dict) and (at := when(h.get("at")))]
        findings = (body.get("inspection") or {}).get("findings") if isinstance(body.get("inspection"), dict) else []
        self.findings = len(findings or [])

    def last(self, action: str) -> Any:
        return next((e for e in reversed(self.events) if e.action == action), None)

    def details(self, action: str) -> dict[str, Any]:
        e = self.last(action)
        return json.loads(e.details) if e is not None else {}

    def document(self, doc_type: str) -> None:
        return None


class CaseLifecycle:
    def __init__(self, store: Store, procedure: P.Procedure | None = None) -> None:
        self.store = store
        self.procedure = procedure or P.case_procedure()

    # ------------------------------------------------------------ reading
    def status(self, case_ref: str, actor: OfficerInfo | None = None, today: date | None = None) -> CaseStatus:
        """The case's state, history, deadlines and — for ``actor`` — what may be done next."""
        with self.store.session() as s:
            case = self._case(s, case_ref)
            facts = _Facts(s, case)
            return self._status(case, facts, actor, today or local_today())

    def _status(self, case: Case, facts: _Facts, actor: OfficerInfo | None, today: date) -> CaseStatus:
        p = self.procedure
        state = p.states.get(case.status)
        return CaseStatus(
            case_id=case.id, number=case.number, title=case.title, party_name=case.party_name, state=case.status,
            state_label=label(state) if state else case.status, final=bool(state and state.final),
            outcome=case.outcome, procedure=case.procedure or p.ref, discovered_on=case.discovered_on,
            history=tuple(self._event_info(e) for e in facts.events),
            deadlines=tuple(self._deadlines(facts, today)),
            actions=tuple(self._action_info(a, facts, actor, today) for a in p.actions_from(case.status))
            if actor is not None else (),
            documents=tuple((t, facts.document(t) is not None) for t in (state.documents if state else ())
                            if t in forms.definitions()),
        )

    def _event_info(self, e: CaseEvent) -> CaseEventInfo:
        a = self.procedure.actions.get(e.action)
        name = label(a) if a else {"open": _("Case opened"), "assigned": _("Assigned by the provincial office"),
                                    "imported": _("Recorded before the case procedure")}.get(e.action, e.action)
        return CaseEventInfo(seq=e.seq, action=e.action, action_label=name,
                             from_state=e.from_state, to_state=e.to_state, at=e.at, actor=e.actor_name,
                             actor_cert=e.actor_cert, reason=e.reason, details=json.loads(e.details))

    def _action_info(self, a: P.Action, facts: _Facts, actor: OfficerInfo, today: date) -> ActionInfo:
        why = self._refusal(a, facts, actor, today, {})
        return ActionInfo(id=a.id, label=label(a), to=a.to, allowed=why is None, why_not=why,
                          mine=actor.active and bool(a.roles & set(actor.roles)),
                          roles=tuple(r for r in R.ROLES if r in a.roles),
                          reason_required=a.reason, fields=a.fields, basis=a.basis)

    # ------------------------------------------------------------ acting
    def act(self, case_ref: str, action_id: str, actor: OfficerInfo | None, *, reason: str | None = None,
            details: dict[str, Any] | None = None, today: date | None = None,
            also: Callable[[Any, Any], None] | None = None) -> CaseEventInfo:
        """Take ``action_id`` on the case as ``actor``: checked, then recorded with the new state in
        one transaction. ProcedureError names the rule that refuses it. ``also(session, case)`` writes
        what goes with the step in the same transaction (archiving: the case file)."""
        p = self.procedure
        a = p.actions.get(action_id)
        if a is None:
            raise ValidationError(_("Unknown action {action} (known: {known}).").format(
                action=action_id, known=", ".join(p.actions)))
        if actor is None:
            raise ProcedureError(_("{action}: the officer taking it must be named.").format(
                action=label(a)))
        reason = (reason or "").strip() or None
        details = self._clean(a, details or {})
        if a.id == ARCHIVE and also is None:  # CaseFileService.archive builds the file, then takes this step
            raise ProcedureError(_("{action}: the case file is built and kept when the case is archived; "
                                   "archive it from its case file.").format(action=label(a)))
        self.store.require_writable()
        with self.store.write_session() as s:
            return self._take(s, case_ref, a, actor, reason, details, today, also)

    def act_in(self, s: Session, case_ref: str, action_id: str, actor: OfficerInfo, *, reason: str | None = None,
               event_id: str | None = None) -> CaseEventInfo:
        """``act`` inside the caller's write transaction (a review step a reviewer took at the central
        server, applied by the pull), the event keeping the step's own id. Steps that record fields
        and archiving are taken on the kit only."""
        a = self.procedure.actions.get(action_id)
        if a is None or a.id == ARCHIVE or a.fields:
            raise ProcedureError(_("{action} is not taken from the central server.").format(action=action_id))
        return self._take(s, case_ref, a, actor, (reason or "").strip() or None, {}, None, None, event_id)

    def _take(self, s: Session, case_ref: str, a: P.Action, actor: OfficerInfo, reason: str | None,
              details: dict[str, Any], today: date | None, also: Callable[[Any, Any], None] | None,
              event_id: str | None = None) -> CaseEventInfo:
        """Check and record one step in session ``s``."""
        case = self._case(s, case_ref)
        facts = _Facts(s, case)
        why = self._refusal(a, facts, actor, today or local_today(), details)
        if why is not None:
            raise ProcedureError(why)
        if a.reason and reason is None:
            raise ProcedureError(_("{action}: give the reason (it is recorded in the case).").format(
                action=label(a)))
        before = case.status
        after = before if a.to is None else self._previous(facts) if a.to == P.PREVIOUS else a.to
        now = utcnow()
        ev = CaseEvent(id=event_id or new_id(), case_id=case.id,
                       seq=(facts.events[-1].seq + 1) if facts.events else 1, action=a.id,
                       from_state=before, to_state=after, at=now, actor_id=actor.id, actor_name=actor.name,
                       actor_cert=actor.cert_no, reason=reason,
                       details=json.dumps(details, ensure_ascii=False, sort_keys=True),
                       kit_id=self.store.kit_id)
        s.add(ev)
        if after != before:
            case.status = after
            if a.id == "decide":
                case.outcome = details.get("outcome")
            elif a.outcome is not None:
                case.outcome = a.outcome
            if after == "closed":
                case.closed_at = now
        case.row_version = (case.row_version or 0) + 1  # the history is part of the case: synced again
        s.flush()
        if also is not None:
            also(s, case)
        return self._event_info(ev)

    def _clean(self, a: P.Action, details: dict[str, Any]) -> dict[str, Any]:
        """The recorded fields, checked; a field the action does not record is refused by name."""
        out: dict[str, Any] = {}
        for k, v in details.items():
            if k not in a.fields:
                raise ValidationError(_("{action} does not record {field}.").format(action=label(a), field=k))
            if v in (None, ""):
                continue
            if k in ("hearing_date", "paid_on"):
                try:
                    v = date.fromisoformat(str(v)).isoformat()
                except ValueError:
                    raise ValidationError(_("{field}: not a date (YYYY-MM-DD): {value}").format(
                        field=_FIELD_LABELS[k](), value=v)) from None
            elif k == "fine_yuan":
                try:
                    v = round(float(v), 2)
                except (TypeError, ValueError):
                    raise ValidationError(_("{field}: not an amount: {value}").format(
                        field=_FIELD_LABELS[k](), value=v)) from None
                if v < 0:
                    raise ValidationError(_("{field}: cannot be negative").format(field=_FIELD_LABELS[k]()))
            elif k == "outcome" and not (v in self.procedure.outcomes and self.procedure.outcomes[v].decision):
                raise ValidationError(_("{field}: one of {known}").format(
                    field=_FIELD_LABELS[k](), known="、".join(label(o) for o in self.procedure.outcomes.values()
                                                             if o.decision)))
            else:
                v = str(v).strip()
            out[k] = v
        return out

    def _previous(self, facts: _Facts) -> str:
        e = facts.last("suspend")
        return e.from_state if e is not None and e.from_state else self.procedure.initial

    # ------------------------------------------------------------ the rules
    def _refusal(self, a: P.Action, facts: _Facts, actor: OfficerInfo, today: date,
                 details: dict[str, Any]) -> str | None:
        """Why ``actor`` may not take ``a`` now (the rule, with its law), or None."""
        name = label(a)
        case = facts.case
        if case.status not in a.from_states:
            st = self.procedure.states.get(case.status)
            return _("{action} is not possible while the case is at {state}.").format(
                action=name, state=label(st) if st else case.status)
        if not actor.active or not (a.roles & set(actor.roles)):
            needed = "、".join(_(R.ROLE_LABELS[r]) for r in R.ROLES if r in a.roles)
            return _("{action} is for {roles}; {name} does not hold that role.").format(
                action=name, roles=needed, name=actor.name)
        for req in a.requires:
            why = self._requirement(req, a, facts, actor, today, details)
            if why is not None:
                return _("{action}: {why}").format(action=name, why=why) + (f"（{a.basis}）" if a.basis else "")
        return None

    def _requirement(self, req: str, a: P.Action, facts: _Facts, actor: OfficerInfo, today: date,
                     details: dict[str, Any]) -> str | None:
        p = self.procedure
        if req == "evidence":
            return None if facts.evidence else _("the case has no evidence yet")
        if req == "investigator":
            return None if actor.id in facts.officers else _("only an officer investigating the case may do this")
        if req == "two_investigators":
            return None if len(facts.officers) >= 2 else _("a case is investigated by two officers at least")
        if req == "not_investigator":
            return None if actor.id not in facts.officers else _(
                "the review is made by someone who did not investigate the case")
        if req.startswith("document:"):
            doc_type = req.split(":", 1)[1]
            if facts.document(doc_type) is not None:
                return None
            try:
                title = forms.get(doc_type).title
            except KeyError:
                title = doc_type
            return _("issue the {title} first").format(title=title)
        if req.startswith("within:"):
            rule = req.split(":", 1)[1]
            d = next((x for x in self._deadlines(facts, today) if x.id == rule), None)
            if d is not None and d.open and today > d.due:
                return _("the period ended on {due}").format(due=d.due.isoformat())
            return None
        if req == "hearing_notice":
            when = details.get("hearing_date")
            if not when:
                return _("give the hearing's date")
            earliest = workdays.add_workdays(today, 7).day
            if date.fromisoformat(when) < earliest:
                return _("the party is told of a hearing seven working days ahead at least: "
                         "{earliest} or later").format(earliest=earliest.isoformat())
            return None
        if req == "outcome":
            chosen = p.outcomes.get(str(details.get("outcome")))
            return None if chosen is not None and chosen.decision else _("choose the outcome of the decision")
        if req == "inspection_complete":
            if facts.inspection_missing is None:
                return _("this case is no inspection")
            sep = "；" if language() == "zh_CN" else "; "
            return _("still to do: {what}").format(what=sep.join(m.rstrip("。.") for m in facts.inspection_missing)) \
                if facts.inspection_missing else None
        if req == "findings":
            return None if facts.findings else _("no finding is recorded")
        if req == "no_findings":
            return _("{n} findings are recorded").format(n=facts.findings) if facts.findings else None
        if req == "notice_period_over":
            outcome = p.outcomes.get(str(details.get("outcome")))
            if outcome is None or not outcome.notice:
                return None
            if facts.last("notify") is None:
                return _("a penalty is decided only after the party was notified and could be heard")
            if facts.last("record_waiver") or facts.last("request_hearing"):
                return None
            d = next((x for x in self._deadlines(facts, today) if x.id == "hearing_request"), None)
            if d is not None and today <= d.due:
                return _("the party may still make a statement or ask for a hearing until {due}").format(
                    due=d.due.isoformat())
            return None
        if req == "review_approved":  # approved since the review last began or was sent back
            last = next((e.action for e in reversed(facts.events)
                         if e.action in ("approve_review", "start_review", "return_to_investigation",
                                         "return_from_legal_review")), None)
            return None if last == "approve_review" else _("the review has not approved the case yet")
        if req == "legal_review_approved":  # only when deciding from legal review
            if facts.case.status != "legal_review":
                return None
            last = next((e.action for e in reversed(facts.events)
                         if e.action in ("approve_legal_review", "refer_legal_review")), None)
            return None if last == "approve_legal_review" else _("the legal review has not approved the decision yet")
        if req == "served":
            if facts.document("service_receipt") is not None:
                return None
            refusal = facts.last("record_refusal")
            if refusal is not None and json.loads(refusal.details).get("witness"):
                return None
            return _("issue the service receipt, or record the party's refusal with a witness")
        if req == "performed":
            if facts.case.outcome == "penalty" and float(facts.details("decide").get("fine_yuan") or 0) > 0 \
                    and facts.last("record_payment") is None:
                return _("the fine has not been recorded as paid")
            return None
        raise AssertionError(f"unchecked requirement {req}")  # parse() admits only the known ones

    # ------------------------------------------------------------ deadlines
    def deadlines(self, case_ref: str, today: date | None = None) -> list[DeadlineInfo]:
        with self.store.session() as s:
            return self._deadlines(_Facts(s, self._case(s, case_ref)), today or local_today())

    def deadlines_of_record(self, body: dict[str, Any], today: date | None = None) -> list[DeadlineInfo]:
        """The deadlines of a case another kit holds, from its record at the central server."""
        return self._deadlines(_SnapshotFacts(body), today or local_today())  # type: ignore[arg-type]

    def _deadlines(self, facts: _Facts, today: date) -> list[DeadlineInfo]:
        out: list[DeadlineInfo] = []
        for rule in self.procedure.deadlines:
            d = self._deadline(rule, facts, today)
            if d is not None:
                out.append(d)
        return out

    def _deadline(self, rule: P.DeadlineRule, facts: _Facts, today: date) -> DeadlineInfo | None:
        case = facts.case
        payload: dict[str, Any] = {}
        if rule.start == "discovered":
            start_at = None
            start = case.discovered_on or local_date(case.opened_at)
        elif rule.start.startswith("action:"):
            ev = facts.last(rule.start.split(":", 1)[1])
            if ev is None:
                return None
            start_at, start = ev.at, local_date(ev.at)
        else:
            doc = facts.document(rule.start.split(":", 1)[1])
            if doc is None:
                return None
            start_at, start = doc.issued_at, local_date(doc.issued_at)
            payload = json.loads(doc.payload_json)
        fine = float(facts.details("decide").get("fine_yuan") or 0)
        if rule.when == "fine" and not (case.outcome == "penalty" and fine > 0):
            return None
        if rule.when == "violation" and case.kind == "inspection" and not facts.findings:
            return None
        after = [e for e in facts.events if start_at is None or e.at >= start_at]
        met = next((e for e in after if e.action in rule.met_by), None)
        extended = sum(rule.extension_days for e in after
                       if (a := self.procedure.actions.get(e.action)) is not None and a.extends == rule.id)
        if rule.until_field is not None:
            raw = payload.get(rule.until_field)
            if not raw:
                return None
            due, estimated, working = date.fromisoformat(str(raw)[:10]), False, False
        else:
            assert rule.days is not None
            paused = self._paused_days(rule, after, today)
            end = workdays.period_end(start, rule.days, rule.working)
            due, estimated, working = end.day, end.estimated, rule.working
            if extended or paused:
                longer = workdays.period_end(start, rule.days + extended + paused, rule.working)
                due, estimated = longer.day, longer.estimated
        met_on = local_date(met.at) if met is not None else None
        surcharge = None
        if rule.surcharge_per_day and met_on is None and today > due:
            surcharge = round(min(fine, fine * rule.surcharge_per_day * (today - due).days), 2)
        return DeadlineInfo(id=rule.id, label=label(rule), kind=rule.kind, start=start, due=due, working=working,
                            estimated=estimated, days_left=(due - today).days, met_on=met_on, extended_days=extended,
                            basis=rule.basis, overdue=met_on is None and rule.kind == "due" and today > due,
                            surcharge_yuan=surcharge)

    @staticmethod
    def _paused_days(rule: P.DeadlineRule, events: list[CaseEvent], today: date) -> int:
        """Calendar days the case spent suspended (not counted in the period)."""
        if rule.paused_by is None:
            return 0
        total, since = 0, None
        for e in events:
            if e.action == rule.paused_by and since is None:
                since = local_date(e.at)
            elif e.action == rule.resumed_by and since is not None:
                total += (local_date(e.at) - since).days
                since = None
        if since is not None:
            total += (today - since).days
        return total

    def my_deadlines(self, actor: OfficerInfo, today: date | None = None, limit: int = 200
                     ) -> list[tuple[CaseStatus, DeadlineInfo]]:
        """The open deadlines of the cases ``actor`` investigates (all open cases for reviewers and
        agency heads), most urgent first."""
        today = today or local_today()
        finals = [k for k, st in self.procedure.states.items() if st.final] + ["closed"]
        out: list[tuple[CaseStatus, DeadlineInfo]] = []
        with self.store.session() as s:
            q = select(Case).where(Case.status.not_in(finals))
            if not ({R.REVIEWER, R.AGENCY_HEAD, R.ADMIN} & set(actor.roles)):
                q = q.join(CaseOfficer).where(CaseOfficer.officer_id == actor.id)
            for case in s.scalars(q.order_by(Case.opened_at).limit(limit)):
                st = self._status(case, _Facts(s, case), None, today)
                out += [(st, d) for d in st.deadlines if d.open and d.kind != "watch" or
                        (d.kind == "watch" and d.open and d.days_left <= 30)]
        return sorted(out, key=lambda x: (x[1].days_left, x[0].number))

    # ------------------------------------------------------------ helpers
    def details_text(self, details: dict[str, Any]) -> list[tuple[str, str]]:
        """What a step recorded, as (label, value) in the officer's words: the outcome by its name;
        anything that is no field of a step (kept for the record) is left out."""
        out = []
        for k, v in details.items():
            if k not in _FIELD_LABELS or v in (None, ""):
                continue
            if k == "outcome" and str(v) in self.procedure.outcomes:
                v = label(self.procedure.outcomes[str(v)])
            out.append((_FIELD_LABELS[k](), str(v)))
        return out

    @staticmethod
    def _case(s: Session, ref: str) -> Case:
        case = s.get(Case, ref) or s.scalar(select(Case).where(Case.number == ref))
        if case is None:
            raise NotFound(_("No case with id or number {id}.").format(id=ref))
        return case


_FIELD_LABELS = {
    "outcome": lambda: _("Outcome"),
    "fine_yuan": lambda: _("Fine (yuan)"),
    "hearing_date": lambda: _("Hearing date"),
    "place": lambda: _("Place"),
    "witness": lambda: _("Witness"),
    "paid_on": lambda: _("Paid on"),
}

__all__ = ["ActionInfo", "CaseEventInfo", "CaseLifecycle", "CaseStatus", "DeadlineInfo", "ProcedureError", "label"]
