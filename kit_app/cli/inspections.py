"""On-site inspections: start, confirm the team, record the opening steps, answer the checklist,
record findings, show, draft the record, and end the inspection."""

from __future__ import annotations

import argparse
from typing import Any

from kit_app.cli.common import (
    EXIT_OK,
    Command,
    acting_officer,
    actions,
    emit,
    json_flag,
    officer_flag,
    read_password,
)
from kit_app.db import Store
from kit_app.dto import OfficerInfo
from kit_app.errors import UsageError
from kit_app.i18n import _

FINISH = {"compliant": "finish_compliant", "correction_order": "finish_with_order", "case": "propose_filing"}


def _officer(store: Store, args: argparse.Namespace) -> OfficerInfo:
    officer = acting_officer(store, args)
    if officer is None:
        raise UsageError(_("name the officer: --officer"))
    return officer


def _print_status(st: Any) -> None:
    print(f"{st.number}  {st.party_name}")
    print(_("  progress: {done} / {total} required items answered").format(done=st.answered_required,
                                                                          total=st.required))
    for m in st.team:
        print(f"  {'✓' if m['confirmed'] else '·'} {m['name']} ({m['cert_no']})" + (" *" if m["recorder"] else ""))
    print(_("  next: {step}").format(step=st.next_step))


def cmd_inspection(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.inspections import InspectionService
    from kit_app.services.lifecycle import CaseLifecycle

    svc = InspectionService(store)
    if args.action == "start":
        case = svc.start(actor=_officer(store, args), party=args.party, origin=args.origin, team=args.team,
                         recorder=args.recorder, origin_ref=args.ref, place=args.place)
        emit(args, {"id": case.id, "number": case.number}, lambda: print(case.number))
        return EXIT_OK
    if args.action == "confirm":
        officer = svc.confirm(args.id, args.cert, read_password())
        emit(args, {"confirmed": officer.cert_no}, lambda: print(_("{name} confirmed.").format(name=officer.name)))
        return EXIT_OK
    if args.action == "step":
        fields = dict(kv.split("=", 1) for kv in args.set)
        svc.record_step(args.id, _officer(store, args), args.step, fields, evidence_id=args.evidence)
    elif args.action == "answer":
        svc.answer(args.id, _officer(store, args), args.item, args.answer, note=args.note, evidence_ids=args.evidence)
    elif args.action == "finding":
        fid = svc.add_finding(args.id, _officer(store, args), args.description, item_id=args.item,
                              violation_id=args.violation, evidence_ids=args.evidence)
        emit(args, {"id": fid}, lambda: print(fid))
        return EXIT_OK
    elif args.action == "draft":
        payload = svc.draft_record(args.id)
        emit(args, payload, lambda: print(payload["findings"]))
        return EXIT_OK
    elif args.action == "finish":
        ev = CaseLifecycle(store).act(args.id, FINISH[args.outcome], _officer(store, args), reason=args.reason)
        emit(args, ev, lambda: print(ev.action_label))
        return EXIT_OK
    st = svc.status(args.id)
    emit(args, st, lambda: _print_status(st))
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    from kit_app.services.inspections import ANSWERS, ORIGINS, STEPS

    isub = actions(sub, "inspection", _("on-site inspections"))
    a = isub.add_parser("start", help=_("start an inspection (a case at the on-site inspection stage)"))
    a.add_argument("--party", required=True, metavar="SOURCE_ID_OR_NAME")
    a.add_argument("--origin", required=True, choices=sorted(ORIGINS))
    a.add_argument("--ref", help=_("task number and draw record, complaint number…"))
    a.add_argument("--team", action="append", default=[], metavar="ID_OR_CERT_NO",
                   help=_("another officer of the team (repeatable; two officers at least)"))
    a.add_argument("--recorder", metavar="ID_OR_CERT_NO")
    a.add_argument("--place")
    officer_flag(a)
    json_flag(a)
    a = isub.add_parser("confirm", help=_("a team member confirms being present (password read from stdin)"))
    a.add_argument("id", metavar="ID_OR_NUMBER")
    a.add_argument("--cert", required=True, metavar="CERT_NO")
    json_flag(a)
    a = isub.add_parser("step", help=_("record an opening step"))
    a.add_argument("id", metavar="ID_OR_NUMBER")
    a.add_argument("step", choices=list(STEPS))
    a.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    a.add_argument("--evidence", metavar="EVIDENCE_ID")
    officer_flag(a)
    json_flag(a)
    a = isub.add_parser("answer", help=_("answer a checklist item"))
    a.add_argument("id", metavar="ID_OR_NUMBER")
    a.add_argument("item")
    a.add_argument("answer", choices=list(ANSWERS))
    a.add_argument("--note")
    a.add_argument("--evidence", action="append", default=[], metavar="EVIDENCE_ID")
    officer_flag(a)
    json_flag(a)
    a = isub.add_parser("finding", help=_("record a finding"))
    a.add_argument("id", metavar="ID_OR_NUMBER")
    a.add_argument("--description", required=True)
    a.add_argument("--item")
    a.add_argument("--violation")
    a.add_argument("--evidence", action="append", default=[], metavar="EVIDENCE_ID")
    officer_flag(a)
    json_flag(a)
    for name, text in (("show", _("progress, team, steps, answers, findings and what is missing")),
                       ("draft", _("the inspection record drafted from the inspection (JSON payload)"))):
        a = isub.add_parser(name, help=text)
        a.add_argument("id", metavar="ID_OR_NUMBER")
        json_flag(a)
    a = isub.add_parser("finish", help=_("end the inspection (refused while something is missing)"))
    a.add_argument("id", metavar="ID_OR_NUMBER")
    a.add_argument("--outcome", required=True, choices=sorted(FINISH))
    a.add_argument("--reason")
    officer_flag(a)
    json_flag(a)


COMMANDS: dict[str, Command] = {
    "inspection": cmd_inspection,
}
