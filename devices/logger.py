"""Reading an enterprise's data logger (数采仪) the way its platform does: the kit is the HJ 212
upper computer (上位机) on a serial port or over TCP.

The exchange of HJ 212-2017: the host sends a request (its QN, ``Flag`` asking for an answer); the
field unit answers ``CN=9011`` (``QnRtn=1``: accepted — anything else says why not), sends the
data (each packet, when its ``Flag`` asks, answered by the host with ``CN=9014``; a long one split
into ``PNUM`` packets numbered ``PNO``) and ends with ``CN=9012`` (``ExeRtn=1``: done; 100: no
data). With no 9011 within ``OverTime`` the host sends again, ``ReCount`` times. Uploads the
logger makes on its own meanwhile (real-time data, its start-up) are answered too.

Every byte both ways is kept with the time it was sent or received (:class:`Exchange`): the
verbatim record that becomes the evidence item. What is decoded from it (:func:`decode`) is
derived from those bytes alone, so anyone holding the record can check it.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from devices import hj212
from kit_app.errors import DeviceError
from kit_app.i18n import N_, _

OVERTIME = 5.0  # seconds the host waits for an answer (HJ 212-2017 default OverTime)
RECOUNT = 3  # times a request is sent again (default ReCount)
DEFAULT_PW = "123456"  # the standard's factory password
POLLUTION_SOURCES = ("31", "32")  # flue gas, waste water: the system codes tried in turn
CLOCK_SHIFT = 60.0  # a logger clock further off than this (s) is asked by its own time

# what a history request asks for: CN → kind of record
HISTORY = {"2051": "minute", "2061": "hour", "2031": "day", "2021": "state", "2041": "runtime"}
KINDS = {v: k for k, v in HISTORY.items()}

QN_RETURNS = {
    "1": N_("accepted"), "2": N_("refused"), "3": N_("wrong password"), "4": N_("wrong MN"), "5": N_("wrong ST"),
    "6": N_("wrong Flag"), "7": N_("wrong QN"), "8": N_("wrong CN"), "9": N_("CRC error"), "100": N_("unknown error"),
}
EXE_RETURNS = {
    "1": N_("done"), "2": N_("failed"), "3": N_("failed: the request's conditions are wrong"),
    "4": N_("failed: communication timed out"), "5": N_("failed: the system is busy"),
    "6": N_("failed: the system time is wrong"), "100": N_("no data"),
}


class LoggerError(DeviceError):
    """The data logger cannot be read (no answer, refused, went away); the message says which and
    what to try."""


class LoggerRefused(LoggerError):
    """The logger answered with a refusal (QnRtn other than 1): wrong password, MN, ST…"""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def endpoint_url(port: str | None = None, tcp: str | None = None) -> str:
    """A pyserial URL for a serial port (``COM3``, ``/dev/ttyUSB0``, a pty) or a TCP ``host:port``."""
    if tcp:
        host, sep, number = tcp.rpartition(":")
        if not sep or not host or not number.isdigit() or not 0 < int(number) < 65536:
            raise LoggerError(_("{value} is not HOST:PORT (for example 192.168.1.10:5000)").format(value=tcp))
        return f"socket://{host}:{number}"
    if not port:
        raise LoggerError(_("name the logger's serial port or its TCP address"))
    return port


@dataclass(frozen=True, slots=True)
class Transmission:
    """Bytes sent (``tx``) or received (``rx``) at ``at`` (UTC)."""

    direction: str
    at: datetime
    data: bytes

    def record(self) -> dict[str, Any]:
        return {"type": self.direction, "at": self.at.isoformat(), "hex": self.data.hex()}


@dataclass
class Exchange:
    """Everything said on the line, both ways, with its time: the verbatim record."""

    endpoint: str
    baud: int | None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    entries: list[Transmission] = field(default_factory=list)

    def add(self, direction: str, data: bytes) -> Transmission:
        t = Transmission(direction, datetime.now(UTC), bytes(data))
        self.entries.append(t)
        return t

    @property
    def bytes_sent(self) -> int:
        return sum(len(e.data) for e in self.entries if e.direction == "tx")

    @property
    def bytes_received(self) -> int:
        return sum(len(e.data) for e in self.entries if e.direction == "rx")


@dataclass
class Clock:
    """The logger's clock against the kit's: ``offset`` = logger − kit (seconds), within ± ``uncertainty``."""

    logger_time: datetime
    kit_time: datetime
    offset: float
    uncertainty: float

    def as_dict(self) -> dict[str, Any]:
        return {"logger_time": self.logger_time.isoformat(), "kit_time": self.kit_time.isoformat(),
                "offset_s": round(self.offset, 3), "uncertainty_s": round(self.uncertainty, 3)}


@dataclass
class Answer:
    """What came back for one request: its data packets (joined when split) and the end code."""

    qn: str
    cn: str
    packets: list[hj212.Packet]
    arrived: list[datetime]  # when each packet's last byte came (UTC)
    exe_rtn: str | None
    complete: bool  # 9012 arrived
    overflow: bool = False  # more data than the period can hold: the kit stopped taking it


def qn_now(now: datetime | None = None) -> str:
    """A request number: the time to the millisecond (Beijing time), as the standard has it."""
    t = (now or datetime.now(UTC)).astimezone(hj212.LOCAL)
    return t.strftime("%Y%m%d%H%M%S") + f"{t.microsecond // 1000:03d}"


def logger_time(t: datetime) -> str:
    return t.astimezone(hj212.LOCAL).strftime("%Y%m%d%H%M%S")


class Link:
    """One connection to a data logger, every byte recorded in ``exchange``."""

    def __init__(self, url: str, *, baud: int = 9600, mn: str | None = None, pw: str = DEFAULT_PW,
                 st: str | None = None, overtime: float = OVERTIME, recount: int = RECOUNT,
                 stop: Callable[[], bool] | None = None) -> None:
        self.url, self.mn, self.st = url, _token(mn, "MN"), st
        self.pw: str = _token(pw, "PW") or DEFAULT_PW
        self.overtime, self.recount, self.stop = overtime, recount, stop
        self.exchange = Exchange(endpoint=url, baud=None if url.startswith("socket://") else baud)
        self._decoder = hj212.StreamDecoder()
        self._joiner = hj212.Reassembler()
        self._pending: list[tuple[hj212.Packet, datetime]] = []
        self.last_at = datetime.now(UTC)  # when the packet last taken arrived
        self._last_qn = ""
        self.uploads: list[hj212.Packet] = []  # what the logger sent of its own accord
        self.damaged = 0
        import serial

        try:
            self._port: Any = (_Tcp(url) if url.startswith("socket://")
                               else serial.serial_for_url(url, baudrate=baud, timeout=0.2))
        except (serial.SerialException, ValueError, OSError) as exc:
            raise LoggerError(_("cannot open {port}: {reason}").format(port=_shown(url), reason=exc)) from exc

    def close(self) -> None:
        self._port.close()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- the line
    def _send(self, data: bytes) -> None:
        import serial

        self.exchange.add("tx", data)
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise LoggerError(_("the connection to the logger went away: {reason}").format(reason=exc)) from exc

    def _receive(self, until: float) -> Iterator[hj212.Packet]:
        """Packets as they arrive, until the monotonic time ``until``. Each data packet whose Flag
        asks for it is answered (9014) on arrival; damaged ones are counted (their bytes stay in the
        record). Packets decoded but not yet taken wait in ``_pending`` for the next call."""
        import serial

        while True:
            while self._pending:
                p, self.last_at = self._pending.pop(0)
                yield p
            if time.monotonic() >= until:
                return
            if self.stop and self.stop():
                raise LoggerError(_("stopped by the officer"))
            try:
                chunk = self._port.read(max(1, self._port.in_waiting))
            except (serial.SerialException, OSError) as exc:
                raise LoggerError(_("the connection to the logger went away: {reason}").format(reason=exc)) from exc
            if not chunk:
                continue
            at = self.exchange.add("rx", chunk).at
            for item in self._decoder.feed(chunk):
                if isinstance(item, hj212.HJ212Error):
                    self.damaged += 1
                    continue
                self._answer_data(item)
                whole = self._joiner.feed(item)
                if whole is not None:
                    self._pending.append((whole, at))

    def _answer_data(self, p: hj212.Packet) -> None:
        """9014 to a data packet whose Flag asks for an answer."""
        if p.needs_answer and p.cn not in ("9011", "9012", "9013", "9014"):
            self._send(hj212.encode(st="91", cn="9014", mn=p.mn or self.mn or "", pw=p.pw or self.pw, qn=p.qn,
                                    flag=4))

    def _took(self, p: hj212.Packet, qn: str, cn: str) -> bool:
        """Whether a packet belongs to the request ``qn`` (else it is an upload, kept aside)."""
        if p.cn in ("9011", "9012"):
            return p.qn == qn
        if p.cn == cn and (p.qn == qn or p.qn is None):
            return True
        if p.mn and not self.mn:
            self.mn = p.mn
        self.uploads.append(p)
        return False

    # ---------------------------------------------------------------- requests
    def listen(self, seconds: float) -> list[hj212.Packet]:
        """What the logger sends by itself for ``seconds`` (answered); its MN is learnt from it."""
        got = []
        for p in self._receive(time.monotonic() + seconds):
            self._took(p, "", "")
            got.append(p)
            if self.mn:
                break
        return got

    def request(self, cn: str, cp: str = "", limit: int | None = None) -> Answer:
        """Send a request and collect its answer (retried ``recount`` times when unanswered); more
        than ``limit`` data packets end the reading of it (a logger that would never stop)."""
        if not self.mn:
            raise LoggerError(_("the logger's MN is not known: type it, or let the kit listen for the logger's "
                                "uploads first"))
        systems = (self.st,) if self.st else POLLUTION_SOURCES
        refused: LoggerRefused | None = None
        for st in systems:
            try:
                answer = self._request(st, cn, cp, limit)
            except LoggerRefused as exc:
                if exc.code != "5":  # a wrong system code: try the next one
                    raise
                refused = exc
                continue
            self.st = st
            return answer
        assert refused is not None
        raise refused

    def _request(self, st: str, cn: str, cp: str, limit: int | None = None) -> Answer:
        qn = qn_now()
        while qn <= self._last_qn:  # two requests in one millisecond still get two numbers
            time.sleep(0.001)
            qn = qn_now()
        self._last_qn = qn
        assert self.mn is not None
        packet = hj212.encode(st=st, cn=cn, mn=self.mn, pw=self.pw, qn=qn, flag=5, cp=cp)
        accepted = False
        for _attempt in range(self.recount + 1):
            self._send(packet)
            deadline = time.monotonic() + self.overtime
            for p in self._receive(deadline):
                if not self._took(p, qn, cn):
                    continue
                if p.cn == "9011":
                    code = p.cp.get("QnRtn", "")
                    if code != "1":
                        raise LoggerRefused(_("the logger refused the request ({cn}): {why}").format(
                            cn=cn, why=_(QN_RETURNS.get(code, N_("unknown error")))) + _hint(code), code)
                    accepted = True
                    break
                # data or the end before the request's answer: the answer was lost; take them
                self._pending.insert(0, (p, self.last_at))
                accepted = True
                break
            if accepted:
                break
        if not accepted:
            raise LoggerError(_("the logger did not answer (after {n} tries of {s:g} s): check the cable, the "
                                "port's baud rate and that this is the logger's port").format(
                n=self.recount + 1, s=self.overtime))
        packets: list[hj212.Packet] = []
        arrived: list[datetime] = []
        while True:
            got_any = False
            for p in self._receive(time.monotonic() + self.overtime):
                got_any = True
                if not self._took(p, qn, cn):
                    break  # an upload: the wait starts again
                if p.cn == "9012":
                    return Answer(qn, cn, packets, arrived, p.cp.get("ExeRtn"), True)
                if p.cn == "9011":
                    continue  # a repeated answer to a request sent again
                packets.append(p)
                arrived.append(self.last_at)
                if limit is not None and len(packets) > limit:
                    return Answer(qn, cn, packets, arrived, None, False, overflow=True)
                break
            if not got_any:  # the logger fell silent before saying it was done: keep what came
                return Answer(qn, cn, packets, arrived, None, False)

    def clock(self) -> Clock:
        """The logger's time (CN=1011) against the kit's, with how sure that is."""
        sent = datetime.now(UTC)
        answer = self.request("1011")
        for p, received in zip(answer.packets, answer.arrived, strict=True):
            text = p.cp.get("SystemTime")
            if text:
                try:
                    theirs = hj212.parse_time(text)
                except ValueError:
                    raise LoggerError(_("the logger's time {value!r} is not a time").format(value=text)) from None
                mid = sent + (received - sent) / 2
                # the logger's clock shows whole seconds: up to 1 s of its own, plus half the round trip
                return Clock(theirs, mid, (theirs - mid).total_seconds() + 0.5,
                             0.5 + (received - sent).total_seconds() / 2)
        raise LoggerError(_("the logger did not tell its time"))

    def history(self, kind: str, begin: datetime, end: datetime) -> Answer:
        """Minute, hourly or daily data, running state or running time for a period (at most twice
        the records the period holds, and ten more: a record sent again is one more packet)."""
        minutes = max(0, int((end - begin).total_seconds() // 60)) + 1
        holds = {"minute": minutes, "hour": minutes // 60 + 1, "day": minutes // 1440 + 1}.get(kind, minutes)
        return self.request(KINDS[kind], f"BeginTime={logger_time(begin)};EndTime={logger_time(end)}",
                            limit=2 * holds + 10)


class _Tcp:
    """A TCP connection with the part of a serial port's interface the link uses (pyserial's own
    ``socket://`` reports at most one byte waiting, so it would be read a byte at a time)."""

    def __init__(self, url: str) -> None:
        host, _sep, port = url.removeprefix("socket://").rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.in_waiting = 0

    def read(self, _size: int) -> bytes:
        ready, _w, _x = select.select([self.sock], [], [], 0.2)
        if not ready:
            return b""
        data = self.sock.recv(65536)
        if not data:
            raise OSError(_("the logger closed the connection"))
        return data

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def flush(self) -> None:
        """Nothing waits in a buffer here: ``sendall`` returned once the kernel had every byte."""

    def close(self) -> None:
        self.sock.close()


