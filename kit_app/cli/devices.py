"""Serial instruments and GNSS receivers: read, configure, record; HJ 212 and NMEA decoding."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kit_app.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    Command,
    actions,
    emit,
    evidence_service,
    json_flag,
)
from kit_app.db import Store
from kit_app.dto import to_json
from kit_app.i18n import _


def cmd_devices_read(args: argparse.Namespace) -> int:
    """One JSON object a line per message as it arrives; exits after --count valid readings."""
    from devices.items import Reading
    from devices.reader import readings

    got = 0
    try:
        for r in readings(args.port, args.protocol, baud=args.baud, timeout=args.timeout, model=args.model,
                          unit=args.unit, pattern=args.pattern, interval=args.interval):
            if not isinstance(r, Reading):
                continue
            record = json.dumps(to_json(r.record()), ensure_ascii=False)
            line = record if args.json else ("OK  " + record) if r.valid else "BAD " + (r.error or "")
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            if r.valid:
                got += 1
                if args.count is not None and got >= args.count:
                    return EXIT_OK
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
        emit(args, asdict(c), lambda: print(_("Configured {name} on {port}.").format(name=c.name, port=c.port)))
        return EXIT_OK
    if args.action == "remove":
        gone = configs.remove(args.name)
        emit(args, {"removed": gone}, lambda: print(_("Removed.") if gone else _("No such device.")))
        return EXIT_OK if gone else EXIT_USAGE
    found = []
    for drv in drivers().values():
        try:
            found += [asdict(d) | {"driver": drv.name} for d in drv.discover()]
        except Exception as exc:  # a driver's discovery failing is reported, not fatal
            found.append({"driver": drv.name, "error": str(exc)})
    payload: dict[str, Any] = {"found": found, "configured": [asdict(c) for c in configs.load()],
               "drivers": sorted(drivers())}

    def human() -> None:
        print(_("Found:"))
        for f in found:
            print(f"  {f.get('driver')}: {f.get('port', '')} {f.get('description', f.get('error', ''))}")
        print(_("Configured:"))
        for c in payload["configured"]:
            print(f"  {c['name']}: {c['driver']} {c['port']} {c.get('protocol') or ''}")

    emit(args, payload, human)
    return EXIT_OK


def cmd_devices_record(store: Store, args: argparse.Namespace) -> int:
    from devices.items import Reading
    from devices.reader import readings
    from kit_app.services.officers import OfficerService

    officer = OfficerService(store).get(args.officer)
    gps = None
    if args.gps_port:
        for r in readings(args.gps_port, "nmea", timeout=args.timeout):
            if isinstance(r, Reading) and r.valid and r.get("fix"):
                gps = {k: r.get(k) for k in ("fix", "latitude", "longitude", "altitude", "time", "satellites",
                                             "hdop")}
                break
    got: list[dict[str, Any]] = []
    valid = 0
    for r in readings(args.port, args.protocol, baud=args.baud, timeout=args.timeout, model=args.model,
                      unit=args.unit, pattern=args.pattern, interval=args.interval):
        if not isinstance(r, Reading):
            continue
        got.append(r.record())
        valid += r.valid
        if valid >= args.count:
            break
    instrument = {"model": args.instrument_model or (args.model if args.protocol == "modbus" else None),
                  "serial": args.serial, "calibrated": args.calibrated}
    res = evidence_service(store).add_readings(args.case, officer, got, instrument=instrument, protocol=args.protocol,
                                        port=args.port, gps=gps, description=args.description)
    emit(args, res.as_dict(), lambda: print(_("Recorded {n} messages as evidence {id}.").format(
        n=len(got), id=res.evidence_id)))
    return EXIT_OK


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


def add_parsers(sub: Any) -> None:
    for proto, helptext in (("hj212", _("decode HJ 212 packets, one a line, from standard input")),
                            ("nmea", _("decode NMEA 0183 sentences, one a line, from standard input"))):
        dsub = actions(sub, proto, helptext)
        a = dsub.add_parser("decode", help=helptext)
        json_flag(a)
    vsub = actions(sub, "devices", _("serial instruments and GNSS receivers"))
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
    json_flag(a)
    a = vsub.add_parser("list", help=_("serial ports, cameras found and the devices configured on this kit"))
    json_flag(a)
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
    json_flag(a)
    a = vsub.add_parser("remove", help=_("forget a configured device"))
    a.add_argument("name")
    json_flag(a)
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
    json_flag(a)


COMMANDS: dict[str, Command] = {
    "devices": cmd_devices_record,
}
