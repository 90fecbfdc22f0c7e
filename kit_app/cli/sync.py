"""The central server: enrolment and sync."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kit_app.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    Command,
    emit,
    json_flag,
)
from kit_app.db import Store
from kit_app.i18n import _


def cmd_enrol(store: Store, args: argparse.Namespace) -> int:
    from kit_app.sync.client import enrol

    res = enrol(store, args.server, args.code, args.name, fingerprint=args.fingerprint, ca_file=args.ca_file)
    emit(args, res, lambda: print(_("Enrolled with {server} for {agency}.\nThe server's fingerprint is {fp}: it "
                                     "must be the one the administrator gave you.").format(
        server=res["server"], agency=res["agency_name"] or res["agency_code"], fp=res["server_fingerprint"])))
    return EXIT_OK


def cmd_sync(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.review import apply_review_steps
    from kit_app.sync.client import sync

    res = sync(store)
    res["review_steps"] = apply_review_steps(store)  # taken by reviewers at the central server
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

    emit(args, res, human)
    return EXIT_OK if st["synced"] else EXIT_PARTIAL


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("enrol",
                       help=_("enrol this kit with the central server (a one-time code from its administrator)"))
    s.add_argument("--server", required=True, metavar="URL")
    s.add_argument("--code", required=True)
    s.add_argument("--name", help=_("a name for this kit, shown on the server"))
    s.add_argument("--fingerprint", help=_("the server's fingerprint as the administrator gave it: enrolment is "
                                           "refused if the server shows another"))
    s.add_argument("--ca-file", type=Path, help=_("the certificate authority of the server's HTTPS certificate, "
                                                  "if not a public one (PEM); kept for every later sync"))
    json_flag(s)
    s = sub.add_parser("sync", help=_("one full sync with the central server: push, pull, upload"))
    json_flag(s)


COMMANDS: dict[str, Command] = {
    "enrol": cmd_enrol,
    "sync": cmd_sync,
}
