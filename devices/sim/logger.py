"""``python -m devices.sim logger --pty | --tcp PORT``: an enterprise's data logger (数采仪) with
its history, answering the HJ 212-2017 requests of an upper computer, for tests, the demo and
training. The first line on stdout is the port to open (a pty path, or ``127.0.0.1:PORT``).

It keeps ``--days`` of minute data (hourly and daily data are made from it, as a logger does) for a
flue-gas stack (``--st 31``) or a waste-water outlet (``--st 32``), answers 1011 (its time),
2051/2061/2031 (minute, hourly, daily data), 2021 (running state) and 2041 (running time) with
9011 → data (each packet waiting for the host's 9014, sent again when it does not come) → 9012,
splits long packets (PNUM/PNO), refuses a wrong password, MN or system code, and uploads
real-time data every ``--upload`` seconds.

Falsification switches (each makes one of the kit's cross-checks fire; without them the data
are honest):
  --cap CODE=LIMIT   the plant emits ~1.5 × LIMIT of CODE, the logger reports just under LIMIT
  --flat HOURS       the last HOURS of every pollutant repeat one value (flat-lining)
  --flags F:HOURS    the last HOURS flagged F (M maintenance, C calibration, D fault…)
  --clock HOURS      the logger's clock runs HOURS off
  --gap HOURS        HOURS of minute data missing (ending an hour before now)
  --hourly-off P     hourly averages P % above what the minutes give
  --stopped HOURS    the analyser stopped (running state 0) while minute data go on, flagged valid

Line faults (the shared --garbage P and --bad-crc P): noise before data packets, data packets damaged
on the line — the host does not answer those, and the logger sends them again after --overtime.

What the plant truly emits at a moment — what a portable analyzer at the stack measures — is
:func:`true_value` (the same seed gives the same plant).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from devices import hj212
from devices.logger import logger_time
from devices.sim.common import exit_at_eof, open_pty

# code → (level, day swing, noise) of an honest plant
AIR = {"a21026": (32.0, 6.0, 1.2), "a21002": (78.0, 12.0, 2.5), "a34013": (6.5, 1.5, 0.3),
       "a19001": (9.8, 0.6, 0.1), "a00000": (42.0, 5.0, 0.8)}
WATER = {"w01018": (48.0, 10.0, 2.0), "w21003": (4.2, 1.0, 0.2), "w01001": (7.3, 0.2, 0.03),
         "w00000": (12.0, 3.0, 0.4)}
DIGITS = {"a19001": 1, "a00000": 1, "w01001": 2, "w00000": 2}


def plant(st: str) -> dict[str, tuple[float, float, float]]:
    return AIR if st == "31" else WATER


def true_value(code: str, t: datetime, *, st: str = "31", seed: int = 1, caps: dict[str, float] | None = None,
               ) -> float:
    """What the plant emits at ``t``: a level, a day-night swing and noise fixed by (seed, code,
    minute, second) — a portable analyzer and the logger's sensor see the same plant. With a cap,
    the plant runs at about 1.5 × the limit."""
    level, swing, noise = plant(st)[code]
    if caps and code in caps:
        level, swing, noise = caps[code] * 1.5, caps[code] * 0.1, caps[code] * 0.03
    local = t.astimezone(hj212.LOCAL)
    hours = local.hour + local.minute / 60 + local.second / 3600
    rng = random.Random(f"{seed}:{code}:{int(t.timestamp())}")
    return max(0.0, level + swing * math.sin((hours - 8) / 24 * 2 * math.pi) + rng.gauss(0, noise))


@dataclass
class Settings:
    mn: str = "45010300000000000000A001"
    pw: str = "123456"
    st: str = "31"
    seed: int = 1
    days: float = 1.0
    caps: dict[str, float] = field(default_factory=dict)
    flat_hours: float = 0.0
    flags: tuple[str, float] | None = None
    clock_hours: float = 0.0
    gap_hours: float = 0.0
    hourly_off: float = 0.0
    ack: bool = True  # data packets ask for a 9014
    overtime: float = 5.0
    recount: int = 3
    max_data: int = 1000  # a packet's data segment above this is split (PNUM/PNO)
    upload: float = 0.0  # real-time uploads every so many seconds (0: none)
    stopped_hours: float = 0.0  # the analyser stopped these last hours, while the minutes go on as valid
    garbage: float = 0.0  # chance of line noise before a data packet
    bad_crc: float = 0.0  # chance of a data packet damaged on the line (the host does not answer it)


class History:
    """The logger's minute records (and what it derives from them), made on demand from the plant."""

    def __init__(self, s: Settings, now: datetime | None = None) -> None:
        self.s = s
        # the last whole minute: a minute's record is made when the minute ends
        self.now = (now or datetime.now(UTC)).replace(second=0, microsecond=0) - timedelta(minutes=1)
        self.start = self.now - timedelta(days=s.days)

    def logger_now(self) -> datetime:
        return datetime.now(UTC) + timedelta(hours=self.s.clock_hours)

    def minute(self, t: datetime) -> dict[str, dict[str, str]] | None:
        """One minute's record as the logger keeps it, or None when it has none."""
        s = self.s
        if t < self.start or t > self.now:
            return None
        if s.gap_hours and self.now - timedelta(hours=s.gap_hours + 1) <= t < self.now - timedelta(hours=1):
            return None
        flat = s.flat_hours and t >= self.now - timedelta(hours=s.flat_hours)
        flagged = s.flags and t >= self.now - timedelta(hours=s.flags[1])
        out = {}
        for code in plant(s.st):
            digits = DIGITS.get(code, 2)
            samples = [true_value(code, t + timedelta(seconds=k), st=s.st, seed=s.seed, caps=s.caps)
                       for k in (5, 25, 45)]
            if flat:
                base = self.now - timedelta(hours=s.flat_hours)
                samples = [true_value(code, base, st=s.st, seed=s.seed)] * 3
            if code in s.caps and max(samples) >= s.caps[code] * 0.95:
                rng = random.Random(f"cap:{s.seed}:{code}:{int(t.timestamp())}")
                samples = [s.caps[code] * rng.uniform(0.82, 0.94) for _ in samples]
            avg = sum(samples) / len(samples)
            out[code] = {"Avg": f"{avg:.{digits}f}", "Min": f"{min(samples):.{digits}f}",
                         "Max": f"{max(samples):.{digits}f}", "Flag": s.flags[0] if flagged and s.flags else "N"}
            if code in ("a00000", "w00000"):  # flow: the amount discharged in the minute
                out[code]["Cou"] = f"{avg * 60:.1f}"
        return out

    def stopped(self, t: datetime) -> bool:
        """Whether the analyser was stopped in the hour from ``t`` (--stopped: its last hours)."""
        return bool(self.s.stopped_hours) and t + timedelta(hours=1) > self.now - timedelta(hours=self.s.stopped_hours)

    def span(self, begin: datetime, end: datetime, step: timedelta) -> list[datetime]:
        t = max(begin, self.start)
        t = t.replace(second=0, microsecond=0)
        if step >= timedelta(hours=1):
            t = t.replace(minute=0)
        if step >= timedelta(days=1):
            t = t.astimezone(hj212.LOCAL).replace(hour=0).astimezone(UTC)
        out = []
        while t <= end and t + step <= self.now + timedelta(minutes=1):  # whole periods only
            out.append(t)
            t += step
        return out

    def aggregate(self, t: datetime, length: timedelta) -> dict[str, dict[str, str]] | None:
        minutes = [m for m in (self.minute(t + timedelta(minutes=i)) for i in range(int(length.total_seconds() // 60)))
                   if m]
        if not minutes:
            return None
        out = {}
        for code in plant(self.s.st):
            digits = DIGITS.get(code, 2)
            avgs = [float(m[code]["Avg"]) for m in minutes]
            avg = sum(avgs) / len(avgs) * (1 + self.s.hourly_off / 100)
            flags = {m[code]["Flag"] for m in minutes}
            out[code] = {"Avg": f"{avg:.{digits}f}", "Min": f"{min(float(m[code]['Min']) for m in minutes):.{digits}f}",
                         "Max": f"{max(float(m[code]['Max']) for m in minutes):.{digits}f}",
                         "Flag": "N" if flags == {"N"} else sorted(flags - {"N"})[0]}
            if "Cou" in minutes[0][code]:
                out[code]["Cou"] = f"{sum(float(m[code]['Cou']) for m in minutes):.1f}"
        return out

    def records(self, cn: str, begin: datetime, end: datetime) -> list[str]:
        """The data areas (``DataTime=…;…``) the logger sends for a history request."""
        out: list[str] = []
        if cn == "2051":
            times = self.span(begin, end, timedelta(minutes=1))
            made = ((t, self.minute(t)) for t in times)
        elif cn == "2061":
            made = ((t, self.aggregate(t, timedelta(hours=1))) for t in self.span(begin, end, timedelta(hours=1)))
        elif cn == "2031":
            made = ((t, self.aggregate(t, timedelta(days=1))) for t in self.span(begin, end, timedelta(days=1)))
        elif cn == "2021":  # the analyser's running state each hour: 1 running, 0 stopped
            made = ((t, {"SB1": {"RS": "0" if self.stopped(t) else "1"}})
                    for t in self.span(begin, end, timedelta(hours=1)))
        elif cn == "2041":  # hours run each day
            made = ((t, {"SB1": {"RT": "24.0"}}) for t in self.span(begin, end, timedelta(days=1)))
        else:
            return out
        for t, rec in made:
            if rec is None:
                continue
            when = (t + timedelta(hours=self.s.clock_hours)).astimezone(hj212.LOCAL).strftime("%Y%m%d%H%M%S")
            items = ";".join(",".join(f"{code}-{k}={v}" for k, v in fields.items()) for code, fields in rec.items())
            out.append(f"DataTime={when};{items}")
        return out


class Logger:
    """The field unit's side of the conversation on one byte stream."""

    def __init__(self, s: Settings, write: Callable[[bytes], None], read: Callable[[float], bytes | None],
                 history: History | None = None) -> None:
        self.s, self.write, self.read = s, write, read
        self.history = history or History(s)
        self.decoder = hj212.StreamDecoder()
        self.inbox: list[hj212.Packet] = []
        self.rng = random.Random(f"line:{s.seed}")
        self.served = 0
        self.resent = 0

    def packet(self, cn: str, cp: str, *, qn: str | None, st: str | None = None, flag: int = 4,
               pnum: int | None = None, pno: int | None = None) -> bytes:
        return hj212.encode(st=st or self.s.st, cn=cn, mn=self.s.mn, pw=self.s.pw, qn=qn, flag=flag, cp=cp,
                            pnum=pnum, pno=pno)

    def _next(self, timeout: float) -> hj212.Packet | None:
        end = time.monotonic() + timeout
        while not self.inbox:
            left = end - time.monotonic()
            if left <= 0:
                return None
            data = self.read(left)
            if data is None:
                raise EOFError
            for item in self.decoder.feed(data):
                if isinstance(item, hj212.Packet):
                    self.inbox.append(item)
        return self.inbox.pop(0)

    def _send_data(self, cn: str, qn: str, area: str) -> None:
        """One record, split when long, each packet answered by a 9014 (sent again if not)."""
        flag = 5 if self.s.ack else 4
        if len(area) <= self.s.max_data:
            parts = [area]
        else:  # split between items, the DataTime repeated in each part
            head, _sep, rest = area.partition(";")
            parts, cur = [], head
            for item in rest.split(";"):
                if len(cur) + len(item) + 1 > self.s.max_data and cur != head:
                    parts.append(cur)
                    cur = head
                cur += ";" + item
            parts.append(cur)
        for i, part in enumerate(parts, 1):
            split = len(parts) > 1
            pkt = self.packet(cn, part, qn=qn, flag=flag | (2 if split else 0), pnum=len(parts) if split else None,
                              pno=i if split else None)
            for _try in range(self.s.recount + 1):
                if self.rng.random() < self.s.garbage:  # line noise between packets
                    self.write(bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 30))))
                if self.rng.random() < self.s.bad_crc:  # damaged on the line: the host cannot answer it
                    self.write(pkt[:-6] + (b"0000" if pkt[-6:-2] != b"0000" else b"FFFF") + b"\r\n")
                else:
                    self.write(pkt)
                if not self.s.ack:
                    break
                if self._wait_ack():
                    break
                self.resent += 1

    def _wait_ack(self) -> bool:
        """Whether the host answered (9014) within OverTime; anything else it sent meanwhile waits."""
        end = time.monotonic() + self.s.overtime
        deferred: list[hj212.Packet] = []
        try:
            while (left := end - time.monotonic()) > 0:
                p = self._next(left)
                if p is None:
                    return False
                if p.cn == "9014":
                    return True
                deferred.append(p)
            return False
        finally:
            self.inbox[:0] = deferred

    def handle(self, p: hj212.Packet) -> None:
        qn = p.qn
        if p.cn in ("9011", "9012", "9013", "9014"):
            return
        code = "1"
        if p.pw != self.s.pw:
            code = "3"
        elif p.mn != self.s.mn:
            code = "4"
        elif p.st != self.s.st:
            code = "5"
        elif p.cn not in ("1011", "2051", "2061", "2031", "2021", "2041"):
            code = "8"
        self.write(self.packet("9011", f"QnRtn={code}", qn=qn, st="91"))
        if code != "1":
            return
        if p.cn == "1011":
            now = self.history.logger_now()
            self._send_data("1011", qn or "", f"SystemTime={logger_time(now)}")
            self.write(self.packet("9012", "ExeRtn=1", qn=qn, st="91"))
            return
        try:
            begin = hj212.parse_time(p.cp["BeginTime"]) - timedelta(hours=self.s.clock_hours)
            end = hj212.parse_time(p.cp["EndTime"]) - timedelta(hours=self.s.clock_hours)
        except (KeyError, ValueError):
            self.write(self.packet("9012", "ExeRtn=3", qn=qn, st="91"))
            return
        records = self.history.records(p.cn or "", begin, end)
        for area in records:
            self._send_data(p.cn or "", qn or "", area)
        self.served += len(records)
        self.write(self.packet("9012", "ExeRtn=1" if records else "ExeRtn=100", qn=qn, st="91"))

    def upload_realtime(self) -> None:
        now = datetime.now(UTC)
        items = ";".join(f"{code}-Rtd={true_value(code, now, st=self.s.st, seed=self.s.seed, caps=self.s.caps):.2f},"
                         f"{code}-Flag=N" for code in plant(self.s.st))
        when = (now + timedelta(hours=self.s.clock_hours)).astimezone(hj212.LOCAL)
        self.write(self.packet("2011", f"DataTime={when.strftime('%Y%m%d%H%M%S')};{items}",
                               qn=when.strftime("%Y%m%d%H%M%S") + f"{when.microsecond // 1000:03d}", flag=4))

    def serve(self) -> None:
        """Answer requests until the stream ends."""
        last_upload = time.monotonic()
        while True:
            wait = 0.5
            if self.s.upload:
                wait = max(0.0, last_upload + self.s.upload - time.monotonic())
                if wait == 0:
                    self.upload_realtime()
                    last_upload = time.monotonic()
                    continue
            try:
                p = self._next(wait)
            except EOFError:
                return
            if p is not None:
                self.handle(p)


