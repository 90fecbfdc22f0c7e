"""Base data: pollution sources and construction projects — import, search, show, demo data."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from kit_app.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    Command,
    acting_officer,
    actions,
    emit,
    json_flag,
    officer_flag,
)
from kit_app.db import Store
from kit_app.errors import UsageError
from kit_app.i18n import _


def cmd_import(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.importer import ImportService

    svc = ImportService(store)
    fn = svc.import_sources if args.command == "import-sources" else svc.import_projects
    res = fn(args.file, actor=acting_officer(store, args))

    def human() -> None:
        print(
            _("{file} ({encoding}): {imported} imported, {updated} updated, {unchanged} unchanged, "
              "{rejected} rows rejected.").format(
                file=args.file, encoding=res.encoding, imported=res.imported, updated=res.updated,
                unchanged=res.unchanged, rejected=len({r.row for r in res.rejected}),
            )
        )
        for r in res.rejected:
            print(_("  row {row}, column {column}: {reason}").format(row=r.row, column=r.column, reason=r.reason))

    payload = {
        "imported": res.imported,
        "updated": res.updated,
        "unchanged": res.unchanged,
        "rejected": res.rejected,
        "encoding": res.encoding,
    }
    emit(args, payload, human)
    return EXIT_PARTIAL if res.rejected else EXIT_OK


def cmd_search(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.search import SearchService

    if args.limit < 1:
        raise UsageError(_("--limit must be at least 1."))
    hits = SearchService(store).search(args.query, limit=args.limit)
    payload = [
        {
            "id": h.row.id,
            "name": h.row.name,
            "credit_code": h.row.credit_code,
            "county": h.row.county,
            "address": h.row.address,
            "rank": int(h.row.rank),
            "match": h.match,
        }
        for h in hits
    ]

    def human() -> None:
        if not hits:
            print(_("No pollution source matches {query!r}.").format(query=args.query))
        for h in hits:
            print(f"{int(h.row.rank):>3}  {h.row.name}  {h.row.credit_code or '-'}  {h.row.county or '-'}  {h.row.id}")

    emit(args, payload, human)
    return EXIT_OK


def cmd_demo(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.demo import DemoGenerator

    if args.sources < 0 or args.projects < 0:
        raise UsageError(_("Counts cannot be negative."))
    res = DemoGenerator(store, seed=args.seed).generate(
        args.sources, args.projects, officers=not args.no_officers
    )

    def human() -> None:
        print(_("Generated {sources} pollution sources and {projects} construction projects "
                "({accepted} accepted) with seed {seed}.").format(
            sources=res.sources, projects=res.projects, accepted=res.accepted_projects, seed=res.seed))
        for o in res.officers:
            print(_("  demo officer {name}: certificate {cert}, password {password}").format(
                name=o["name"], cert=o["cert_no"], password=o["password"]))

    emit(args, res, human)
    return EXIT_OK


def cmd_source(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.sources import SourceService

    d = SourceService(store).get(args.id)

    def human() -> None:
        print(d.name)
        for label, value in (
            (_("Credit code"), d.credit_code), (_("Address"), d.address),
            (_("County"), f"{d.city or ''}{d.county or ''}"), (_("Industry"), d.industry),
            (_("Permit number"), d.permit_no),
        ):
            print(f"  {label}: {value or '-'}")

    emit(args, d, human)
    return EXIT_OK


def cmd_project(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.projects import ProjectService

    svc = ProjectService(store)
    if args.action == "accept":
        p, source_id, created = svc.accept(args.id, args.date, actor=acting_officer(store, args))
        payload = {"project": p, "source_id": source_id, "source_created": created}
        msg = (_("Recorded the acceptance; new pollution source {id}.") if created
               else _("Recorded the acceptance; linked to pollution source {id}.")).format(id=source_id)
        emit(args, payload, lambda: print(msg))
        return EXIT_OK
    if args.action == "history":
        events = svc.history(args.id)
        emit(args, events, lambda: [print(e.at.isoformat(), e.kind, e.detail) for e in events])
        return EXIT_OK
    rows = svc.find(status=args.status, limit=args.limit)
    emit(args, rows, lambda: [print(f"{r.eia_approval_no or '-'}  {r.status:<18} {r.name}  {r.id}") for r in rows])
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("import-sources", help=_("import pollution sources from CSV or XLSX"))
    s.add_argument("file", type=Path)
    officer_flag(s)
    json_flag(s)
    s = sub.add_parser("import-projects", help=_("import construction projects from CSV or XLSX"))
    s.add_argument("file", type=Path)
    officer_flag(s)
    json_flag(s)
    s = sub.add_parser("search", help=_("find pollution sources"))
    s.add_argument("query")
    s.add_argument("--limit", type=int, default=20)
    json_flag(s)
    s = sub.add_parser("demo-data", help=_("generate realistic synthetic base data"))
    s.add_argument("--sources", type=int, default=23000)
    s.add_argument("--projects", type=int, default=3000)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--no-officers", action="store_true", help=_("do not create the demo officers"))
    json_flag(s)
    ssub = actions(sub, "source", _("pollution sources"))
    a = ssub.add_parser("show", help=_("show a pollution source"))
    a.add_argument("id")
    json_flag(a)
    psub = actions(sub, "project", _("construction projects"))
    a = psub.add_parser("list", help=_("list construction projects"))
    a.add_argument("--status", choices=("approved", "under_construction", "trial_operation", "accepted"))
    a.add_argument("--limit", type=int, default=100)
    json_flag(a)
    a = psub.add_parser("accept", help=_("record a completion acceptance (竣工环保验收)"))
    a.add_argument("id")
    a.add_argument("--date", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    officer_flag(a)
    json_flag(a)
    a = psub.add_parser("history", help=_("a project's lifecycle history"))
    a.add_argument("id")
    json_flag(a)


COMMANDS: dict[str, Command] = {
    "import-sources": cmd_import,
    "import-projects": cmd_import,
    "search": cmd_search,
    "demo-data": cmd_demo,
    "source": cmd_source,
    "project": cmd_project,
}
