"""On-site inspections (现场检查), guided: the team confirms its presence, the opening steps are
recorded as they happen, the checklists chosen by the party's categories are worked through item
by item (answer, notes, evidence), non-compliances become findings with a suggested violation, and
the inspection record (现场检查（勘察）笔录) is drafted from all of it.

An inspection is a case of kind ``inspection`` (its party, team, evidence and documents are the
case's); it ends through the case procedure — compliant, with an order to correct, or proposed for
filing — and those steps require what ``missing`` lists to be done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forms import inspection as F
from kit_app import roles as R
from kit_app.db import Store
from kit_app.db.models import (
    Agency,
    Case,
    Document,
    EvidenceItem,
    Finding,
    Inspection,
    InspectionAnswer,
    InspectionOfficer,
    InspectionStep,
    Officer,
    Source,
)
from kit_app.dto import CaseDetail, OfficerInfo
from kit_app.errors import NotFound, PermissionDenied, ValidationError
from kit_app.evidence.media import LOGGER_EXCHANGE
from kit_app.i18n import N_, _, language
from kit_app.timeutil import LOCAL_TZ, utcnow

# where an inspection comes from
ORIGINS: dict[str, str] = {
    "random": N_("Random inspection (two randoms, one public)"),
    "routine": N_("Routine inspection"),
    "complaint": N_("Complaint (12369)"),
    "alarm": N_("Online monitoring alarm"),
    "assigned": N_("Assigned by the provincial office"),
    "follow_up": N_("Follow-up of an order to correct"),
}
# the 案件来源 of a 立案审批表, by origin
CASE_SOURCES = {"random": "双随机检查", "routine": "日常监管", "complaint": "信访举报", "alarm": "在线监控",
                "assigned": "上级交办", "follow_up": "日常监管"}
ORIGIN_LABELS_ZH = {"random": "双随机抽查", "routine": "日常检查", "complaint": "投诉举报", "alarm": "在线监控报警",
                    "assigned": "上级交办", "follow_up": "责令改正后复查"}

# the opening steps, in order (《行政处罚法》第四十二条、第四十三条、第五十五条)
STEPS: dict[str, str] = {
    "certificates_shown": N_("Enforcement certificates shown"),
    "purpose_stated": N_("Purpose of the inspection stated"),
    "rights_explained": N_("Rights and the duty to cooperate explained"),
    "recusal_asked": N_("Asked whether the party requests recusal"),
    "representative_identified": N_("The party's representative identified"),
    "party_absent": N_("The party is absent: a witness named"),
}
REQUIRED_STEPS = ("certificates_shown", "purpose_stated", "rights_explained", "recusal_asked")
STEP_FIELDS = {
    "recusal_asked": ("answer",),
    "representative_identified": ("name", "id_no", "position", "relation", "phone"),
    "party_absent": ("witness", "witness_id_no", "reason"),
}
STEP_REQUIRED_FIELDS = {"recusal_asked": ("answer",), "representative_identified": ("name", "position"),
                        "party_absent": ("witness",)}

ANSWERS: dict[str, str] = {
    "compliant": N_("Compliant"),
    "non_compliant": N_("Non-compliant"),
    "not_applicable": N_("Not applicable"),
    "could_not_check": N_("Could not check"),
}
ANSWER_ZH = {"compliant": "符合", "non_compliant": "不符合", "not_applicable": "不涉及", "could_not_check": "未能检查"}


@dataclass(frozen=True)
class ItemState:
    checklist: str
    item: F.Item
    answer: str | None
    note: str | None
    evidence_ids: tuple[str, ...]


@dataclass(frozen=True)
class InspectionStatus:
    case_id: str
    number: str
    party_name: str
    origin: str
    origin_ref: str | None
    place: str | None
    started_at: datetime
    team: tuple[dict[str, Any], ...]  # name, cert_no, recorder, confirmed
    steps: tuple[dict[str, Any], ...]  # step, label, at, details
    items: tuple[ItemState, ...]
    findings: tuple[dict[str, Any], ...]
    answered_required: int
    required: int
    answered: int
    total: int
    missing: tuple[str, ...]  # what stands between the officer and the end of the inspection
    next_step: str
    checklists: tuple[str, ...] = field(default=())


def _label(text: str) -> str:
    return _(text)


def _item_text(it: F.Item) -> str:
    return it.check if language() == "zh_CN" else it.check_en


class InspectionService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------ starting
    def start(self, *, actor: OfficerInfo, party: str, origin: str, team: list[str] | tuple[str, ...] = (),
              recorder: str | None = None, origin_ref: str | None = None, place: str | None = None,
              title: str | None = None, source_id: str | None = None) -> CaseDetail:
        """Open an inspection of ``party`` (a source id, credit code or name) by ``actor`` and
        ``team`` (two officers at least, each holding an enforcement certificate)."""
        from kit_app.services.cases import CaseService

        R.require(actor, "case.create")
        if origin not in ORIGINS:
            raise ValidationError(_("Choose where the inspection comes from."), "origin")
        if origin == "random" and not (origin_ref or "").strip():
            raise ValidationError(_("A random inspection names its task and draw record."), "origin_ref")
        with self.store.session() as s:
            resolved = [self._officer_id(s, ref) for ref in team]
            rec_id = self._officer_id(s, recorder) if recorder else None
        members = list(dict.fromkeys([actor.id, *resolved]))
        if len(members) < 2:
            raise ValidationError(_("An inspection is made by two officers at least."), "team")
        if rec_id is None:
            rec_id = members[1]  # the second officer records, the first leads
        if rec_id not in members:
            raise ValidationError(_("The recorder is one of the inspection team."), "recorder")
        label = ORIGIN_LABELS_ZH[origin]

        def inspection(s: Session, case: Case) -> None:
            chosen = F.for_party(self._categories(s, case.source_id))
            insp = Inspection(case_id=case.id, origin=origin, origin_ref=(origin_ref or "").strip() or None,
                              place=(place or "").strip() or case.party_address,
                              checklists=json.dumps([c.ref for c in chosen]), catalogue=F.catalogue().ref,
                              started_at=case.opened_at)
            for oid in members:
                insp.officers.append(InspectionOfficer(officer_id=oid, recorder=oid == rec_id,
                                                       confirmed_at=case.opened_at if oid == actor.id else None))
            s.add(insp)

        return CaseService(self.store).create(
            party=party, title=(title or "").strip() or f"现场检查（{label}）", actor=actor,
            officer_ids=members[1:], source_id=source_id, kind="inspection", with_case=inspection)

    @staticmethod
    def _categories(s: Session, source_id: str | None) -> list[str]:
        if not source_id:
            return ["water", "air", "waste", "noise"]  # an unlisted party: every subject may apply
        src = s.scalar(select(Source).where(Source.id == source_id))
        if src is None:
            return []
        return [c for c, on in (("water", src.cat_water), ("air", src.cat_air), ("waste", src.cat_waste),
                                ("noise", src.cat_noise), ("key_monitored", src.key_monitored)) if on]

    @staticmethod
    def _officer_id(s: Session, ref: str) -> str:
        oid = s.scalar(select(Officer.id).where((Officer.id == ref) | (Officer.cert_no == ref)))
        if oid is None:
            raise NotFound(_("No officer with id or certificate number {ref}.").format(ref=ref))
        return str(oid)

    # the numbered documents an inspection may have to issue on the spot
    MAY_NEED = ("order_to_correct", "evidence_preservation_notice", "seizure_decision")

    def number_warning(self, case_ref: str) -> str | None:
        """Said when the inspection starts: the documents it may need for which this kit has no free
        number (without one such a document cannot be issued offline)."""
        from kit_app.services.numbering import NumberingService

        with self.store.session() as s:
            insp = self._inspection(s, case_ref)
            case = s.get(Case, insp.case_id)
            agency = s.get(Agency, case.agency_id) if case is not None and case.agency_id else None
            year = insp.started_at.astimezone(LOCAL_TZ).year
        code = agency.code if agency else "45"
        missing = NumberingService(self.store).without_numbers(code, self.MAY_NEED, year)
        if not missing:
            return None
        return _("This kit has no free document number for: {titles}. They cannot be issued on the spot; ask the "
                 "provincial office for a block of numbers (it comes with the next sync).").format(
            titles="、".join(missing))

    # ------------------------------------------------------------ the team
    def confirm(self, case_ref: str, cert_no: str, password: str) -> OfficerInfo:
        """A team member confirms being present with their own password (checked like a login)."""
        from kit_app.services.officers import OfficerService

        officer = OfficerService(self.store).login(cert_no, password)
        with self.store.write_session() as s:
            insp = self._inspection(s, case_ref)
            member = next((m for m in insp.officers if m.officer_id == officer.id), None)
            if member is None:
                raise PermissionDenied(_("{name} is not on this inspection's team.").format(name=officer.name))
            if member.confirmed_at is None:
                member.confirmed_at = utcnow()
        return officer

    # ------------------------------------------------------------ recording
    def record_step(self, case_ref: str, actor: OfficerInfo, step: str, details: dict[str, Any] | None = None,
                    evidence_id: str | None = None) -> None:
        if step not in STEPS:
            raise ValidationError(_("Unknown step {step}.").format(step=step), "step")
        details = {k: str(v).strip() for k, v in (details or {}).items() if str(v or "").strip()}
        if unknown := [k for k in details if k not in STEP_FIELDS.get(step, ())]:
            raise ValidationError(_("{step} does not record {fields}.").format(
                step=_(STEPS[step]), fields=", ".join(unknown)), "details")
        for k in STEP_REQUIRED_FIELDS.get(step, ()):
            if not details.get(k):
                raise ValidationError(_("{step}: {field} is missing.").format(
                    step=_(STEPS[step]), field=step_field_label(k)), k)
        with self.store.write_session() as s:
            insp = self._open(s, case_ref, actor)
            if evidence_id is not None:
                self._check_evidence(s, insp.case_id, [evidence_id])
            s.add(InspectionStep(case_id=insp.case_id, step=step, at=utcnow(), officer_id=actor.id,
                                 details=json.dumps(details, ensure_ascii=False, sort_keys=True),
                                 evidence_id=evidence_id))

    def answer(self, case_ref: str, actor: OfficerInfo, item_id: str, answer: str, note: str | None = None,
               evidence_ids: list[str] | tuple[str, ...] = ()) -> None:
        if answer not in ANSWERS:
            raise ValidationError(_("Answer with one of: {known}.").format(
                known=", ".join(_(a) for a in ANSWERS.values())), "answer")
        with self.store.write_session() as s:
            insp = self._open(s, case_ref, actor)
            items = self._items(insp)
            if item_id not in items:
                raise ValidationError(_("{item} is not on this inspection's checklists.").format(item=item_id), "item")
            self._check_evidence(s, insp.case_id, evidence_ids)
            if answer == "could_not_check" and not (note or "").strip():
                raise ValidationError(_("Say why the item could not be checked."), "note")
            row = s.get(InspectionAnswer, (insp.case_id, item_id))
            if row is None:
                row = InspectionAnswer(case_id=insp.case_id, item_id=item_id)
                s.add(row)
            row.answer, row.note = answer, (note or "").strip() or None
            row.evidence_ids = json.dumps(list(evidence_ids))
            row.answered_by, row.answered_at = actor.id, utcnow()

    def add_finding(self, case_ref: str, actor: OfficerInfo, description: str, *, item_id: str | None = None,
                    violation_id: str | None = None, evidence_ids: list[str] | tuple[str, ...] = ()) -> str:
        """A non-compliance found; ``violation_id`` defaults to the one the item suggests first."""
        if not description.strip():
            raise ValidationError(_("Describe what was found."), "description")
        with self.store.write_session() as s:
            insp = self._open(s, case_ref, actor)
            items = self._items(insp)
            if item_id is not None and item_id not in items:
                raise ValidationError(_("{item} is not on this inspection's checklists.").format(item=item_id), "item")
            if violation_id is None and item_id is not None and items[item_id].violations:
                violation_id = items[item_id].violations[0]
            if violation_id is not None and violation_id not in F.catalogue().violations:
                raise ValidationError(_("Unknown violation type {id}.").format(id=violation_id), "violation")
            self._check_evidence(s, insp.case_id, evidence_ids)
            f = Finding(case_id=insp.case_id, item_id=item_id, violation_id=violation_id,
                        description=description.strip(), evidence_ids=json.dumps(list(evidence_ids)),
                        created_by=actor.id, at=utcnow())
            s.add(f)
            s.flush()
            return f.id

    # ------------------------------------------------------------ reading
    def status(self, case_ref: str) -> InspectionStatus:
        with self.store.session() as s:
            insp = self._inspection(s, case_ref)
            return self._status(s, insp)

    @staticmethod
    def _status(s: Session, insp: Inspection) -> InspectionStatus:
        case = s.get(Case, insp.case_id)
        assert case is not None
        names = {o.id: o for o in s.scalars(select(Officer).where(
            Officer.id.in_([m.officer_id for m in insp.officers])))}
        team = tuple({"name": names[m.officer_id].name, "cert_no": names[m.officer_id].cert_no,
                      "recorder": m.recorder, "confirmed": m.confirmed_at is not None}
                     for m in insp.officers if m.officer_id in names)
        steps = [st for st in s.scalars(select(InspectionStep).where(InspectionStep.case_id == insp.case_id)
                                        .order_by(InspectionStep.at))]
        answers = {a.item_id: a for a in s.scalars(select(InspectionAnswer).where(
            InspectionAnswer.case_id == insp.case_id))}
        states = []
        for ref in json.loads(insp.checklists):
            cl = F.checklists().get(ref.split("@")[0])
            if cl is None:
                continue
            for it in cl.items:
                a = answers.get(it.id)
                states.append(ItemState(cl.id, it, a.answer if a else None, a.note if a else None,
                                        tuple(json.loads(a.evidence_ids)) if a else ()))
        found = s.scalars(select(Finding).where(Finding.case_id == insp.case_id).order_by(Finding.at))
        findings = tuple({"id": f.id, "item_id": f.item_id, "violation_id": f.violation_id,
                          "description": f.description, "evidence_ids": json.loads(f.evidence_ids), "at": f.at}
                         for f in found)
        missing = InspectionService._missing(insp, team, steps, states, findings)
        required = [x for x in states if x.item.required]
        return InspectionStatus(
            case_id=insp.case_id, number=case.number, party_name=case.party_name, origin=insp.origin,
            origin_ref=insp.origin_ref, place=insp.place, started_at=insp.started_at, team=team,
            steps=tuple({"step": st.step, "label": _(STEPS[st.step]), "at": st.at, "details": json.loads(st.details),
                         "evidence_id": st.evidence_id} for st in steps),
            items=tuple(states), findings=findings,
            answered_required=sum(1 for x in required if x.answer), required=len(required),
            answered=sum(1 for x in states if x.answer), total=len(states),
            missing=tuple(missing),
            next_step=missing[0] if missing else _("Everything is recorded: end the inspection."),
            checklists=tuple(json.loads(insp.checklists)))

    @staticmethod
    def _missing(insp: Inspection, team: tuple[dict[str, Any], ...], steps: list[InspectionStep],
                 states: list[ItemState], findings: tuple[dict[str, Any], ...]) -> list[str]:
        """What must still be done before the inspection can end, in the order to do it."""
        out: list[str] = []
        unconfirmed = [m["name"] for m in team if not m["confirmed"]]
        if sum(1 for m in team if m["confirmed"]) < 2:
            out.append(_("Team: {names} confirm being present with their password.").format(
                names="、".join(unconfirmed)))
        done = {st.step for st in steps}
        for st in REQUIRED_STEPS:
            if st not in done:
                out.append(_("Record: {step}.").format(step=_(STEPS[st])))
        if not ({"representative_identified", "party_absent"} & done):
            out.append(_("Record the party's representative, or that the party is absent with a witness."))
        unanswered = [x for x in states if x.item.required and not x.answer]
        if unanswered:
            first = unanswered[0]
            out.append(_("Answer {n} required items (next: {item}).").format(n=len(unanswered),
                                                                             item=_item_text(first.item)))
        for x in states:
            if x.answer == "non_compliant" and not any(f["item_id"] == x.item.id for f in findings):
                out.append(_("Record the finding for: {item}.").format(item=_item_text(x.item)))
        return out

    @staticmethod
    def missing(s: Session, case_id: str) -> list[str] | None:
        """For the case procedure: what is missing (None if the case is no inspection)."""
        insp = s.get(Inspection, case_id)
        return list(InspectionService._status(s, insp).missing) if insp is not None else None

    @staticmethod
    def finding_count(s: Session, case_id: str) -> int:
        return len(list(s.scalars(select(Finding.id).where(Finding.case_id == case_id))))

    def inquiry_questions(self, case_id: str) -> list[str]:
        """The questions an inquiry transcript starts from: the standard opening ones, then those of
        each violation the case's findings suggest (from the catalogue), without repeats."""
        with self.store.session() as s:
            vids = [v for v in s.scalars(select(Finding.violation_id).where(Finding.case_id == case_id)
                                         .order_by(Finding.at)) if v]
        if not vids:
            return []
        out = ["我们是生态环境部门的执法人员，这是我们的执法证件，你是否看清楚？", "你是否申请执法人员回避？"]
        catalogue = F.catalogue().violations
        for vid in vids:
            for q in catalogue[vid].questions if vid in catalogue else ():
                if q not in out:
                    out.append(q)
        out.append("你还有什么需要补充说明的吗？")
        return out

    # ------------------------------------------------------------ what documents take from it
    def prefill_values(self, case_id: str) -> dict[str, Any]:
        """Values the case's documents fill from the inspection (the ``source`` keys ``inspection.*``):
        place, the representative, the case's source, and the facts and provisions drafted from the
        findings and the catalogue. Facts only; the legal provisions as the catalogue cites them.
        Nothing for a case opened without an on-site inspection."""
        with self.store.session() as s:
            insp = s.get(Inspection, case_id)
            if insp is None:
                return {}
            st = self._status(s, insp)
            items = list(s.scalars(select(EvidenceItem).where(EvidenceItem.case_id == insp.case_id)))
            kinds = [e.kind for e in items if e.media_type != LOGGER_EXCHANGE]
            loggers = sum(1 for e in items if e.media_type == LOGGER_EXCHANGE)
            crosschecks = s.scalar(select(func.count()).select_from(Document).where(
                Document.case_id == insp.case_id, Document.doc_type == "monitoring_crosscheck")) or 0
        rep: dict[str, Any] = next((x["details"] for x in st.steps if x["step"] == "representative_identified"), {})
        day = st.started_at.astimezone(LOCAL_TZ)
        out: dict[str, Any] = {
            "inspection.place": st.place, "inspection.source": CASE_SOURCES[st.origin],
            "inspection.date": st.started_at.astimezone(LOCAL_TZ).date().isoformat(),
            "inspection.start": st.started_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M"),
            "inspection.checklist": [  # the checklist as a form: every item, answered or not (printed in Chinese)
                {"category": F.checklists()[x.checklist].title, "check": x.item.check, "basis": x.item.basis,
                 "result": ANSWER_ZH.get(x.answer or "", "未检查"), "note": (x.note or "")[:200]}
                for x in st.items if x.checklist in F.checklists()],
            **{f"inspection.representative.{k}": rep.get(k) for k in ("name", "position", "phone", "id_no")},
        }
        if not st.findings:
            return out
        catalogue = F.catalogue().violations
        seen = [catalogue[v] for v in dict.fromkeys(f["violation_id"] for f in st.findings) if v in catalogue]
        found = "；".join(f"{i}. {f['description'].rstrip('。')}" for i, f in enumerate(st.findings, start=1))
        proofs = ["现场检查（勘察）笔录"]
        photos, readings = sum(k in ("photo", "video") for k in kinds), sum(k == "instrument_reading" for k in kinds)
        if photos:
            proofs.append(f"现场照片（视频）{photos}份")
        if readings:
            proofs.append(f"现场监测记录{readings}份")
        if loggers:
            proofs.append(f"数采仪数据记录{loggers}份")
        if crosschecks:
            proofs.append(f"在线监控数据比对记录{crosschecks}份")
        date_zh = f"{day.year}年{day.month}月{day.day}日"
        out["inspection.facts"] = (f"{date_zh}，我局执法人员对你单位进行现场检查，发现：{found}。\n"
                                   f"以上事实有{'、'.join(proofs)}等证据为证。")
        if seen:  # the 案由 names what the party is suspected of
            out["case.title"] = f"{st.party_name}涉嫌{'、'.join(v.title for v in seen)}"
            breaches = "、".join(dict.fromkeys(v.breaches for v in seen))
            bases = "、".join(dict.fromkeys(v.penalty_basis for v in seen))
            out["inspection.provisions"] = (f"你单位的上述行为违反了{breaches}的规定。依据《中华人民共和国行政处罚法》"
                                            f"第二十八条第一款和{bases}的规定，我局责令你单位改正违法行为。")
            out["inspection.penalty_provisions"] = f"你单位的上述行为违反了{breaches}的规定。依据{bases}的规定，"
            # the same provisions on every paper of the case
            out["inspection.breaches"] = f"你单位的上述行为违反了{breaches}的规定。"
            out["inspection.penalty_basis"] = f"依据{bases}的规定，我局拟对你单位作出如下行政处罚："
            out["inspection.summary"] = (f"{date_zh}，执法人员在{ORIGIN_LABELS_ZH[st.origin]}中发现{st.party_name}："
                                         f"{found}。上述行为涉嫌违反{breaches}的规定，依据{bases}应予处罚，"
                                         "符合立案条件。")
        return out

    # ------------------------------------------------------------ the record
    def draft_record(self, case_ref: str) -> dict[str, Any]:
        """The 现场检查（勘察）笔录's payload drafted from the inspection: the 检查情况 text written
        from the opening steps, the answers, findings, readings and photos."""

        with self.store.session() as s:
            insp = self._inspection(s, case_ref)
            st = self._status(s, insp)
            case = s.get(Case, insp.case_id)
            assert case is not None
            agency = s.get(Agency, case.agency_id) if case.agency_id else None
            evidence = {e.id: e for e in s.scalars(select(EvidenceItem).where(EvidenceItem.case_id == case.id))}
            crosschecks = [d.issued_at for d in s.scalars(select(Document).where(
                Document.case_id == case.id, Document.doc_type == "monitoring_crosscheck"))]
            legal_rep = s.scalar(select(Source.legal_rep).where(Source.id == case.source_id)) if case.source_id \
                else None
        lines: list[str] = []
        origin = ORIGIN_LABELS_ZH[insp.origin] + (f"（{insp.origin_ref}）" if insp.origin_ref else "")
        lines.append(f"本次检查系{origin}。")
        by_step = {x["step"]: x for x in st.steps}
        if "certificates_shown" in by_step:
            names = "、".join(m["name"] for m in st.team)
            lines.append(f"执法人员{names}于{_zh_time(by_step['certificates_shown']['at'])}向当事人出示执法证件，"
                         "说明检查目的，告知当事人依法享有的权利和配合检查的义务。")
        if "recusal_asked" in by_step:
            lines.append(f"经询问，当事人表示{by_step['recusal_asked']['details'].get('answer', '')}。")
        rep = by_step.get("representative_identified")
        if rep:
            d = rep["details"]
            lines.append(f"现场负责人{d.get('name', '')}（{d.get('position', '')}）在场配合检查。")
        absent = by_step.get("party_absent")
        if absent:
            lines.append(f"当事人不在场，见证人{absent['details'].get('witness', '')}在场见证。")
        groups: dict[str, list[ItemState]] = {}
        for x in st.items:
            if x.answer in ("compliant", "non_compliant", "could_not_check"):
                groups.setdefault(x.checklist, []).append(x)
        for cid, xs in groups.items():
            cl = F.checklists()[cid]
            parts = []
            for x in xs:
                text = f"{x.item.check}：{ANSWER_ZH[x.answer or '']}"
                if x.note:
                    text += f"（{x.note}）"
                photos = sum(1 for e in x.evidence_ids if e in evidence and evidence[e].kind in ("photo", "video"))
                readings = [evidence[e] for e in x.evidence_ids if e in evidence and evidence[e].kind ==
                            "instrument_reading"]
                if photos:
                    text += f"，现场拍摄照片（视频）{photos}份"
                if readings:
                    text += f"，现场监测记录{len(readings)}份"
                parts.append(text)
            lines.append(f"{cl.title}：" + "；".join(parts) + "。")
        lines += _logger_lines(evidence.values(), crosschecks)
        for i, f in enumerate(st.findings, start=1):
            lines.append(f"发现问题{i}：{f['description'].rstrip('。')}。")  # facts only: no legal conclusion here
        photos = sum(1 for e in evidence.values() if e.kind in ("photo", "video"))
        if photos:
            lines.append(f"现场共拍摄照片、视频{photos}份。")
        officers = [{"name": m["name"], "cert_no": m["cert_no"]} for m in st.team]
        recorder = next((m["name"] for m in st.team if m["recorder"]), "")
        rep_d = rep["details"] if rep else {}
        return {
            "agency_name": agency.name if agency else "",
            "start_time": st.started_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M"),
            "end_time": utcnow().astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M"),
            "place": st.place or "",
            "party_name": case.party_name,
            "credit_code": case.party_credit_code or "",
            "legal_rep": legal_rep or "",
            "present_name": rep_d.get("name") or (absent["details"].get("witness", "") if absent else ""),
            "present_position": rep_d.get("position", ""),
            "present_phone": rep_d.get("phone", ""),
            "present_id_no": rep_d.get("id_no", ""),
            "officers": officers,
            "recorder": recorder,
            "findings": "\n".join(lines),
            "party_comment": "",  # the party writes its own words on the paper: nothing is put in its mouth
            "party_signing": {"status": "absent", "witness": absent["details"].get("witness", ""),
                              "witness_id_no": absent["details"].get("witness_id_no", ""),
                              "photo": absent.get("evidence_id") or ""} if absent else None,
        }

    # ------------------------------------------------------------ helpers
    def _inspection(self, s: Session, ref: str) -> Inspection:
        case = s.get(Case, ref) or s.scalar(select(Case).where(Case.number == ref))
        insp = s.get(Inspection, case.id) if case is not None else None
        if insp is None:
            raise NotFound(_("No inspection {ref}.").format(ref=ref))
        return insp

    def _open(self, s: Session, ref: str, actor: OfficerInfo) -> Inspection:
        """The inspection, still under way, with ``actor`` on its team."""
        insp = self._inspection(s, ref)
        case = s.get(Case, insp.case_id)
        if case is None or case.status != "inspecting":
            raise PermissionDenied(_("This inspection has ended: nothing more is recorded in it."))
        if actor.id not in {m.officer_id for m in insp.officers}:
            raise PermissionDenied(_("{name} is not on this inspection's team.").format(name=actor.name))
        return insp

    @staticmethod
    def _items(insp: Inspection) -> dict[str, F.Item]:
        out: dict[str, F.Item] = {}
        for ref in json.loads(insp.checklists):
            cl = F.checklists().get(ref.split("@")[0])
            if cl is not None:
                out.update({it.id: it for it in cl.items})
        return out

    @staticmethod
    def _check_evidence(s: Session, case_id: str, ids: list[str] | tuple[str, ...]) -> None:
        for eid in ids:
            item = s.get(EvidenceItem, eid)
            if item is None or item.case_id != case_id:
                raise ValidationError(_("Evidence {id} is not this inspection's.").format(id=eid), "evidence")