# ---------------------------------------------------------------- transports
class Line:
    """A serial line at ``baud`` (8N1: 10 bits a byte), shared both ways as on RS-485: what the
    host sends takes the line's time too, and the logger writes only when the line is free.
    Without a baud rate, bytes go as fast as the pseudo-terminal takes them."""

    def __init__(self, fd: int, baud: int | None) -> None:
        self.fd, self.baud = fd, baud
        self.free = time.monotonic()

    def _busy(self, n: int) -> None:
        if self.baud:
            self.free = max(self.free, time.monotonic()) + n * 10 / self.baud

    def write(self, data: bytes) -> None:
        if self.baud and (lag := self.free - time.monotonic()) > 0:
            time.sleep(lag)  # the host is still talking
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self._busy(len(data))
        if self.baud and (lag := self.free - time.monotonic()) > 0:
            time.sleep(lag)

    def read(self, timeout: float) -> bytes | None:
        r, _w, _x = select.select([self.fd], [], [], timeout)
        if not r:
            return b""
        try:
            data = os.read(self.fd, 4096)
        except OSError:
            return None
        if not data:
            return None
        self._busy(len(data))
        return data


def serve_pty(s: Settings, baud: int | None) -> None:
    master, slave, path = open_pty()
    print(path, flush=True)
    try:
        line = Line(master, baud)
        Logger(s, line.write, line.read).serve()
    finally:
        os.close(master)
        os.close(slave)


