"""Cases: open, show, list."""

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
from kit_app.i18n import _


def _print_case(c: Any) -> None:
    from kit_app.timeutil import format_local

    print(f"{c.number}  {c.title}")
    print(_("  party: {name} {code}").format(name=c.party["name"], code=c.party["credit_code"] or ""))
    print(_("  status: {status}, opened {time}").format(status=c.status, time=format_local(c.opened_at)))
    if c.officers:
        print(_("  officers: {list}").format(list=", ".join(f"{o.name} ({o.cert_no})" for o in c.officers)))
    print(f"  id: {c.id}")


def cmd_case(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.cases import CaseService

    svc = CaseService(store)
    if args.action == "new":
        c = svc.create(
            party=args.party, title=args.title, actor=acting_officer(store, args),
            officer_ids=args.with_officers, party_credit_code=args.party_credit_code,
            party_address=args.party_address,
        )
        emit(args, {"id": c.id, "number": c.number}, lambda: _print_case(c))
        return EXIT_OK
    if args.action == "show":
        c = svc.get(args.id)
        emit(args, c, lambda: _print_case(c))
        return EXIT_OK
    rows = svc.find(limit=args.limit)

    def human() -> None:
        for r in rows:
            print(f"{r.number}  {r.title}  {r.party_name}  {r.id}")

    emit(args, rows, human)
    return EXIT_OK


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
    officer_flag(a)
    json_flag(a)
    a = csub.add_parser("show", help=_("show a case"))
    a.add_argument("id", metavar="ID_OR_NUMBER")
    json_flag(a)
    a = csub.add_parser("list", help=_("list cases"))
    a.add_argument("--limit", type=int, default=100)
    json_flag(a)


COMMANDS: dict[str, Command] = {
    "case": cmd_case,
}
