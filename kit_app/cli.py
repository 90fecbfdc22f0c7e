"""The ``kit-app`` command line. Sub-commands are headless; with ``--json`` they print
machine-readable JSON on stdout. Exit codes: 0 ok, 1 failure, 2 usage error, 3 partial success.

Without a sub-command the launcher (``ui.launcher``) starts the desktop application.

The command line is the kit's local administration channel: it runs with the rights of whoever
can open the data dir. Commands that act for an officer take ``--officer ID_OR_CERT_NO`` and are
then held to that officer's roles.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from kit_app import __version__
from kit_app.config import resolve_data_dir, setup_logging
from kit_app.db import Store, open_store
from kit_app.dto import OfficerInfo, to_json
from kit_app.errors import KitError, UsageError
from kit_app.i18n import _, set_language
from kit_app.storage import free_bytes
from kit_app.storage import human as human_size

log = logging.getLogger("kit_app.cli")

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, _("{prog}: error: {message}\n").format(prog=self.prog, message=message))


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help=_("print machine-readable JSON on stdout"))


def _officer_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--officer",
        metavar="ID_OR_CERT_NO",
        help=_("act as this officer (their roles apply)"),
    )


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="kit-app",
        description=_("Enforcement Evidence Kit — environmental enforcement evidence workstation."),
    )
    p.add_argument("--version", action="version", version=f"kit-app {__version__}")
    p.add_argument("--data-dir", metavar="DIR", help=_("data directory (default: $KIT_DATA_DIR or the user data dir)"))
    p.add_argument("--lang", choices=("zh_CN", "en"), help=_("language of messages (default zh_CN)"))
    p.add_argument("--demo", action="store_true", help=_("use the demo data directory with generated base data"))
    p.add_argument("-v", "--verbose", action="store_true", help=_("log details to stderr"))
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)

    s = sub.add_parser("import-sources", help=_("import pollution sources from CSV or XLSX"))
    s.add_argument("file", type=Path)
    _officer_flag(s)
    _json_flag(s)

    s = sub.add_parser("import-projects", help=_("import construction projects from CSV or XLSX"))
    s.add_argument("file", type=Path)
    _officer_flag(s)
    _json_flag(s)

    s = sub.add_parser("search", help=_("find pollution sources"))
    s.add_argument("query")
    s.add_argument("--limit", type=int, default=20)
    _json_flag(s)

    s = sub.add_parser("demo-data", help=_("generate realistic synthetic base data"))
    s.add_argument("--sources", type=int, default=23000)
    s.add_argument("--projects", type=int, default=3000)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--no-officers", action="store_true", help=_("do not create the demo officers"))
    _json_flag(s)

    s = sub.add_parser("officer", help=_("officer accounts"))
    osub = s.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)
    a = osub.add_parser("add", help=_("add an officer (password read from stdin)"))
    a.add_argument("--name", required=True)
    a.add_argument("--cert", required=True, help=_("enforcement certificate number (执法证号)"))
    a.add_argument("--role", required=True, action="append",
                   help=_("officer, reviewer or admin (repeat or separate with commas)"))
    a.add_argument("--agency", metavar="CODE", help=_("administrative division code of the agency"))
    a.add_argument("--password-stdin", action="store_true", required=True,
                   help=_("read the password from standard input"))
    _officer_flag(a)
    _json_flag(a)
    a = osub.add_parser("list", help=_("list officers"))
    _json_flag(a)
    a = osub.add_parser("unlock", help=_("clear a lockout after failed logins"))
    a.add_argument("ref", metavar="ID_OR_CERT_NO")
    _officer_flag(a)
    _json_flag(a)

    s = sub.add_parser("case", help=_("cases"))
    csub = s.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)
    a = csub.add_parser("new", help=_("open a case"))
    a.add_argument("--party", required=True, metavar="SOURCE_ID_OR_NAME",
                   help=_("a source id, credit code or exact name; any other text is an unlisted party"))
    a.add_argument("--title", required=True)
    a.add_argument("--party-credit-code", help=_("credit code of an unlisted party"))
    a.add_argument("--party-address", help=_("address of an unlisted party"))
    a.add_argument("--with", dest="with_officers", action="append", default=[], metavar="ID_OR_CERT_NO",
                   help=_("another officer working the case (repeatable)"))
    _officer_flag(a)
    _json_flag(a)
    a = csub.add_parser("show", help=_("show a case"))
    a.add_argument("id", metavar="ID_OR_NUMBER")
    _json_flag(a)
    a = csub.add_parser("list", help=_("list cases"))
    a.add_argument("--limit", type=int, default=100)
    _json_flag(a)

    s = sub.add_parser("source", help=_("pollution sources"))
    ssub = s.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)
    a = ssub.add_parser("show", help=_("show a pollution source"))
    a.add_argument("id")
    _json_flag(a)

    s = sub.add_parser("project", help=_("construction projects"))
    psub = s.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)
    a = psub.add_parser("list", help=_("list construction projects"))
    a.add_argument("--status", choices=("approved", "under_construction", "trial_operation", "accepted"))
    a.add_argument("--limit", type=int, default=100)
    _json_flag(a)
    a = psub.add_parser("accept", help=_("record a completion acceptance (竣工环保验收)"))
    a.add_argument("id")
    a.add_argument("--date", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    _officer_flag(a)
    _json_flag(a)
    a = psub.add_parser("history", help=_("a project's lifecycle history"))
    a.add_argument("id")
    _json_flag(a)

    s = sub.add_parser("ingest", help=_("import evidence files and folders into a case"))
    s.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    s.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    s.add_argument("--officer", required=True, metavar="ID_OR_CERT_NO", help=_("the collecting officer"))
    s.add_argument("--device", help=_("the capturing device, when the files do not say"))
    s.add_argument("--description")
    s.add_argument("--no-thumbnails", action="store_true", help=_("do not make previews now"))
    _json_flag(s)

    s = sub.add_parser("evidence", help=_("evidence items"))
    esub = s.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)
    a = esub.add_parser("show", help=_("an item, its metadata, stored path and custody events"))
    a.add_argument("id")
    _json_flag(a)
    a = esub.add_parser("list", help=_("the evidence of a case"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    _json_flag(a)
    a = esub.add_parser("physical", help=_("record a physical item (sample, seized goods) with its seal"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    a.add_argument("--officer", required=True, metavar="ID_OR_CERT_NO")
    a.add_argument("--seal", required=True, help=_("seal number (封条编号)"))
    a.add_argument("--description", required=True)
    a.add_argument("--place")
    _json_flag(a)

    s = sub.add_parser("custody", help=_("the chain of custody"))
    ksub = s.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)
    a = ksub.add_parser("transfer", help=_("hand an item over to another officer"))
    a.add_argument("evidence_id")
    a.add_argument("--from", dest="from_officer", required=True, metavar="ID_OR_CERT_NO")
    a.add_argument("--to", dest="to_officer", required=True, metavar="ID_OR_CERT_NO")
    a.add_argument("--reason", required=True)
    _json_flag(a)
    for name, helptext in (("seal", _("record that an item was sealed")),
                           ("unseal", _("record that an item was unsealed")),
                           ("lab", _("record that an item was submitted to a laboratory")),
                           ("annotate", _("add a note to an item's history")),
                           ("correct", _("correct an earlier event (a new event that references it)"))):
        a = ksub.add_parser(name, help=helptext)
        a.add_argument("evidence_id")
        _officer_flag(a)
        a.add_argument("--reason", default="")
        if name in ("seal", "unseal"):
            a.add_argument("--seal", required=True, help=_("seal number (封条编号)"))
        if name == "lab":
            a.add_argument("--lab", required=True, help=_("the laboratory"))
        if name == "correct":
            a.add_argument("--event", required=True, help=_("id of the event corrected"))
        _json_flag(a)
    a = ksub.add_parser("export", help=_("write a case's custody events as JSON Lines with the kit's public key"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    a.add_argument("-o", "--output", required=True, type=Path)
    _json_flag(a)

    s = sub.add_parser("verify", help=_("re-hash stored files and verify the custody chain and signatures"))
    s.add_argument("--case", metavar="ID_OR_NUMBER")
    s.add_argument("--fast", action="store_true",
                   help=_("check every hash and link but only the last event's signature"))
    _json_flag(s)

    s = sub.add_parser("keys", help=_("the kit's signing key"))
    ysub = s.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)
    a = ysub.add_parser("export", help=_("print the kit's public key (for the central server)"))
    _json_flag(a)

    for proto, helptext in (("hj212", _("decode HJ 212 packets, one a line, from standard input")),
                            ("nmea", _("decode NMEA 0183 sentences, one a line, from standard input"))):
        s = sub.add_parser(proto, help=helptext)
        dsub = s.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)
        a = dsub.add_parser("decode", help=helptext)
        _json_flag(a)

    s = sub.add_parser("devices", help=_("serial instruments and GNSS receivers"))
    vsub = s.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)
    a = vsub.add_parser("read", help=_("print readings from a port as they arrive"))
    a.add_argument("--port", required=True, help=_("COM3, /dev/ttyUSB0, a pty path or socket://host:port"))
    a.add_argument("--protocol", required=True, choices=("hj212", "nmea", "modbus", "ascii"))
    a.add_argument("--baud", type=int, default=9600)
    a.add_argument("--count", type=int, help=_("exit after this many readings"))
    a.add_argument("--timeout", type=float, default=10.0, help=_("seconds of silence before giving up"))
    a.add_argument("--model", default="generic-ph", help=_("Modbus register map (see resources/devices)"))
    a.add_argument("--unit", type=int, default=1, help=_("Modbus unit address"))
    a.add_argument("--pattern", help=_("regular expression for vendor ASCII lines, with a (?P<value>…) group"))
    a.add_argument("--interval", type=float, default=1.0, help=_("Modbus polling interval, seconds"))
    _json_flag(a)
    a = vsub.add_parser("list", help=_("serial ports, cameras found and the devices configured on this kit"))
    _json_flag(a)
    a = vsub.add_parser("add", help=_("configure a device on this kit"))
    a.add_argument("--name", required=True)
    a.add_argument("--driver", default="serial")
    a.add_argument("--port", required=True)
    a.add_argument("--protocol", choices=("hj212", "nmea", "modbus", "ascii"))
    a.add_argument("--baud", type=int, default=9600)
    a.add_argument("--model")
    a.add_argument("--unit", type=int, default=1)
    a.add_argument("--pattern")
    a.add_argument("--serial")
    a.add_argument("--calibrated")
    _json_flag(a)
    a = vsub.add_parser("remove", help=_("forget a configured device"))
    a.add_argument("name")
    _json_flag(a)
    a = vsub.add_parser("record", help=_("record a measurement session from a port as evidence of a case"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    a.add_argument("--officer", required=True, metavar="ID_OR_CERT_NO")
    a.add_argument("--port", required=True)
    a.add_argument("--protocol", required=True, choices=("hj212", "nmea", "modbus", "ascii"))
    a.add_argument("--baud", type=int, default=9600)
    a.add_argument("--count", type=int, default=10, help=_("valid readings to record"))
    a.add_argument("--timeout", type=float, default=10.0)
    a.add_argument("--model", default="generic-ph")
    a.add_argument("--unit", type=int, default=1)
    a.add_argument("--pattern")
    a.add_argument("--interval", type=float, default=1.0)
    a.add_argument("--instrument-model", help=_("the instrument's make and model"))
    a.add_argument("--serial", help=_("the instrument's serial number"))
    a.add_argument("--calibrated", help=_("the instrument's last calibration date (YYYY-MM-DD)"))
    a.add_argument("--gps-port", help=_("an NMEA receiver to take the place from"))
    a.add_argument("--description")
    _json_flag(a)

    s = sub.add_parser("render", help=_("render an enforcement document as PDF (or show its schema)"))
    s.add_argument("type", nargs="?", metavar="TYPE", help=_("document type id (see --list)"))
    g = s.add_mutually_exclusive_group()
    g.add_argument("--list", action="store_true", help=_("list the document types"))
    g.add_argument("--schema", action="store_true", help=_("print the JSON Schema of TYPE's payload"))
    g.add_argument("--example-payload", action="store_true", help=_("print TYPE's example payload as JSON"))
    g.add_argument("--example", action="store_true", help=_("render TYPE's example payload"))
    g.add_argument("--input", type=Path, metavar="PAYLOAD.json", help=_("render this payload"))
    s.add_argument("-o", "--output", type=Path, metavar="OUT.pdf")
    s.add_argument("--number", help=_("document number to print, e.g. 桂环罚〔2026〕12号"))
    _json_flag(s)

    s = sub.add_parser("numbers", help=_("document number blocks reserved for kits"))
    nsub = s.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)
    a = nsub.add_parser("add", help=_("reserve a block of document numbers for a kit"))
    a.add_argument("--agency", required=True, metavar="CODE", help=_("agency division code, e.g. 450103"))
    a.add_argument("--type", required=True, metavar="TYPE", help=_("document type id (see kit-app render --list)"))
    a.add_argument("--year", type=int, required=True)
    a.add_argument("--prefix", required=True, help=_("printed before 〔year〕, e.g. 青环责改"))
    a.add_argument("--from", dest="first", type=int, required=True)
    a.add_argument("--to", dest="last", type=int, required=True)
    a.add_argument("--kit", help=_("the kit the block is for (default: this kit)"))
    a.add_argument("--officer", metavar="ID_OR_CERT_NO", help=_("the administrator assigning it"))
    _json_flag(a)
    a = nsub.add_parser("list", help=_("the number blocks known to this kit, with how many are used"))
    _json_flag(a)

    s = sub.add_parser("document", help=_("issue and list the enforcement documents of a case"))
    dsub = s.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)
    a = dsub.add_parser("issue", help=_("validate, number, render and freeze a document; its PDF becomes evidence"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    a.add_argument("--officer", required=True, metavar="ID_OR_CERT_NO")
    a.add_argument("--type", required=True, metavar="TYPE")
    a.add_argument("--input", type=Path, required=True, metavar="PAYLOAD.json")
    a.add_argument("--corrects", metavar="DOCUMENT_ID", help=_("the issued document this one corrects"))
    a.add_argument("-o", "--output", type=Path, metavar="OUT.pdf", help=_("also write a copy of the PDF here"))
    _json_flag(a)
    a = dsub.add_parser("list", help=_("the documents issued in a case"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    _json_flag(a)
    a = dsub.add_parser("check", help=_("check a paper copy's QR code (kitdoc:…) against the issued document"))
    a.add_argument("code", help=_("the text of the QR code"))
    _json_flag(a)

    s = sub.add_parser("enrol", help=_("enrol this kit with the central server (a one-time code from its administrator)"))
    s.add_argument("--server", required=True, metavar="URL")
    s.add_argument("--code", required=True)
    s.add_argument("--name", help=_("a name for this kit, shown on the server"))
    s.add_argument("--fingerprint", help=_("the server's fingerprint as the administrator gave it: enrolment is "
                                           "refused if the server shows another"))
    s.add_argument("--ca-file", type=Path, help=_("the certificate authority of the server's HTTPS certificate, "
                                                  "if not a public one (PEM); kept for every later sync"))
    _json_flag(s)

    s = sub.add_parser("sync", help=_("one full sync with the central server: push, pull, upload"))
    _json_flag(s)

    s = sub.add_parser("status", help=_("data directory, schema revision and counts"))
    _json_flag(s)
    return p


# ------------------------------------------------------------------ output helpers
def _emit(args: argparse.Namespace, payload: Any, human: Callable[[], None]) -> None:
    if getattr(args, "json", False):
        json.dump(to_json(payload), sys.stdout, ensure_ascii=False, indent=None)
        sys.stdout.write("\n")
    else:
        human()


def _actor(store: Store, args: argparse.Namespace) -> OfficerInfo | None:
    from kit_app.services.officers import OfficerService

    ref = getattr(args, "officer", None)
    return OfficerService(store).get(ref) if ref else None


def _read_password(confirm: bool = False) -> str:
    if sys.stdin.isatty():
        pw = getpass.getpass(_("Password: "))
        if confirm and getpass.getpass(_("Repeat the password: ")) != pw:
            raise UsageError(_("The two passwords differ."))
        return pw
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


# ------------------------------------------------------------------ commands
def cmd_import(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.importer import ImportService

    svc = ImportService(store)
    fn = svc.import_sources if args.command == "import-sources" else svc.import_projects
    res = fn(args.file, actor=_actor(store, args))

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
    _emit(args, payload, human)
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

    _emit(args, payload, human)
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

    _emit(args, res, human)
    return EXIT_OK


def cmd_officer(store: Store, args: argparse.Namespace) -> int:
    from kit_app import roles as R
    from kit_app.services.officers import OfficerService

    svc = OfficerService(store)
    if args.action == "add":
        roles = [r.strip() for item in args.role for r in item.split(",") if r.strip()]
        password = _read_password(confirm=True)
        o = svc.add(
            name=args.name, cert_no=args.cert, roles=roles, password=password,
            agency_code=args.agency, actor=_actor(store, args),
        )
        _emit(args, {"id": o.id}, lambda: print(_("Added officer {name} ({cert}), id {id}.").format(
            name=o.name, cert=o.cert_no, id=o.id)))
        return EXIT_OK
    if args.action == "unlock":
        svc.unlock(args.ref, actor=_actor(store, args))
        _emit(args, {"ok": True}, lambda: print(_("Unlocked.")))
        return EXIT_OK
    officers = svc.list()

    def human() -> None:
        for o in officers:
            roles = ", ".join(_(R.ROLE_LABELS[r]) for r in o.roles)
            print(f"{o.cert_no:<14} {o.name:<8} {roles:<16} {o.agency_name or '-'}  {o.id}")

    _emit(args, officers, human)
    return EXIT_OK


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
            party=args.party, title=args.title, actor=_actor(store, args),
            officer_ids=args.with_officers, party_credit_code=args.party_credit_code,
            party_address=args.party_address,
        )
        _emit(args, {"id": c.id, "number": c.number}, lambda: _print_case(c))
        return EXIT_OK
    if args.action == "show":
        c = svc.get(args.id)
        _emit(args, c, lambda: _print_case(c))
        return EXIT_OK
    rows = svc.list(limit=args.limit)

    def human() -> None:
        for r in rows:
            print(f"{r.number}  {r.title}  {r.party_name}  {r.id}")

    _emit(args, rows, human)
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

    _emit(args, d, human)
    return EXIT_OK


def cmd_project(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.projects import ProjectService

    svc = ProjectService(store)
    if args.action == "accept":
        p, source_id, created = svc.accept(args.id, args.date, actor=_actor(store, args))
        payload = {"project": p, "source_id": source_id, "source_created": created}
        msg = (_("Recorded the acceptance; new pollution source {id}.") if created
               else _("Recorded the acceptance; linked to pollution source {id}.")).format(id=source_id)
        _emit(args, payload, lambda: print(msg))
        return EXIT_OK
    if args.action == "history":
        events = svc.history(args.id)
        _emit(args, events, lambda: [print(e.at.isoformat(), e.kind, e.detail) for e in events])
        return EXIT_OK
    rows = svc.list(status=args.status, limit=args.limit)
    _emit(args, rows, lambda: [print(f"{r.eia_approval_no or '-'}  {r.status:<18} {r.name}  {r.id}") for r in rows])
    return EXIT_OK


def cmd_status(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.cases import CaseService
    from kit_app.services.officers import OfficerService
    from kit_app.services.projects import ProjectService
    from kit_app.services.sources import SourceService

    payload = {
        "data_dir": str(store.data_dir),
        "kit_id": store.kit_id,
        "schema_revision": store.current_revision(),
        "sources": SourceService(store).count(),
        "projects": ProjectService(store).count(),
        "cases": CaseService(store).count(),
        "officers": OfficerService(store).count(),
        "storage": "full" if store.full else "read_only" if store.read_only else "writable",
        "free_bytes": free_bytes(store.data_dir),
    }

    def text() -> None:
        for k, v in payload.items():
            if k not in ("storage", "free_bytes"):
                print(f"{k}: {v}")
        print(_("free space: {free}").format(free=human_size(int(payload["free_bytes"]))))
        if store.full:
            print(_("The disk holding the data directory is full: it is opened read-only until space is freed."))
        elif store.read_only:
            print(_("The data directory is read-only: it can be browsed and verified, not changed."))

    _emit(args, payload, text)
    return EXIT_OK


def _evidence(store: Store):  # type: ignore[no-untyped-def]
    from kit_app.evidence.service import EvidenceService

    return EvidenceService(store)


def cmd_ingest(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.officers import OfficerService

    officer = OfficerService(store).get(args.officer)
    ev = _evidence(store)
    ev.recover()
    results = ev.ingest(args.case, officer, args.paths, device=args.device, description=args.description,
                        thumbnails=not args.no_thumbnails)

    def text() -> None:
        labels = {"ok": _("ok"), "duplicate": _("duplicate"), "error": _("error")}
        for r in results:
            print(f"{labels[r.status]:<10} {r.path}  {r.error or (r.sha256 or '')[:16]}")
            for w in r.warnings:
                print(_("           warning: {text}").format(text=w))
        ok = sum(r.status == "ok" for r in results)
        print(_("{ok} imported, {dup} duplicates, {err} failed.").format(
            ok=ok, dup=sum(r.status == "duplicate" for r in results), err=sum(r.status == "error" for r in results)))

    _emit(args, [r.as_dict() for r in results], text)
    return EXIT_PARTIAL if any(r.status == "error" for r in results) else EXIT_OK


def cmd_evidence(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.officers import OfficerService

    ev = _evidence(store)
    if args.action == "show":
        item = ev.show(args.id)
        _emit(args, item, lambda: print(json.dumps(item, ensure_ascii=False, indent=2)))
        return EXIT_OK
    if args.action == "list":
        items = ev.list_for_case(args.case)
        _emit(args, items, lambda: [print(f"{i['kind']:<18} {i['original_name'] or i['seal_no']}  {i['id']}")
                                    for i in items])
        return EXIT_OK
    officer = OfficerService(store).get(args.officer)
    eid = ev.add_physical(args.case, officer, seal_no=args.seal, description=args.description, place=args.place)
    _emit(args, {"id": eid}, lambda: print(_("Recorded physical item {id}.").format(id=eid)))
    return EXIT_OK


def cmd_custody(store: Store, args: argparse.Namespace) -> int:
    from kit_app.evidence import custody as C
    from kit_app.services.officers import OfficerService

    ev = _evidence(store)
    officers = OfficerService(store)
    if args.action == "export":
        n = ev.export_case(args.case, args.output)
        _emit(args, {"events": n, "file": str(args.output)},
              lambda: print(_("Wrote {n} custody events to {file}.").format(n=n, file=args.output)))
        return EXIT_OK
    if args.action == "transfer":
        body = ev.transfer(args.evidence_id, officers.get(args.from_officer), officers.get(args.to_officer),
                           args.reason)
    else:
        actor = _actor(store, args)
        kind, details = {
            "seal": (C.SEALED, {"seal_no": getattr(args, "seal", None)}),
            "unseal": (C.UNSEALED, {"seal_no": getattr(args, "seal", None)}),
            "lab": (C.SUBMITTED, {"lab": getattr(args, "lab", None)}),
            "annotate": (C.ANNOTATED, {}),
            "correct": (C.CORRECTED, {"corrects": getattr(args, "event", None)}),
        }[args.action]
        body = ev.record(args.evidence_id, kind, actor, reason=args.reason, details=details)
    _emit(args, body, lambda: print(_("Recorded custody event {seq} ({kind}).").format(seq=body["seq"], kind=body["kind"])))
    return EXIT_OK


def cmd_verify(store: Store, args: argparse.Namespace) -> int:
    rep = _evidence(store).verify(args.case, all_signatures=not args.fast)

    def human() -> None:
        print(_("{files} files and {events} custody events checked.").format(
            files=rep.files_checked, events=rep.events_checked))
        for p in rep.problems:
            where = p.evidence_id or (f"#{p.seq}" if p.seq else "")
            print(f"  {p.kind}: {where} {p.detail}")
        print(_("All evidence and custody records verify.") if rep.ok else _("VERIFICATION FAILED."))
        if store.full:
            print(_("The disk holding the data directory is full: the verification checkpoint was not updated."))
        elif store.read_only:
            print(_("The data directory is read-only: the verification checkpoint was not updated."))

    _emit(args, rep.as_dict() | {"read_only": store.read_only}, human)
    return EXIT_OK if rep.ok else EXIT_FAIL


def cmd_keys(store: Store, args: argparse.Namespace) -> int:
    key = _evidence(store).key
    payload = {"kit_id": store.kit_id, "algorithm": "Ed25519", "public_key": key.public_b64,
               "pem": key.public_pem()}
    _emit(args, payload, lambda: print(key.public_pem(), end=""))
    return EXIT_OK


def cmd_devices_read(args: argparse.Namespace) -> int:
    """One JSON object a line per message as it arrives; exits after --count valid readings."""
    from devices.ascii import AsciiError
    from devices.reader import PortError, readings

    got = 0
    try:
        for r in readings(args.port, args.protocol, baud=args.baud, timeout=args.timeout, model=args.model,
                          unit=args.unit, pattern=args.pattern, interval=args.interval):
            line = json.dumps(to_json(r), ensure_ascii=False) if args.json else (
                ("OK  " + json.dumps(to_json(r), ensure_ascii=False)) if r["valid"] else "BAD " + r["error"])
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            if r["valid"]:
                got += 1
                if args.count is not None and got >= args.count:
                    return EXIT_OK
    except (PortError, AsciiError) as exc:
        return _fail(args, str(exc), EXIT_FAIL)
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def cmd_devices_config(data_dir: Path, args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from devices.registry import DeviceConfig, DeviceConfigs, drivers

    configs = DeviceConfigs(data_dir)
    if args.action == "add":
        data_dir.mkdir(parents=True, exist_ok=True)
        c = DeviceConfig(name=args.name, driver=args.driver, port=args.port, protocol=args.protocol,
                         baud=args.baud, model=args.model, unit=args.unit, pattern=args.pattern,
                         serial=args.serial, calibrated=args.calibrated)
        configs.add(c)
        _emit(args, asdict(c), lambda: print(_("Configured {name} on {port}.").format(name=c.name, port=c.port)))
        return EXIT_OK
    if args.action == "remove":
        gone = configs.remove(args.name)
        _emit(args, {"removed": gone}, lambda: print(_("Removed.") if gone else _("No such device.")))
        return EXIT_OK if gone else EXIT_USAGE
    found = []
    for drv in drivers().values():
        try:
            found += [asdict(d) | {"driver": drv.name} for d in drv.discover()]
        except Exception as exc:  # a driver's discovery failing is reported, not fatal
            found.append({"driver": drv.name, "error": str(exc)})
    payload = {"found": found, "configured": [asdict(c) for c in configs.load()],
               "drivers": sorted(drivers())}

    def human() -> None:
        print(_("Found:"))
        for f in found:
            print(f"  {f.get('driver')}: {f.get('port', '')} {f.get('description', f.get('error', ''))}")
        print(_("Configured:"))
        for c in payload["configured"]:
            print(f"  {c['name']}: {c['driver']} {c['port']} {c.get('protocol') or ''}")

    _emit(args, payload, human)
    return EXIT_OK


def cmd_devices_record(store: Store, args: argparse.Namespace) -> int:
    from devices.reader import PortError, readings
    from kit_app.services.officers import OfficerService

    officer = OfficerService(store).get(args.officer)
    gps = None
    try:
        if args.gps_port:
            for r in readings(args.gps_port, "nmea", timeout=args.timeout):
                if r["valid"] and r.get("fix"):
                    gps = {k: r[k] for k in ("fix", "latitude", "longitude", "altitude", "time", "satellites", "hdop")}
                    break
        got: list[dict[str, Any]] = []
        for r in readings(args.port, args.protocol, baud=args.baud, timeout=args.timeout, model=args.model,
                          unit=args.unit, pattern=args.pattern, interval=args.interval):
            got.append(r)
            if sum(1 for x in got if x["valid"]) >= args.count:
                break
    except PortError as exc:
        return _fail(args, str(exc), EXIT_FAIL)
    instrument = {"model": args.instrument_model or (args.model if args.protocol == "modbus" else None),
                  "serial": args.serial, "calibrated": args.calibrated}
    res = _evidence(store).add_readings(args.case, officer, got, instrument=instrument, protocol=args.protocol,
                                        port=args.port, gps=gps, description=args.description)
    _emit(args, res.as_dict(), lambda: print(_("Recorded {n} messages as evidence {id}.").format(
        n=len(got), id=res.evidence_id)))
    return EXIT_OK


_UNREADABLE = object()


def _read_payload(args: argparse.Namespace) -> Any:
    """The JSON document in ``--input``; ``_UNREADABLE`` (the error already said) if unreadable or
    not JSON."""
    try:
        return json.loads(args.input.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        _fail(args, _("cannot read {file}: {reason}").format(file=args.input, reason=exc.strerror or exc), EXIT_FAIL)
    except ValueError as exc:
        _fail(args, _("{file} is not valid JSON: {reason}").format(file=args.input, reason=exc), EXIT_FAIL)
    return _UNREADABLE


def cmd_render(args: argparse.Namespace) -> int:
    """Document types, their schema and example, and PDF rendering; no data dir needed."""
    import forms
    from forms import FormError

    if args.list:
        defs = forms.definitions().values()
        payload = [{"id": d.id, "title": d.title, "version": d.version, "kind": d.kind} for d in defs]
        _emit(args, payload, lambda: [print(f"{d.id}\t{d.title}\tv{d.version}") for d in defs])
        return EXIT_OK
    if not args.type:
        return _fail(args, _("name a document type (see kit-app render --list)"), EXIT_USAGE)
    try:
        defn = forms.get(args.type)
    except KeyError as exc:
        return _fail(args, str(exc.args[0]), EXIT_USAGE)
    if args.schema or args.example_payload:
        out = defn.json_schema() if args.schema else defn.example
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    if not (args.example or args.input):
        return _fail(args, _("say what to render: --example or --input PAYLOAD.json"), EXIT_USAGE)
    if args.output is None:
        return _fail(args, _("say where to write the PDF: -o OUT.pdf"), EXIT_USAGE)
    if args.example:
        payload: Any = defn.example
    else:
        payload = _read_payload(args)
        if payload is _UNREADABLE:
            return EXIT_FAIL
    from reports import render

    try:
        res = render(defn, payload, number=args.number)
    except FormError as exc:
        return _fail(args, _("invalid payload for {type}: {error}").format(type=defn.id, error=exc), EXIT_FAIL)
    tmp = args.output.with_name(f".{args.output.name}.part")
    try:
        tmp.write_bytes(res.pdf)
        os.replace(tmp, args.output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        return _fail(args, _("cannot write {file}: {reason}").format(file=args.output, reason=exc.strerror or exc),
                     EXIT_FAIL)
    for w in res.warnings:
        print(_("warning: {message}").format(message=w), file=sys.stderr)
    info = {"output": str(args.output), "type": defn.id, "version": defn.version, "pages": res.pages,
            "id": res.doc_id, "number": res.number, "content_sha256": res.content_sha256,
            "pdf_sha256": res.pdf_sha256, "warnings": res.warnings}
    _emit(args, info, lambda: print(_("Wrote {file}: {title}, {pages} pages.").format(
        file=args.output, title=defn.title, pages=res.pages)))
    return EXIT_OK


def cmd_numbers(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.documents import DocumentService

    docs = DocumentService(store)
    if args.action == "add":
        block = docs.add_block(agency_code=args.agency, doc_type=args.type, year=args.year, prefix=args.prefix,
                               first=args.first, last=args.last, kit_id=args.kit, actor=_actor(store, args))
        _emit(args, block, lambda: print(_("Reserved {first}–{last} ({example} …) for kit {kit}.").format(
            first=block["first"], last=block["last"], example=block["example"], kit=block["kit_id"][:8])))
        return EXIT_OK
    blocks = docs.blocks()
    _emit(args, blocks, lambda: [print(f"{b['agency_code']}\t{b['type']}\t{b['year']}\t{b['prefix']}\t"
                                       f"{b['first']}–{b['last']}\t{b['used']}\t{b['kit_id'][:8]}") for b in blocks])
    return EXIT_OK


def cmd_document(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.cases import CaseService
    from kit_app.services.documents import DocumentService
    from kit_app.services.officers import OfficerService

    docs = DocumentService(store)
    if args.action == "check":
        res = docs.check_code(args.code)
        _emit(args, res, lambda: print(
            _("Matches {title} {number}, issued {at}.").format(title=res["title"], number=res["number"] or "",
                                                               at=res["issued_local"]) if res["ok"]
            else _("Does not match: {reason}").format(reason=res["reason"])))
        return EXIT_OK if res["ok"] else EXIT_FAIL
    if args.action == "list":
        case = CaseService(store).get(args.case)
        rows = docs.list_for_case(case.id)
        from datetime import datetime as _dt

        from kit_app.timeutil import format_local

        _emit(args, rows, lambda: [print(f"{format_local(_dt.fromisoformat(r['issued_at']))}\t{r['title']}\t"
                                         f"{r['number'] or ''}\t{r['id']}") for r in rows])
        return EXIT_OK
    from forms import FormError

    officer = OfficerService(store).get(args.officer)
    payload = _read_payload(args)
    if payload is _UNREADABLE:
        return EXIT_FAIL
    case = CaseService(store).get(args.case)
    try:
        res = docs.issue(case.id, officer, args.type, payload, corrects=args.corrects)
    except FormError as exc:
        return _fail(args, _("invalid payload for {type}: {error}").format(type=args.type, error=exc), EXIT_FAIL)
    if args.output:
        import shutil

        shutil.copyfile(docs.pdf_path(res.id), args.output)
    _emit(args, res.as_dict(), lambda: print(_("Issued {title} {number} ({pages} pages), evidence {evidence}.").format(
        title=res.title, number=res.number or "", pages=res.pages, evidence=res.evidence_id)))
    return EXIT_OK


def cmd_enrol(store: Store, args: argparse.Namespace) -> int:
    from kit_app.sync.client import enrol

    res = enrol(store, args.server, args.code, args.name, fingerprint=args.fingerprint, ca_file=args.ca_file)
    _emit(args, res, lambda: print(_("Enrolled with {server} for {agency}.\nThe server's fingerprint is {fp}: it "
                                     "must be the one the administrator gave you.").format(
        server=res["server"], agency=res["agency_name"] or res["agency_code"], fp=res["server_fingerprint"])))
    return EXIT_OK


def cmd_sync(store: Store, args: argparse.Namespace) -> int:
    from kit_app.sync.client import sync

    res = sync(store)
    pushed, pulled, up, st = res["pushed"], res["pulled"], res["uploaded"], res["status"]

    def human() -> None:
        print(_("Pushed {records} records and {events} custody events in {batches} batches.").format(
            records=pushed["records"], events=pushed["custody_events"], batches=pushed["batches"]))
        print(_("Pulled {n} items from the central server.").format(n=pulled["items"])
              + "".join(f" {k}: {n}" for k, n in sorted(pulled["kinds"].items())))
        for note in pulled["notes"]:
            print("  " + note)
        print(_("Uploaded {n} evidence originals ({mb:.1f} MB).").format(n=up["blobs"], mb=up["bytes"] / 1e6))
        print(_("Everything is synced.") if st["synced"] else _("Not everything is synced yet: run sync again."))

    _emit(args, res, human)
    return EXIT_OK if st["synced"] else EXIT_PARTIAL


def cmd_decode(args: argparse.Namespace) -> int:
    """One JSON object a line: the decoded fields or {"valid": false, "error": ...}; never stops."""
    if args.command == "hj212":
        from devices.hj212 import HJ212Error as Err
        from devices.hj212 import parse
    else:
        from devices.nmea import NMEAError as Err  # type: ignore[assignment]
        from devices.nmea import parse  # type: ignore[assignment]
    bad = 0
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            out = parse(line).as_dict()
        except Err as exc:
            bad += 1
            out = {"valid": False, "error": str(exc)}
        if args.json:
            sys.stdout.write(json.dumps(to_json(out), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(("OK  " if out["valid"] else "BAD ") + (
                json.dumps(to_json(out), ensure_ascii=False) if out["valid"] else out["error"]) + "\n")
        sys.stdout.flush()
    return EXIT_OK


COMMANDS: dict[str, Callable[[Store, argparse.Namespace], int]] = {
    "ingest": cmd_ingest,
    "evidence": cmd_evidence,
    "custody": cmd_custody,
    "verify": cmd_verify,
    "keys": cmd_keys,
    "devices": cmd_devices_record,
    "import-sources": cmd_import,
    "import-projects": cmd_import,
    "search": cmd_search,
    "demo-data": cmd_demo,
    "officer": cmd_officer,
    "case": cmd_case,
    "source": cmd_source,
    "project": cmd_project,
    "status": cmd_status,
    "numbers": cmd_numbers,
    "document": cmd_document,
    "enrol": cmd_enrol,
    "sync": cmd_sync,
}


def _fail(args: argparse.Namespace | None, message: str, code: int) -> int:
    if args is not None and getattr(args, "json", False):
        json.dump({"error": message}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    print(_("error: {message}").format(message=message), file=sys.stderr)
    return code


def main(
    argv: Sequence[str] | None = None,
    gui: Callable[[argparse.Namespace], int] | None = None,
) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    # the language must be set before the parser builds its (translated) help
    for i, a in enumerate(raw):
        if a == "--lang" and i + 1 < len(raw):
            set_language(raw[i + 1])
        elif a.startswith("--lang="):
            set_language(a.split("=", 1)[1])
    parser = build_parser()
    args = parser.parse_args(raw)
    if args.command is None:
        if gui is None:
            parser.print_usage(sys.stderr)
            return _fail(None, _("a command is needed (the desktop application is started by kit-app)"), EXIT_USAGE)
        return gui(args)
    if args.command in ("hj212", "nmea"):  # no data dir needed
        return cmd_decode(args)
    if args.command == "render":
        return cmd_render(args)
    if args.command == "devices" and args.action == "read":
        return cmd_devices_read(args)
    if args.command == "devices" and args.action in ("list", "add", "remove"):
        data_dir = resolve_data_dir(args.data_dir, demo=args.demo)
        setup_logging(data_dir, args.verbose)
        try:
            return cmd_devices_config(data_dir, args)
        except ValueError as exc:
            return _fail(args, str(exc), EXIT_FAIL)
    data_dir = resolve_data_dir(args.data_dir, demo=args.demo)
    setup_logging(data_dir, args.verbose)
    store = None
    try:
        store = open_store(data_dir)
        return COMMANDS[args.command](store, args)
    except KitError as exc:
        return _fail(args, str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail(args, _("interrupted"), EXIT_FAIL)
    except Exception as exc:  # a full or read-only disk is named; anything else is a bug
        from kit_app.storage import DiskFull, explain

        if (named := explain(exc, data_dir)) is not None:
            if store is not None and store.full:  # opened read-only because the disk is full
                named = DiskFull(data_dir)
            return _fail(args, str(named), named.exit_code)
        log.exception("unexpected error in %s", args.command)
        return _fail(
            args,
            _("internal error ({kind}); details are in {log}").format(
                kind=type(exc).__name__, log=data_dir / "logs" / "kit.log"
            ),
            EXIT_FAIL,
        )
    finally:
        if store is not None:
            store.close()