def serve_tcp(s: Settings, port: int, host: str = "127.0.0.1") -> None:
    """Listen on ``host:port`` (0: a free port); one host at a time, as a logger's service port."""
    server = socket.create_server((host, port))
    print(f"{host}:{server.getsockname()[1]}", flush=True)
    history = History(s)
    while True:
        conn, _addr = server.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            Logger(s, conn.sendall, _socket_reader(conn), history).serve()


def _socket_reader(conn: socket.socket) -> Callable[[float], bytes | None]:
    def read(timeout: float) -> bytes | None:
        r, _w, _x = select.select([conn], [], [], timeout)
        if not r:
            return b""
        try:
            data = conn.recv(65536)
        except OSError:
            return None
        return data if data else None
    return read


def settings_from(args: argparse.Namespace) -> Settings:
    caps = {}
    for item in args.cap or []:
        code, _eq, value = item.partition("=")
        caps[code] = float(value)
    flags = None
    if args.flags:
        f, _c, hours = args.flags.partition(":")
        flags = (f, float(hours or 6))
    return Settings(mn=args.mn, pw=args.pw, st=args.st, seed=args.seed, days=args.days, caps=caps,
                    flat_hours=args.flat, flags=flags, clock_hours=args.clock, gap_hours=args.gap,
                    hourly_off=args.hourly_off, ack=not args.no_ack, upload=args.upload, max_data=args.max_data,
                    garbage=args.garbage, bad_crc=args.bad_crc, overtime=args.overtime, stopped_hours=args.stopped)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--st", default="31", choices=("31", "32"), help="31 flue gas, 32 waste water")
    ap.add_argument("--pw", default="123456")
    ap.add_argument("--days", type=float, default=1.0, help="days of minute history kept")
    ap.add_argument("--cap", action="append", metavar="CODE=LIMIT")
    ap.add_argument("--flat", type=float, default=0.0, metavar="HOURS")
    ap.add_argument("--flags", metavar="FLAG:HOURS")
    ap.add_argument("--clock", type=float, default=0.0, metavar="HOURS")
    ap.add_argument("--gap", type=float, default=0.0, metavar="HOURS")
    ap.add_argument("--hourly-off", type=float, default=0.0, metavar="PERCENT")
    ap.add_argument("--stopped", type=float, default=0.0, metavar="HOURS",
                    help="the analyser stopped these last hours (running state 0) while its minutes go on, valid")
    ap.add_argument("--no-ack", action="store_true", help="data packets ask for no 9014")
    ap.add_argument("--upload", type=float, default=0.0, metavar="SECONDS", help="real-time uploads this often")
    ap.add_argument("--max-data", type=int, default=1000, help="split packets with a longer data segment")
    ap.add_argument("--overtime", type=float, default=5.0, help="seconds the logger waits for a 9014 before sending "
                                                                "a data packet again (with --garbage, --bad-crc)")


def run(args: argparse.Namespace) -> int:
    s = settings_from(args)
    if args.exit_with_parent:
        threading.Thread(target=exit_at_eof, name="parent-watch", daemon=True).start()
    # stopped (Ctrl+C), or the host went away mid-answer: the simulator ends quietly either way
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        if args.tcp is not None:
            serve_tcp(s, args.tcp)
        else:
            serve_pty(s, args.baud)
    return 0
