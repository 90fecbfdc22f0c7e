"""The kit's administration: officers, status, its signing key."""

from __future__ import annotations

import argparse
from typing import Any

from kit_app.cli.common import (
    EXIT_OK,
    Command,
    acting_officer,
    actions,
    emit,
    evidence_service,
    json_flag,
    officer_flag,
    read_password,
)
from kit_app.db import Store
from kit_app.i18n import _
from kit_app.storage import free_bytes
from kit_app.storage import human as human_size


def cmd_officer(store: Store, args: argparse.Namespace) -> int:
    from kit_app import roles as R
    from kit_app.services.officers import OfficerService

    svc = OfficerService(store)
    if args.action == "add":
        roles = [r.strip() for item in args.role for r in item.split(",") if r.strip()]
        password = read_password(confirm=True)
        o = svc.add(
            name=args.name, cert_no=args.cert, roles=roles, password=password,
            agency_code=args.agency, actor=acting_officer(store, args),
        )
        emit(args, {"id": o.id}, lambda: print(_("Added officer {name} ({cert}), id {id}.").format(
            name=o.name, cert=o.cert_no, id=o.id)))
        return EXIT_OK
    if args.action == "unlock":
        svc.unlock(args.ref, actor=acting_officer(store, args))
        emit(args, {"ok": True}, lambda: print(_("Unlocked.")))
        return EXIT_OK
    officers = svc.list()

    def human() -> None:
        for o in officers:
            roles = ", ".join(_(R.ROLE_LABELS[r]) for r in o.roles)
            print(f"{o.cert_no:<14} {o.name:<8} {roles:<16} {o.agency_name or '-'}  {o.id}")

    emit(args, officers, human)
    return EXIT_OK


def cmd_status(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.cases import CaseService
    from kit_app.services.officers import OfficerService
    from kit_app.services.projects import ProjectService
    from kit_app.services.sources import SourceService

    payload: dict[str, Any] = {
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

    emit(args, payload, text)
    return EXIT_OK


def cmd_keys(store: Store, args: argparse.Namespace) -> int:
    key = evidence_service(store).key
    payload = {"kit_id": store.kit_id, "algorithm": "Ed25519", "public_key": key.public_b64,
               "pem": key.public_pem()}
    emit(args, payload, lambda: print(key.public_pem(), end=""))
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    osub = actions(sub, "officer", _("officer accounts"))
    a = osub.add_parser("add", help=_("add an officer (password read from stdin)"))
    a.add_argument("--name", required=True)
    a.add_argument("--cert", required=True, help=_("enforcement certificate number (执法证号)"))
    a.add_argument("--role", required=True, action="append",
                   help=_("officer, reviewer, agency_head or admin (repeat or separate with commas)"))
    a.add_argument("--agency", metavar="CODE", help=_("administrative division code of the agency"))
    a.add_argument("--password-stdin", action="store_true", required=True,
                   help=_("read the password from standard input"))
    officer_flag(a)
    json_flag(a)
    a = osub.add_parser("list", help=_("list officers"))
    json_flag(a)
    a = osub.add_parser("unlock", help=_("clear a lockout after failed logins"))
    a.add_argument("ref", metavar="ID_OR_CERT_NO")
    officer_flag(a)
    json_flag(a)
    s = sub.add_parser("status", help=_("data directory, schema revision and counts"))
    json_flag(s)
    ysub = actions(sub, "keys", _("the kit's signing key"))
    a = ysub.add_parser("export", help=_("print the kit's public key (for the central server)"))
    json_flag(a)


COMMANDS: dict[str, Command] = {
    "keys": cmd_keys,
    "officer": cmd_officer,
    "status": cmd_status,
}
