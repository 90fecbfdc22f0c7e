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
    s = sub.add_parser("enrol-code", help="a one-time code for a kit of an agency")
    s.add_argument("--agency", required=True)
    sub.add_parser("kits", help="the enrolled kits")
    sub.add_parser("received", help="per kit: records, evidence items (sha256, size), custody events")
    sub.add_parser("verify", help="every kit's custody chain (hashes, links, signatures); exit 0 only if all holds")
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
        elif args.command == "officer":
            password = sys.stdin.readline().rstrip("\r\n")
            res = central.add_officer(cert_no=args.cert, name=args.name, roles=args.role, agency=args.agency,
                                      password=password)
            _out(args, res, f"Added officer {res['name']} ({res['cert_no']}).")
        elif args.command == "enrol-code":
            res = central.make_enrol_code(args.agency)
            _out(args, res, f"Enrolment code for agency {args.agency}: {res['code']} (until {res['expires_at'][:10]})")
        elif args.command == "received":
            from central.service import Push

            res = Push(central).received()
            _out(args, res, "\n".join(f"{k['kit_id']}\t{k['agency_code']}\t{k['records']}\t"
                                       f"{k['custody_events']} custody events" for k in res))
        elif args.command == "verify":
            from central.service import Push

            res = Push(central).verify()
            _out(args, res, f"{res['events_checked']} custody events checked: "
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
