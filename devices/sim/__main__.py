"""``python -m devices.sim hj212|nmea|modbus|ascii --pty``: a simulated instrument on a
pseudo-terminal. The first line on stdout is the port to open; data then flows (or, for Modbus,
requests are answered) until --count messages were sent or the process is stopped.
``python -m devices.sim logger --pty | --tcp PORT``: an enterprise's data logger answering HJ 212
requests, with switches that falsify its data (see :mod:`devices.sim.logger`).

Faults for testing robustness: --garbage P (random bytes between messages), --bad-crc P, --split P
(a message written in two pieces with a pause), --stall P (a three-second silence), and
--disconnect-after N (the port vanishes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import select
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone

from devices import hj212, modbus, nmea
from devices.sim import logger
from devices.sim.common import exit_at_eof, open_pty

LOCAL = timezone(timedelta(hours=8))


class Signal:
    """A plausible measurement: base level, day-night swing, slow drift and noise."""

    def __init__(self, rng: random.Random, base: float, swing: float, noise: float, drift: float = 0.0) -> None:
        self.rng, self.base, self.swing, self.noise, self.drift = rng, base, swing, noise, drift
        self.t0 = time.time()

    def value(self) -> float:
        now = datetime.now(LOCAL)
        day = math.sin((now.hour + now.minute / 60 - 8) / 24 * 2 * math.pi)  # busier in the day
        v = self.base + self.swing * day + self.drift * (time.time() - self.t0) / 3600 + self.rng.gauss(0, self.noise)
        return max(v, 0.0)


class PlantSignal:
    """What the simulated data logger's plant truly emits (``devices.sim.logger.true_value``): an
    analyser at its stack measures what the logger should have reported."""

    def __init__(self, code: str, seed: int, caps: dict[str, float]) -> None:
        self.code, self.seed, self.caps = code, seed, caps

    def value(self) -> float:
        from devices.sim.logger import true_value

        return true_value(self.code, datetime.now(UTC), seed=self.seed, caps=self.caps)


def hj212_messages(rng: random.Random, mn: str, bad_crc: float,  # type: ignore[no-untyped-def]
                   plant: tuple[int, dict[str, float]] | None = None):
    so2, nox, dust, o2, flow = (Signal(rng, 35, 8, 1.5, drift=0.5), Signal(rng, 80, 15, 3), Signal(rng, 8, 2, 0.4),
                                Signal(rng, 9.5, 0.8, 0.1), Signal(rng, 42, 6, 1))
    if plant is not None:
        so2, nox, dust, o2, flow = (PlantSignal(c, *plant) for c in  # type: ignore[assignment]
                                    ("a21026", "a21002", "a34013", "a19001", "a00000"))
    while True:
        now = datetime.now(LOCAL)
        qn = now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
        cp = (f"DataTime={now.strftime('%Y%m%d%H%M%S')};a21026-Rtd={so2.value():.2f},a21026-Flag=N;"
              f"a21002-Rtd={nox.value():.1f},a21002-Flag=N;a34013-Rtd={dust.value():.2f},a34013-Flag=N;"
              f"a19001-Rtd={o2.value():.1f},a19001-Flag=N;a00000-Rtd={flow.value():.1f},a00000-Flag=N")
        pkt = hj212.encode(st="31", cn="2011", mn=mn, qn=qn, flag=5, cp=cp)
        if rng.random() < bad_crc:
            pkt = pkt[:-6] + b"0000\r\n"
        yield pkt


def nmea_messages(rng: random.Random):  # type: ignore[no-untyped-def]
    lat, lon = 22.8170, 108.3665  # Nanning
    while True:
        lat += rng.gauss(0, 0.00001)
        lon += rng.gauss(0, 0.00001)
        now = datetime.now(UTC)
        t = now.strftime("%H%M%S.") + f"{now.microsecond // 10000:02d}"

        def dm(v: float, w: int) -> str:
            d = int(v)
            return f"{d:0{w}d}{(v - d) * 60:08.5f}"

        yield (nmea.sentence(f"GNGGA,{t},{dm(lat, 2)},N,{dm(lon, 3)},E,1,{rng.randint(8, 14)},"
                             f"{rng.uniform(0.6, 1.2):.2f},{rng.gauss(85, 0.5):.1f},M,-5.1,M,,") + "\r\n").encode()
        yield (nmea.sentence(f"GNRMC,{t},A,{dm(lat, 2)},N,{dm(lon, 3)},E,0.02,,{now.strftime('%d%m%y')},,,A")
               + "\r\n").encode()


def ascii_messages(rng: random.Random):  # type: ignore[no-untyped-def]
    laeq = Signal(rng, 62, 6, 1.2)
    while True:
        yield f"LAeq,{laeq.value():.1f},dB(A)\r\n".encode()


def wait_drained(slave: int, limit: float = 10.0) -> None:
    """Wait until the reader has taken every byte written (or ``limit`` seconds)."""
    import fcntl
    import struct
    import termios

    end = time.monotonic() + limit
    while time.monotonic() < end:
        waiting = struct.unpack("i", fcntl.ioctl(slave, termios.FIONREAD, b"\0\0\0\0"))[0]
        if waiting == 0:
            return
        time.sleep(0.02)


def serve_modbus(master: int, model: str, unit: int, rng: random.Random, args: argparse.Namespace) -> None:
    rmap = modbus.register_maps()[model]
    signals = {r.name: Signal(rng, {"pH": 7.2, "temperature": 24.0, "dissolved_oxygen": 6.8,
                                    "conductivity": 850, "turbidity": 12.0, "LAeq": 61.0}.get(r.name, 10.0),
                              0.3, 0.05) for r in rmap.registers}
    buf = b""
    answered = 0
    while args.count is None or answered < args.count:
        r, _w, _x = select.select([master], [], [], 0.5)
        if not r:
            continue
        buf += os.read(master, 256)
        while len(buf) >= 8:
            req, buf = buf[:8], buf[8:]
            if modbus.crc16_modbus(req[:-2]) != int.from_bytes(req[-2:], "little") or req[0] != unit:
                buf = b""
                break
            address, count = int.from_bytes(req[2:4], "big"), int.from_bytes(req[4:6], "big")
            words = [0] * count
            for reg in rmap.registers:
                for i, w in enumerate(reg.encode(signals[reg.name].value())):
                    if 0 <= reg.address + i - address < count:
                        words[reg.address + i - address] = w
            resp = bytes([unit, 3, 2 * count]) + b"".join(w.to_bytes(2, "big") for w in words)
            out = modbus.with_crc(resp)
            if rng.random() < args.bad_crc:
                out = out[:-2] + b"\x00\x00"
            os.write(master, out)
            answered += 1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m devices.sim")
    ap.add_argument("protocol", choices=("hj212", "nmea", "modbus", "ascii", "logger"))
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal")
    where.add_argument("--tcp", type=int, metavar="PORT", help="(logger) listen on this TCP port of 127.0.0.1 "
                                                               "(0: any free one)")
    ap.add_argument("--rate", type=float, default=1.0, help="messages a second")
    ap.add_argument("--count", type=int, help="stop after this many messages")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mn", default="45010300000000000000A001")
    ap.add_argument("--plant", action="store_true",
                    help="(hj212) measure what the simulated logger's plant emits (same --seed and --cap)")
    ap.add_argument("--model", default="generic-ph", help="Modbus register map")
    ap.add_argument("--unit", type=int, default=1, help="Modbus unit address")
    ap.add_argument("--garbage", type=float, default=0.0)
    ap.add_argument("--bad-crc", type=float, default=0.0)
    ap.add_argument("--split", type=float, default=0.0)
    ap.add_argument("--stall", type=float, default=0.0)
    ap.add_argument("--disconnect-after", type=int)
    ap.add_argument("--wait", type=float, default=0.5, help="seconds to wait before the first message")
    ap.add_argument("--baud", type=int, help="pace the bytes as a serial line at this baud rate (8N1) would; "
                                             "with --rate 0, as fast as that line allows")
    ap.add_argument("--duration", type=float, help="stop after this many seconds")
    ap.add_argument("--report", action="store_true", help="print what was sent as JSON on stderr at the end")
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="end when standard input closes: the program that started the simulator has ended, "
                         "even if it was killed")
    logger.add_arguments(ap)
    args = ap.parse_args()
    if args.protocol == "logger":
        return logger.run(args)
    if args.tcp is not None:
        ap.error("--tcp serves the data logger only")
    if args.exit_with_parent:
        threading.Thread(target=exit_at_eof, name="parent-watch", daemon=True).start()
    rng = random.Random(args.seed)
    master, slave, path = open_pty()
    print(path, flush=True)
    try:
        if args.protocol == "modbus":
            serve_modbus(master, args.model, args.unit, rng, args)
            return 0
        time.sleep(args.wait)  # let the reader open the port (pyserial flushes on open)
        plant = (args.seed, logger.settings_from(args).caps) if args.plant else None
        source = {"hj212": lambda: hj212_messages(rng, args.mn, args.bad_crc, plant),
                  "nmea": lambda: nmea_messages(rng), "ascii": lambda: ascii_messages(rng)}[args.protocol]()
        sent = sent_bytes = 0
        period = 1.0 / args.rate if args.rate > 0 else 0.0
        t_start = time.monotonic()
        line_free = t_start  # when the simulated serial line has sent everything written so far
        while args.count is None or sent < args.count:
            if args.duration is not None and time.monotonic() - t_start >= args.duration:
                break
            if args.disconnect_after is not None and sent >= args.disconnect_after:
                wait_drained(slave)  # what was sent is read; then the port vanishes with the pty
                time.sleep(0.2)
                return 0
            msg = next(source)
            if rng.random() < args.garbage:
                os.write(master, bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))))
            if rng.random() < args.split:
                cut = rng.randint(1, len(msg) - 1)
                os.write(master, msg[:cut])
                time.sleep(0.05)
                os.write(master, msg[cut:])
            else:
                _write_all(master, msg)
            sent += 1
            sent_bytes += len(msg)
            if args.baud:
                line_free = max(line_free, time.monotonic() - 0.05) + len(msg) * 10 / args.baud
                if (lag := line_free - time.monotonic()) > 0:
                    time.sleep(lag)
            if rng.random() < args.stall:
                time.sleep(3)
            # answers from the host (HJ 212 9014) are read and dropped
            while select.select([master], [], [], 0)[0]:
                if not os.read(master, 4096):
                    break
            if period:
                time.sleep(period)
        wait_drained(slave)  # let the reader take the last message
        time.sleep(0.2)
        if args.report:
            print(json.dumps({"sent": sent, "bytes": sent_bytes, "seconds": round(time.monotonic() - t_start, 3)}),
                  file=sys.stderr, flush=True)
        return 0
    except (BrokenPipeError, OSError, KeyboardInterrupt):
        return 0
    finally:
        os.close(master)
        os.close(slave)


if __name__ == "__main__":
    sys.exit(main())