def _token(value: str | None, what: str) -> str | None:
    """An MN or password as a packet may carry it: letters and digits (``;``, ``=``, ``&`` and ``,``
    frame the packet — one inside a value would change the request)."""
    if value is None:
        return None
    if not (0 < len(value) <= 32 and value.isascii() and value.isalnum()):
        raise LoggerError(_("the logger's {what} {value!r} is not 1-32 letters or digits").format(what=what,
                                                                                               value=value))
    return value


def _hint(code: str) -> str:
    return {"3": " " + _("Type the logger's password (PW)."),
            "4": " " + _("Check the logger's MN (on its label or screen).")}.get(code, "")


def _shown(url: str) -> str:
    return url.removeprefix("socket://")


# ---------------------------------------------------------------- reading and decoding
def read_logger(url: str, kinds: list[str], begin: datetime, end: datetime, *, baud: int = 9600,
                mn: str | None = None, pw: str = DEFAULT_PW, st: str | None = None, listen: float = 65.0,
                overtime: float = OVERTIME, recount: int = RECOUNT,
                progress: Callable[[str], None] | None = None, stop: Callable[[], bool] | None = None,
                candidates: tuple[str, ...] | list[str] = ()) -> tuple[Exchange, dict[str, Any]]:
    """Ask the logger its time and the history of ``kinds`` for ``[begin, end]``. Returns the
    verbatim exchange and a summary (MN, clock, what each request ended with); the records are
    :func:`decode`\\ d from the exchange. A failure after some data came keeps that data: the
    summary says what was not read. Without ``mn``, the MNs of ``candidates`` (the base data's for
    the source) are tried in turn; with none, the logger's MN is learnt from its uploads."""
    link = Link(url, baud=baud, mn=mn, pw=pw, st=st, overtime=overtime, recount=recount, stop=stop)
    summary: dict[str, Any] = {"requests": []}
    try:
        if not link.mn and not candidates:
            if progress:
                progress(_("listening for the logger's MN…"))
            link.listen(listen)
        elif progress:
            progress(_("connected to {port}").format(port=_shown(url)))
        if progress:
            progress(_("asking the logger's time…"))
        clock = link.clock() if link.mn else _try_each(link, candidates)
        summary["clock"] = clock.as_dict()
        if abs(clock.offset) > CLOCK_SHIFT:
            # the logger files its records by its own clock: ask for the period as it counts it
            shift = timedelta(seconds=round(clock.offset))
            begin, end = begin + shift, end + shift
            summary["asked_by_logger_clock"] = {"begin": begin.isoformat(), "end": end.isoformat()}
        for kind in kinds:
            if progress:
                progress(_("reading {kind} data…").format(kind=_(KIND_LABELS[kind])))
            try:
                a = link.history(kind, begin, end)
            except LoggerRefused as exc:
                summary["requests"].append({"kind": kind, "cn": KINDS[kind], "error": str(exc)})
                continue
            summary["requests"].append({"kind": kind, "cn": KINDS[kind], "packets": len(a.packets),
                                        "exe_rtn": a.exe_rtn, "complete": a.complete})
            if a.overflow:
                summary["requests"][-1]["error"] = _(
                    "the logger sent more records than the period holds ({n}): the kit stopped taking them").format(
                    n=len(a.packets))
    except LoggerError as exc:
        summary["error"] = str(exc)
    finally:
        link.close()
    summary |= {"mn": link.mn, "st": link.st, "damaged": link.damaged, "uploads": len(link.uploads),
                "bytes_sent": link.exchange.bytes_sent, "bytes_received": link.exchange.bytes_received}
    return link.exchange, summary


