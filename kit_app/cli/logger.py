"""An enterprise's data logger (数采仪): read its records as its platform would, and cross-check
them against the portable analyzer (``kit-app logger read|check``)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from kit_app.cli.common import EXIT_FAIL, EXIT_OK, EXIT_PARTIAL, Command, actions, emit, evidence_service, json_flag
from kit_app.db import Store
from kit_app.errors import UsageError
from kit_app.i18n import _
from kit_app.timeutil import LOCAL_TZ

KINDS = ("minute", "hour", "day", "state", "runtime")


def when(text: str) -> datetime:
    """A time as typed: ISO 8601, or ``YYYY-MM-DD HH:MM`` / ``YYYY-MM-DD`` in local time."""
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(_("{value} is not a time (YYYY-MM-DD HH:MM)").format(value=text)) from None
    return t if t.tzinfo else t.replace(tzinfo=LOCAL_TZ)


def _period(args: argparse.Namespace) -> tuple[datetime, datetime]:
    end = args.to or datetime.now(UTC)
    begin = args.from_ or end - timedelta(hours=24)
    if begin >= end:
        raise UsageError(_("--from must come before --to"))
    return begin.astimezone(UTC), end.astimezone(UTC)


def _read(args: argparse.Namespace, candidates: list[str] | None = None,
          ) -> tuple[Any, dict[str, Any], tuple[datetime, datetime], str, int | None]:
    from devices.logger import DEFAULT_PW, endpoint_url, read_logger

    if bool(args.port) == bool(args.tcp):
        raise UsageError(_("give the logger's serial port (--port) or its TCP address (--tcp), one of them"))
    url = endpoint_url(args.port, args.tcp)
    period = _period(args)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if unknown := [k for k in kinds if k not in KINDS]:
        raise UsageError(_("unknown kind of data {kinds} (known: {known})").format(
            kinds=", ".join(unknown), known=", ".join(KINDS)))

    def progress(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    exchange, summary = read_logger(url, kinds, *period, baud=args.baud, mn=args.mn, pw=args.pw or DEFAULT_PW,
                                    st=args.st, listen=args.listen, overtime=args.overtime, recount=args.recount,
                                    progress=progress, candidates=candidates or [])
    return exchange, summary, period, url.removeprefix("socket://"), None if args.tcp else args.baud


def cmd_logger_read(args: argparse.Namespace, store: Store | None = None) -> int:
    """Read the logger; with --case, keep the whole conversation as an evidence item of the case."""
    from devices.logger import decode

    candidates = None
    if store is not None:  # the base data's MNs for the case's source, tried in turn, and its password
        from kit_app.services.monitoring import MonitoringService

        mns, pw = MonitoringService(store).logger_access(args.case)
        candidates = None if args.mn else mns
        if args.pw is None and pw:
            args.pw = pw
    exchange, summary, period, endpoint, baud = _read(args, candidates)
    entries = [e.record() for e in exchange.entries]
    decoded = decode(entries)
    payload: dict[str, Any] = summary | {"period": {"begin": period[0].isoformat(), "end": period[1].isoformat()},
                                         "records": {k: v for k, v in decoded.items() if k not in ("damaged",)}}
    if store is not None and any(e["type"] == "rx" for e in entries):
        from kit_app.services.officers import OfficerService

        officer = OfficerService(store).get(args.officer)
        others = [OfficerService(store).get(o) for o in args.with_officer or []]
        res = evidence_service(store).add_logger_exchange(args.case, officer, entries, summary, endpoint=endpoint,
                                                          baud=baud, period=period, others=others,
                                                          description=args.description)
        payload["evidence_id"] = res.evidence_id

    def human() -> None:
        clock = summary.get("clock") or {}
        print(_("Logger {mn}: clock {off:+.1f} s against the kit's.").format(
            mn=summary.get("mn") or "?", off=float(clock.get("offset_s") or 0.0)))
        for r in summary["requests"]:
            print(f"  {r['kind']}: " + (r.get("error") or _("{n} records").format(n=len(decoded.get(r["kind"], [])))))
        if payload.get("evidence_id"):
            print(_("Kept as evidence {id}.").format(id=payload["evidence_id"]))
        if summary.get("error"):
            print(_("error: {message}").format(message=summary["error"]), file=sys.stderr)

    emit(args, payload, human)
    if summary.get("error"):
        return EXIT_PARTIAL if summary["requests"] or summary.get("clock") else EXIT_FAIL
    return EXIT_OK


def cmd_logger(store: Store, args: argparse.Namespace) -> int:
    if args.action == "read":
        return cmd_logger_read(args, store)
    from kit_app.services.monitoring import MonitoringService

    limits: dict[str, float] = {}
    for item in args.limit or []:
        code, eq, value = item.partition("=")
        try:
            limits[code.strip()] = float(value)
        except ValueError:
            raise UsageError(_("--limit {value}: write it as CODE=VALUE, e.g. a21026=35").format(
                value=item)) from None
        if not eq or not code.strip():
            raise UsageError(_("--limit {value}: write it as CODE=VALUE, e.g. a21026=35").format(value=item))
    svc = MonitoringService(store)
    if args.issue:
        from kit_app.services.crosscheck import CrossCheckService
        from kit_app.services.officers import OfficerService

        if not (args.officer and args.place):
            raise UsageError(_("--issue needs --officer (who issues the record) and --place (the monitoring point)"))
        officers = OfficerService(store)
        out = CrossCheckService(store).issue_record(
            args.case, officers.get(args.officer), limits=limits, place=args.place, conditions=args.conditions,
            logger_item=args.evidence, others=[officers.get(o) for o in args.with_officer or []],
            sessions=args.analyzer)
        res = out["check"]
    else:
        out = res = svc.check(args.case, limits, args.evidence, args.analyzer)

    def human() -> None:
        marks = {"fired": "!!", "clear": "ok", "skipped": "--"}
        for c in res["checks"]:
            print(f"{marks[c['status']]}  {c['title']}: {c['summary']}")
        if args.issue:
            print(_("Issued {number}.").format(number=out["number"] or out["document_id"]))
            if out["finding_id"]:
                print(_("The suspicion is recorded as a finding of the inspection."))

    emit(args, out, human)
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    lsub = actions(sub, "logger", _("an enterprise's data logger (HJ 212): read it, cross-check it"))
    a = lsub.add_parser("read", help=_("read the logger's time and records as its platform would"))
    a.add_argument("--port", help=_("the logger's serial port (COM3, /dev/ttyUSB0)"))
    a.add_argument("--tcp", metavar="HOST:PORT", help=_("the logger's TCP address"))
    a.add_argument("--baud", type=int, default=9600)
    a.add_argument("--mn", help=_("the logger's MN (else the base data's for the case's source, else learnt from "
                                  "its uploads)"))
    a.add_argument("--pw", help=_("the logger's password (PW; else the base data's, else 123456)"))
    a.add_argument("--st", choices=("31", "32"), help=_("system code: 31 flue gas, 32 waste water (else tried)"))
    a.add_argument("--from", dest="from_", type=when, metavar="TIME", help=_("start of the period (default: 24 h ago)"))
    a.add_argument("--to", type=when, metavar="TIME", help=_("end of the period (default: now)"))
    a.add_argument("--kinds", default="minute,hour,day,state",
                   help=_("what to read: minute, hour, day, state, runtime (comma-separated)"))
    a.add_argument("--listen", type=float, default=65.0, help=_("seconds to listen for the logger's MN"))
    a.add_argument("--overtime", type=float, default=5.0, help=_("seconds to wait for an answer (OverTime)"))
    a.add_argument("--recount", type=int, default=3, help=_("times to send a request again (ReCount)"))
    a.add_argument("--case", metavar="ID_OR_NUMBER", help=_("keep the conversation as evidence of this case"))
    a.add_argument("--officer", metavar="ID_OR_CERT_NO", help=_("the officer reading it (with --case)"))
    a.add_argument("--with-officer", action="append", metavar="ID_OR_CERT_NO",
                   help=_("another officer present (repeatable)"))
    a.add_argument("--description")
    json_flag(a)
    a = lsub.add_parser("check", help=_("cross-check the case's logger record against its analyzer sessions"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    a.add_argument("--limit", action="append", metavar="CODE=VALUE",
                   help=_("an emission limit, e.g. a21026=35 (repeatable)"))
    a.add_argument("--evidence", metavar="ID", help=_("the logger record to check (default: the case's latest)"))
    a.add_argument("--analyzer", action="append", metavar="ID",
                   help=_("an analyzer session to compare with, measured at the logger's point (repeatable; "
                          "default: every session of the case)"))
    a.add_argument("--issue", action="store_true",
                   help=_("issue the cross-check record (在线监控数据比对记录); a suspicion becomes a finding"))
    a.add_argument("--officer", metavar="ID_OR_CERT_NO", help=_("the officer issuing the record (with --issue)"))
    a.add_argument("--with-officer", action="append", metavar="ID_OR_CERT_NO",
                   help=_("another officer present (repeatable)"))
    a.add_argument("--place", help=_("the monitoring point, as printed (with --issue)"))
    a.add_argument("--conditions", help=_("how the plant and its treatment ran meanwhile"))
    json_flag(a)


COMMANDS: dict[str, Command] = {"logger": cmd_logger}