def step_field_label(name: str) -> str:
    """What an opening step's field is called, for the officer."""
    return _STEP_FIELD_LABELS[name]()


def _zh_time(at: datetime) -> str:
    """A time as an official document writes it: 2026年11月30日9时05分 (local)."""
    t = at.astimezone(LOCAL_TZ)
    return f"{t.year}年{t.month}月{t.day}日{t.hour}时{t.minute:02d}分"


_STEP_FIELD_LABELS = {
    "answer": lambda: _("The party's answer"),
    "name": lambda: _("Name"),
    "id_no": lambda: _("ID number"),
    "position": lambda: _("Position"),
    "relation": lambda: _("Relation to the party"),
    "phone": lambda: _("Phone"),
    "witness": lambda: _("Witness"),
    "witness_id_no": lambda: _("Witness's ID number"),
    "reason": lambda: _("Reason"),
}

__all__ = ["ANSWERS", "ORIGINS", "STEPS", "InspectionService", "InspectionStatus", "ItemState", "step_field_label"]


def _logger_lines(items: Any, crosschecks: list[datetime]) -> list[str]:
    """What the record says of each data logger read on site, and of the cross-check records issued."""
    out = []
    for e in sorted((e for e in items if e.media_type == LOGGER_EXCHANGE), key=lambda e: e.imported_at):
        meta = json.loads(e.metadata_json or "{}")
        logger, period = meta.get("logger") or {}, meta.get("period") or {}
        clock = logger.get("clock") or {}
        when = ""
        if period.get("begin") and period.get("end"):
            when = "至".join(_zh_time(datetime.fromisoformat(period[k])) for k in ("begin", "end"))
        text = (f"执法人员以上位机方式读取了当事人数采仪（MN：{logger.get('mn') or '未知'}）的时钟和{when}的监测数据，"
                "通讯全过程已原样记录")
        if clock.get("offset_s") is not None:
            text += f"，数采仪时钟与执法终端相差{float(clock['offset_s']):+.1f}秒"
        out.append(text + "。")
    if crosschecks:
        out.append(f"执法人员将数采仪数据与便携式仪器同期监测结果进行了比对，制作《在线监控数据比对记录》{len(crosschecks)}份（附后）。")
    return out