def _try_each(link: Link, candidates: tuple[str, ...] | list[str]) -> Clock:
    """The first of the MNs the logger takes (asking its time), or why none was."""
    for mn in candidates:
        link.mn = _token(mn, "MN")
        try:
            return link.clock()
        except LoggerRefused as exc:
            if exc.code != "4":
                raise
    link.mn = None
    raise LoggerError(_("the logger took none of the MNs the base data has for this source ({mns}): type the one "
                        "on its label").format(mns=", ".join(candidates)))


KIND_LABELS = {"minute": N_("minute"), "hour": N_("hourly"), "day": N_("daily"), "state": N_("running state"),
               "runtime": N_("running time")}


def decode(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The records in a recorded exchange (``{"type": "rx", "hex": …}`` entries, in order): per kind
    of record, ``{"time": ISO, "values": {code: {Avg, Min, Max, Cou, Rtd, Flag…}}}`` sorted by time,
    each time once (a record sent twice — the logger's retry — counts once). Also ``"clock"`` (the
    logger's SystemTime answers) and ``"damaged"`` (packets that failed their CRC or length)."""
    dec = hj212.StreamDecoder()
    joiner = hj212.Reassembler()
    out: dict[str, dict[str, dict[str, Any]]] = {}
    clock: list[dict[str, Any]] = []
    damaged = 0
    for e in entries:
        if e.get("type") != "rx":
            continue
        for item in dec.feed(bytes.fromhex(e["hex"])):
            if isinstance(item, hj212.HJ212Error):
                damaged += 1
                continue
            p = joiner.feed(item)
            if p is None:
                continue
            if p.cn == "1011" and "SystemTime" in p.cp:
                clock.append({"system_time": p.cp["SystemTime"], "received_at": e["at"]})
            kind = HISTORY.get(p.cn or "") or ("realtime" if p.cn == "2011" else None)
            if kind is None or p.data_time is None:
                continue
            values = {code: {k: v for k, v in fields.items() if k not in ("name", "name_en", "unit")}
                      for code, fields in p.pollutants.items()}
            row = out.setdefault(kind, {}).setdefault(p.data_time.isoformat(), {"time": p.data_time.isoformat(),
                                                                                 "values": {}})
            for code, fields in values.items():
                row["values"].setdefault(code, {}).update(fields)
    result: dict[str, Any] = {kind: [rows[t] for t in sorted(rows, key=lambda s: datetime.fromisoformat(s))]
                              for kind, rows in out.items()}
    result["clock"] = clock
    result["damaged"] = damaged
    return result


def estimate_seconds(kinds: list[str], begin: datetime, end: datetime, baud: int | None,
                     pollutants: int = 5) -> float | None:
    """How long reading ``kinds`` for the period takes on a serial line at ``baud`` (None over TCP):
    a minute record with its answer is about 90 bytes a pollutant and 110 more, both ways."""
    if not baud:
        return None
    minutes = max(0.0, (end - begin).total_seconds() / 60)
    count = {"minute": minutes, "hour": minutes / 60, "day": minutes / 1440, "state": minutes / 60,
             "runtime": minutes / 1440}
    records = sum(count[k] for k in kinds)
    return records * (110 + 90 * pollutants) * 10 / baud
