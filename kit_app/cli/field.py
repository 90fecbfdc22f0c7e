"""Readiness and accountability: the pre-flight check before an inspection, and the access log."""

from __future__ import annotations

import argparse
from datetime import datetime, time, timedelta
from typing import Any

from kit_app.cli.common import EXIT_FAIL, EXIT_OK, Command, acting_officer, actions, emit, json_flag, officer_flag
from kit_app.db import Store
from kit_app.i18n import _
from kit_app.timeutil import LOCAL_TZ, format_local

MARK = {"green": "✔", "amber": "!", "red": "✘"}


def cmd_preflight(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.preflight import LEVELS, RED, PreflightService

    rep = PreflightService(store).run(acting_officer(store, args), video_minutes=args.video_minutes,
                                      probe_seconds=args.probe_seconds)

    def human() -> None:
        for c in rep.checks:
            print(f"{MARK[c.level]} {c.title}（{_(LEVELS[c.level])}）: {c.summary}")
            if c.advice:
                print(f"    → {c.advice}")
        print(_("Ready for the field.") if rep.level != RED else _("NOT READY: mend what is marked ✘ first."))

    emit(args, rep.as_dict(), human)
    return EXIT_FAIL if rep.level == RED else EXIT_OK


def _day(text: str | None, end: bool = False) -> datetime | None:
    if not text:
        return None
    d = datetime.fromisoformat(text).date()
    return datetime.combine(d + timedelta(days=1) if end else d, time(), LOCAL_TZ)


def cmd_access(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.audit import AuditService

    rows = AuditService(store).query(acting_officer(store, args), action=args.kind, outcome=args.outcome,
                                     who=args.who, since=_day(args.since), until=_day(args.until, end=True),
                                     limit=args.limit)

    def human() -> None:
        for r in rows:
            print(f"{format_local(r.at, with_seconds=True)}  {r.action_label}（{r.outcome_label}）  {r.actor}  "
                  f"{r.target}")
        print(_("{n} entries.").format(n=len(rows)))

    emit(args, [{"id": r.id, "at": r.at.isoformat(), "action": r.action, "outcome": r.outcome, "actor": r.actor,
                 "target": r.target, "details": r.details} for r in rows], human)
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("preflight", help=_("check this kit is ready for the field (disk, battery, clock, GPS, "
                                           "instruments, camera, document numbers, sync, signing key)"))
    s.add_argument("--video-minutes", type=int, default=120, metavar="N",
                   help=_("minutes of video the inspection may need (default 120)"))
    s.add_argument("--probe-seconds", type=float, default=8.0, metavar="S",
                   help=_("how long to wait for each device to answer (default 8)"))
    officer_flag(s)
    json_flag(s)
    asub = actions(sub, "access", _("the access log: sign-ins, originals opened, prints, exports, refused actions"))
    a = asub.add_parser("list", help=_("list the access log, newest first (administrators)"))
    a.add_argument("--kind", help=_("login, login.failed, original.view, paper.print, case.export, custody.export, "
                                    "action.refused or admin"))
    a.add_argument("--outcome", choices=("ok", "failed", "refused"))
    a.add_argument("--who", help=_("a name or certificate number, or part of one"))
    a.add_argument("--since", metavar="YYYY-MM-DD")
    a.add_argument("--until", metavar="YYYY-MM-DD")
    a.add_argument("--limit", type=int, default=2000)
    officer_flag(a)
    json_flag(a)


COMMANDS: dict[str, Command] = {"preflight": cmd_preflight, "access": cmd_access}
