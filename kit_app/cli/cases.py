"""Cases: open, show, list, move through the case procedure; the deadlines of one's cases."""

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
)
from kit_app.db import Store
from kit_app.dto import to_json
from kit_app.i18n import _
from kit_app.timeutil import local_today


def _print_case(c: Any) -> None:
    from kit_app.timeutil import format_local

    print(f"{c.number}  {c.title}")
    print(_("  party: {name} {code}").format(name=c.party["name"], code=c.party["credit_code"] or ""))
    print(_("  status: {status}, opened {time}").format(status=c.status, time=format_local(c.opened_at)))
    if c.officers:
        print(_("  officers: {list}").format(list=", ".join(f"{o.name} ({o.cert_no})" for o in c.officers)))
    print(f"  id: {c.id}")


def _print_status(st: Any) -> None:
    from kit_app.timeutil import format_local

    print(_("  stage: {state}").format(state=st.state_label))
    for e in st.history:
        who = f"{e.actor} ({e.actor_cert})" if e.actor_cert else (e.actor or "")
        why = f"  — {e.reason}" if e.reason else ""
        print(f"    {e.seq:>2}. {format_local(e.at)}  {e.action_label}  {who}{why}")
    for d in st.deadlines:
        print("  " + _deadline_line(d))
    for a in st.actions:
        print("  " + (f"→ {a.label}" if a.allowed else f"✗ {a.label}: {a.why_not}"))


def _deadline_line(d: Any) -> str:
    if d.met_on is not None:
        state = _("done {date}").format(date=d.met_on.isoformat())
    elif d.days_left < 0:
        state = _("OVERDUE by {n} days").format(n=-d.days_left)
    else:
        state = _("{n} days left").format(n=d.days_left)
    extra = (" " + _("(estimated: no holiday calendar for that year yet)")) if d.estimated else ""
    fee = (" " + _("late payment surcharge {amount} yuan").format(amount=d.surcharge_yuan)) if d.surcharge_yuan else ""
    return f"{d.label}: {d.due.isoformat()} · {state}{extra}{fee}"


def cmd_case(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.cases import CaseService
    from kit_app.services.lifecycle import ARCHIVE, CaseLifecycle

    svc = CaseService(store)
    if args.action == "new":
        c = svc.create(
            party=args.party, title=args.title, actor=acting_officer(store, args),
            officer_ids=args.with_officers, party_credit_code=args.party_credit_code,
            party_address=args.party_address, discovered_on=args.discovered,
        )
        emit(args, {"id": c.id, "number": c.number}, lambda: _print_case(c))
        return EXIT_OK
    if args.action == "show":
        c = svc.get(args.id)
        st = CaseLifecycle(store).status(c.id, acting_officer(store, args))
        def shown() -> None:
            _print_case(c)
            _print_status(st)

        emit(args, to_json(c) | {"procedure": to_json(st)}, shown)
        return EXIT_OK
    if args.action == "transition":
        life = CaseLifecycle(store)
        action = args.do or _action_to(life, args.id, args.to)
        fields = dict(kv.split("=", 1) for kv in args.set)
        actor = acting_officer(store, args)
        if action == ARCHIVE and actor is not None:  # the case file is built and kept with the step
            from kit_app.services.casefile import CaseFileService

            ev = CaseFileService(store).archive(args.id, actor, reason=args.reason).event
        else:
            ev = life.act(args.id, action, actor, reason=args.reason, details=fields)
        emit(args, ev, lambda: print(_("{action}: the case is now at {state}.").format(
            action=ev.action_label, state=life.status(args.id).state_label)))
        return EXIT_OK
    rows = svc.find(limit=args.limit)

    def human() -> None:
        for r in rows:
            print(f"{r.number}  {r.title}  {r.party_name}  {r.id}")

    emit(args, rows, human)
    return EXIT_OK


def _action_to(life: Any, case: str, to: str | None) -> str:
    """The action that leads the case from where it is to ``to``."""
    from kit_app.errors import UsageError

    st = life.status(case)
    if not to:
        raise UsageError(_("say what to do: --to STATE or --action ACTION"))
    found = [a.id for a in life.procedure.actions_from(st.state) if a.to == to]
    if len(found) != 1:
        known = ", ".join(sorted({a.to for a in life.procedure.actions_from(st.state) if a.to}))
        raise UsageError(_("From {state} no single step leads to {to} (possible: {known}).").format(
            state=st.state_label, to=to, known=known or "—"))
    return str(found[0])


def cmd_deadlines(store: Store, args: argparse.Namespace) -> int:

    from kit_app.errors import UsageError
    from kit_app.services.lifecycle import CaseLifecycle

    officer = acting_officer(store, args)
    if officer is None:
        raise UsageError(_("name the officer whose deadlines to list: --officer"))
    rows = CaseLifecycle(store).my_deadlines(officer, today=args.today or local_today())
    payload = [{"case_id": st.case_id, "number": st.number, "title": st.title, "party_name": st.party_name,
                "state": st.state, "state_label": st.state_label, "deadline": d} for st, d in rows]
    emit(args, payload, lambda: [print(f"{st.number}  {st.party_name}  " + _deadline_line(d)) for st, d in rows])
    return EXIT_OK


def _day(text: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("not a date (YYYY-MM-DD): {value}").format(value=text)) from None


def add_parsers(sub: Any) -> None:
    csub = actions(sub, "case", _("cases"))
    a = csub.add_parser("new", help=_("open a case"))
    a.add_argument("--party", required=True, metavar="SOURCE_ID_OR_NAME",
                   help=_("a source id, credit code or exact name; any other text is an unlisted party"))
    a.add_argument("--title", required=True)
    a.add_argument("--party-credit-code", help=_("credit code of an unlisted party"))
    a.add_argument("--party-address", help=_("address of an unlisted party"))
    a.add_argument("--with", dest="with_officers", action="append", default=[], metavar="ID_OR_CERT_NO",
                   help=_("another officer working the case (repeatable)"))
    a.add_argument("--discovered", type=_day, metavar="YYYY-MM-DD",
                   help=_("the day the violation was found (default: today); the filing period runs from it"))
    officer_flag(a)
    json_flag(a)
    a = csub.add_parser("show", help=_("show a case, its stage, history and deadlines"))
    a.add_argument("id", metavar="ID_OR_NUMBER")
    officer_flag(a)
    json_flag(a)
    a = csub.add_parser("transition",
                        help=_("take a step of the case procedure (refused with the rule that forbids it)"))
    a.add_argument("id", metavar="ID_OR_NUMBER")
    how = a.add_mutually_exclusive_group(required=True)
    how.add_argument("--to", metavar="STATE", help=_("the stage to move the case to"))
    how.add_argument("--action", dest="do", metavar="ACTION",
                     help=_("the step to take (also steps that record a fact)"))
    a.add_argument("--reason", help=_("why (recorded in the case)"))
    a.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help=_("what the step records, e.g. outcome=penalty, fine_yuan=50000 (repeatable)"))
    officer_flag(a)
    json_flag(a)
    a = csub.add_parser("list", help=_("list cases"))
    a.add_argument("--limit", type=int, default=100)
    json_flag(a)


    d = sub.add_parser("deadlines", help=_("the open deadlines of an officer's cases, most urgent first"))
    d.add_argument("--today", type=_day, metavar="YYYY-MM-DD", help=_("count from this day instead of today"))
    officer_flag(d)
    json_flag(d)


COMMANDS: dict[str, Command] = {
    "case": cmd_case,
    "deadlines": cmd_deadlines,
}
