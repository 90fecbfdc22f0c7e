"""``kit-central``: the central server's administration (every command takes ``--db URL`` and
``--json``). The database defaults to ``$KIT_CENTRAL_DB``, else SQLite in ``./central-data``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from central.db import default_url, make_engine, sessions
from central.service import Central, CentralError


def _url(args: argparse.Namespace) -> str:
    return args.db or os.environ.get("KIT_CENTRAL_DB") or default_url(Path("central-data").resolve())


def _out(args: argparse.Namespace, payload: Any, human: str) -> None:
    print(json.dumps(payload, ensure_ascii=False) if args.json else human)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kit-central", description="the provincial central server")
    p.add_argument("--db", help="SQLAlchemy URL: postgresql+psycopg://user:pw@host/db or sqlite:///path")
    p.add_argument("--json", action="store_true")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("init", help="create or upgrade the database schema")
    s = sub.add_parser("serve", help="serve the API")
    s.add_argument("--storage", type=Path, required=True, help="directory for evidence blobs")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8700)
    s = sub.add_parser("agency", help="agencies")
    asub = s.add_subparsers(dest="action", required=True)
    a = asub.add_parser("add")
    a.add_argument("--code", required=True)
    a.add_argument("--name", required=True)
    a.add_argument("--parent")
    s = sub.add_parser("officer", help="officers")
    osub = s.add_subparsers(dest="action", required=True)
    a = osub.add_parser("add")
    a.add_argument("--name", required=True)
    a.add_argument("--cert", required=True)
    a.add_argument("--role", default="officer", help="officer, reviewer, admin (comma separated)")
    a.add_argument("--agency")
    a.add_argument("--password-stdin", action="store_true", required=True)
    a = osub.add_parser("set", help="change an officer (flows down to the kits)")
    a.add_argument("--cert", required=True)
    a.add_argument("--active", choices=("yes", "no"))
    a.add_argument("--role", help="officer, reviewer, admin (comma separated)")
    a.add_argument("--password-stdin", action="store_true")
    s = sub.add_parser("publish", help="publish base data or a definition to the kits")
    s.add_argument("kind", choices=("sources", "projects", "form", "checklist"))
    s.add_argument("file", type=Path, help="CSV/XLSX (sources, projects) or a JSON definition")
    s = sub.add_parser("numbers", help="document-number blocks")
    nsub = s.add_subparsers(dest="action", required=True)
    a = nsub.add_parser("assign", help="reserve numbers first–last for a kit")
    a.add_argument("--kit", required=True)
    a.add_argument("--agency", required=True)
    a.add_argument("--type", required=True, help="document type, e.g. order_to_correct")
    a.add_argument("--year", type=int, required=True)
    a.add_argument("--prefix", required=True, help="e.g. 青环责改")
    a.add_argument("--first", type=int, required=True)
    a.add_argument("--last", type=int, required=True)
    s = sub.add_parser("assign", help="assign an inspection task (a case) to an agency's kits")
    s.add_argument("--agency", required=True)
    s.add_argument("--title", required=True)
    s.add_argument("--party", required=True)
    s.add_argument("--source-id")
    s.add_argument("--credit-code")
    s.add_argument("--address")
    s.add_argument("--officer", action="append", default=[], help="certificate number (repeatable)")
    s.add_argument("--note", default="")
    s.add_argument("--case-id", help="change the task assigned under this id")
    s.add_argument("--kit", help="only this kit")
    s = sub.add_parser("enrol-code", help="a one-time code for a kit of an agency")
    s.add_argument("--agency", required=True)
    sub.add_parser("kits", help="the enrolled kits")
    sub.add_parser("received", help="per kit: records, evidence items (sha256, size), custody events")
    s = sub.add_parser("verify", help="every kit's custody chain (hashes, links, signatures) and every stored "
                                      "blob's SHA-256; exit 0 only if all holds")
    s.add_argument("--storage", type=Path, help="the evidence blob directory given to serve (omit: chains only)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    url = _url(args)
    try:
        if args.command == "init":
            from central.migrate import upgrade

            rev = upgrade(url)
            _out(args, {"revision": rev}, f"Database at revision {rev}.")
            return 0
        if args.command == "serve":
            import uvicorn

            from central.app import create_app
            from central.migrate import upgrade

            upgrade(url)
            args.storage.mkdir(parents=True, exist_ok=True)
            uvicorn.run(create_app(url, args.storage), host=args.host, port=args.port, log_level="info")
            return 0
        central = Central(sessions(make_engine(url)))
        if args.command == "agency":
            res = central.add_agency(args.code, args.name, args.parent)
            _out(args, res, f"Added agency {res['code']} {res['name']}.")
        elif args.command == "officer" and args.action == "add":
            password = sys.stdin.readline().rstrip("\r\n")
            res = central.add_officer(cert_no=args.cert, name=args.name, roles=args.role, agency=args.agency,
                                      password=password)
            _out(args, res, f"Added officer {res['name']} ({res['cert_no']}).")
        elif args.command == "officer" and args.action == "set":
            password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
            res = central.set_officer(args.cert, active=None if args.active is None else args.active == "yes",
                                      roles=args.role, password=password)
            _out(args, res, f"Changed officer {res['name']} ({res['cert_no']}).")
        elif args.command == "publish":
            from central.service import Feed

            feed = Feed(central)
            if args.kind in ("sources", "projects"):
                res = feed.publish_base_data(args.kind[:-1], args.file)
                _out(args, res, f"{res['published']} published, {res['unchanged']} unchanged, "
                                f"{len(res['rejected'])} rejected" + "".join(
                                    f"\n  row {r['row']}, {r['column']}: {r['reason']}" for r in res["rejected"]))
                return 0 if not res["rejected"] else 3
            res = feed.publish_definition(args.kind, args.file)
            _out(args, res, f"Published {args.kind} {res['id']} version {res['version']}.")
        elif args.command == "numbers":
            res = central.assign_numbers(kit_id=args.kit, agency=args.agency, doc_type=args.type, year=args.year,
                                         prefix=args.prefix, first=args.first, last=args.last)
            _out(args, res, f"Numbers {res['first']}–{res['last']} of {res['doc_type']} {res['year']} "
                            f"reserved for kit {res['kit_id']}.")
        elif args.command == "assign":
            res = central.assign_case(agency=args.agency, title=args.title, party_name=args.party,
                                      source_id=args.source_id, party_credit_code=args.credit_code,
                                      party_address=args.address, officers=args.officer, note=args.note,
                                      case_id=args.case_id, kit_id=args.kit)
            _out(args, res, f"Assigned {res['title']} ({res['id']}) to agency {args.agency}.")
        elif args.command == "enrol-code":
            res = central.make_enrol_code(args.agency)
            _out(args, res, f"Enrolment code for agency {args.agency}: {res['code']} (until {res['expires_at'][:10]})")
        elif args.command == "received":
            from central.service import Push

            res = Push(central).received()
            _out(args, res, "\n".join(f"{k['kit_id']}\t{k['agency_code']}\t{k['records']}\t"
                                       f"{k['custody_events']} custody events" for k in res))
        elif args.command == "verify":
            from central.service import BlobStore, Push

            if args.storage is not None and not args.storage.is_dir():
                raise CentralError(f"{args.storage}: no such directory")
            res = Push(central).verify(BlobStore(args.storage) if args.storage else None)
            _out(args, res, f"{res['events_checked']} custody events"
                            + (f", {res['blobs_checked']} blobs ({res['bytes_checked']:,} bytes)"
                               if "blobs_checked" in res else "") + " checked: "
                            + ("all hold." if res["ok"] else f"{len(res['problems'])} problems: {res['problems']}"))
            return 0 if res["ok"] else 1
        elif args.command == "kits":
            res = central.kits()
            _out(args, res, "\n".join(f"{k['kit_id']}\t{k['agency_code']}\t{k['name'] or ''}" for k in res))
        return 0
    except CentralError as exc:
        if args.json:
            print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
