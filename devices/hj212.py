"""HJ 212-2017 (and the 2005 variant): the data loggers' packet format.

``##dddd<data segment>XXXX\\r\\n``: ``dddd`` is the data segment's length in characters, ``XXXX``
the HJ 212 CRC of the data segment (see :func:`crc16`). The data segment is ``KEY=value;`` pairs
(QN, ST, CN, PW, MN, Flag, PNUM, PNO) then ``CP=&&…&&`` with the data area. Parsing is as tolerant
as real loggers require (QN or Flag absent, CRC hex in either case, PNO before PNUM, 14- or 17-digit
times, MN of any length, data segments up to 9999 characters, 2005 numeric pollutant codes) and
strict about what makes a packet untrustworthy (length, CRC, framing), naming what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from kit_app.errors import ProtocolError
from kit_app.i18n import N_, _

MAX_DATA = 9999
LOCAL = timezone(timedelta(hours=8))  # loggers in China keep Beijing time


class HJ212Error(ProtocolError):
    """A packet that cannot be trusted; the message names what is wrong."""


def crc16(data: bytes) -> int:
    """The HJ 212 CRC (appendix of the standard): reflected 0x8005, init 0xFFFF, but the register's
    high byte is shifted down *before* each data byte is XORed in — not CRC-16/MODBUS."""
    reg = 0xFFFF
    for b in data:
        reg = (reg >> 8) ^ b
        for _i in range(8):
            lsb = reg & 1
            reg >>= 1
            if lsb:
                reg ^= 0xA001
    return reg


def _crc_table() -> list[int]:
    table = []
    for b in range(256):
        reg = b
        for _i in range(8):
            lsb = reg & 1
            reg >>= 1
            if lsb:
                reg ^= 0xA001
        table.append(reg)
    return table


_TABLE = _crc_table()


def crc16_fast(data: bytes) -> int:
    """:func:`crc16` with a table: ``(reg >> 8) ^ b`` is below 256, so the eight shift/XOR steps
    that follow are one lookup."""
    reg = 0xFFFF
    t = _TABLE
    for b in data:
        reg = t[(reg >> 8) ^ b]
    return reg


# 2017 codes: (Chinese name, English name, unit)
POLLUTANTS: dict[str, tuple[str, str, str]] = {
    "w00000": ("废水流量", "waste-water flow", "L/s"),
    "w01001": ("pH值", "pH", ""),
    "w01018": ("化学需氧量", "COD", "mg/L"),
    "w21003": ("氨氮", "ammonia nitrogen", "mg/L"),
    "w21011": ("总磷", "total phosphorus", "mg/L"),
    "w21001": ("总氮", "total nitrogen", "mg/L"),
    "w01012": ("悬浮物", "suspended solids", "mg/L"),
    "w01017": ("五日生化需氧量", "BOD5", "mg/L"),
    "w01020": ("总有机碳", "TOC", "mg/L"),
    "w01009": ("溶解氧", "dissolved oxygen", "mg/L"),
    "w01010": ("水温", "water temperature", "°C"),
    "w01014": ("电导率", "conductivity", "µS/cm"),
    "a00000": ("废气流量", "waste-gas flow", "m³/s"),
    "a21026": ("二氧化硫", "SO2", "mg/m³"),
    "a21002": ("氮氧化物", "NOx", "mg/m³"),
    "a21003": ("一氧化氮", "NO", "mg/m³"),
    "a21004": ("二氧化氮", "NO2", "mg/m³"),
    "a21005": ("一氧化碳", "CO", "mg/m³"),
    "a34013": ("烟尘", "particulates", "mg/m³"),
    "a34002": ("PM10", "PM10", "µg/m³"),
    "a34004": ("PM2.5", "PM2.5", "µg/m³"),
    "a34001": ("总悬浮颗粒物", "TSP", "µg/m³"),
    "a19001": ("氧含量", "O2", "%"),
    "a01011": ("烟气流速", "flue-gas velocity", "m/s"),
    "a01012": ("烟气温度", "flue-gas temperature", "°C"),
    "a01013": ("烟气压力", "flue-gas pressure", "kPa"),
    "a01014": ("烟气湿度", "flue-gas humidity", "%"),
    "a01016": ("烟道截面积", "stack cross-section", "m²"),
    "a01017": ("烟气动压", "flue-gas dynamic pressure", "kPa"),
    "a01001": ("温度", "air temperature", "°C"),
    "a01002": ("湿度", "relative humidity", "%"),
    "a01006": ("气压", "air pressure", "kPa"),
    "a24088": ("非甲烷总烃", "non-methane hydrocarbons", "mg/m³"),
    "a24087": ("碳氢化合物", "hydrocarbons", "mg/m³"),
    "a25002": ("苯", "benzene", "mg/m³"),
    "a25003": ("甲苯", "toluene", "mg/m³"),
    "a25004": ("乙苯", "ethylbenzene", "mg/m³"),
    "a25005": ("二甲苯", "xylenes", "mg/m³"),
    "a31001": ("甲醛", "formaldehyde", "mg/m³"),
    "a30001": ("甲醇", "methanol", "mg/m³"),
    "a21001": ("氨", "ammonia", "mg/m³"),
    "a21024": ("氯化氢", "hydrogen chloride", "mg/m³"),
    "a21028": ("硫化氢", "hydrogen sulphide", "mg/m³"),
    "a05001": ("二氧化碳", "CO2", "%"),
    "a05002": ("甲烷", "methane", "mg/m³"),
    "a05024": ("臭氧", "O3", "µg/m³"),
    "a01007": ("风速", "wind speed", "m/s"),
    "a01008": ("风向", "wind direction", "°"),
    "w01003": ("浊度", "turbidity", "NTU"),
    "w01008": ("全盐量", "total salt", "mg/L"),
    "w01019": ("高锰酸盐指数", "permanganate index", "mg/L"),
    "LA": ("A声级", "A-weighted sound level", "dB(A)"),
    "Leq": ("等效声级", "equivalent sound level", "dB(A)"),
}
# HJ/T 212-2005 numeric codes still sent by older loggers
CODES_2005 = {
    "B01": "w00000", "001": "w01001", "011": "w01018", "060": "w21003", "101": "w21011",
    "065": "w21001", "003": "w01012", "010": "w01017", "015": "w01020",
    "B02": "a00000", "02": "a21026", "03": "a21002", "04": "a21005", "01": "a34013",
    "S01": "a19001", "S02": "a01011", "S03": "a01012", "S04": "a01017", "S05": "a01014",
    "S07": "a01016", "S08": "a01013", "B03": "LA",
}
DATA_FLAGS = {"N": N_("normal"), "F": N_("stopped"), "M": N_("maintenance"), "S": N_("set value"),
              "D": N_("fault"), "C": N_("calibrating"), "T": N_("over range"), "B": N_("communication fault")}
DATA_COMMANDS = {"2011", "2031", "2041", "2051", "2061", "2081"}

# header field -> allowed lengths (all digits)
_FIELD_DIGITS = {"QN": (14, 17), "ST": (1, 2, 3, 4), "CN": (4,), "Flag": (1, 2, 3), "PNUM": (1, 2, 3, 4),
                 "PNO": (1, 2, 3, 4)}  # ST: two digits by the standard; others are kept with a warning
_INFO: dict[str, dict[str, str | None]] = {code: {"name": zh, "name_en": en, "unit": unit}
                                          for code, (zh, en, unit) in POLLUTANTS.items()}
_UNKNOWN: dict[str, str | None] = {"name": None, "name_en": None, "unit": None}
_HEADER_KEYS = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")


def parse_time(text: str) -> datetime:
    """``YYYYMMDDhhmmss`` or ``YYYYMMDDhhmmsszzz`` in Beijing time, as an aware datetime."""
    if len(text) not in (14, 17) or not text.isdigit() or not text.isascii():
        raise ValueError(text)
    return datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]),
                    int(text[12:14]), int(text[14:17] or 0) * 1000, tzinfo=LOCAL)


@dataclass
class Packet:
    qn: str | None
    st: str | None
    cn: str | None
    pw: str | None
    mn: str | None
    flag: int | None
    pnum: int | None
    pno: int | None
    data_time: datetime | None
    pollutants: dict[str, dict[str, Any]]
    cp: dict[str, str]
    crc: str
    length: int
    raw: bytes
    warnings: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        """2005, 2017 or 2025 from the Flag's version bits (a hint: some loggers set them oddly)."""
        if self.flag is None:
            return "2005"
        v = self.flag >> 2
        return {0: "2005", 1: "2017", 2: "2025"}.get(v, f"v{v}")

    @property
    def needs_answer(self) -> bool:
        return self.flag is not None and bool(self.flag & 1)

    @property
    def split(self) -> bool:
        return self.flag is not None and bool(self.flag & 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": True, "qn": self.qn, "st": self.st, "cn": self.cn, "pw": self.pw, "mn": self.mn,
            "flag": self.flag, "version": self.version, "needs_answer": self.needs_answer,
            "pnum": self.pnum, "pno": self.pno,
            "data_time": self.data_time.isoformat() if self.data_time else None,
            "pollutants": self.pollutants, "cp": self.cp, "crc": self.crc, "length": self.length,
            "warnings": self.warnings,
        }


def frame(data: str) -> bytes:
    """Wrap a data segment: length, CRC, CRLF."""
    raw = data.encode("utf-8")
    if len(raw) > MAX_DATA:
        raise HJ212Error(_("the data segment is longer than {n} characters").format(n=MAX_DATA))
    return b"##%04d" % len(raw) + raw + b"%04X\r\n" % crc16_fast(raw)


def parse(packet: bytes | str) -> Packet:
    """Parse one packet (with or without its CRLF)."""
    raw = packet.encode("utf-8") if isinstance(packet, str) else bytes(packet)
    line = raw.rstrip(b"\r\n")
    if not line.startswith(b"##"):
        raise HJ212Error(_("the packet does not start with ##"))
    digits = line[2:6]
    if len(digits) < 4 or not digits.isdigit():
        raise HJ212Error(_("the length field {field!r} is not four digits").format(
            field=digits.decode("latin-1")))
    length = int(digits)
    body = line[6:]
    if len(body) != length + 4:
        have = len(body) - 4
        raise HJ212Error(_("the length field says {n} but the data segment has {m} characters").format(
            n=length, m=max(have, 0)))
    data, crc_text = body[:length], body[length:]
    if len(crc_text) != 4 or any(c not in b"0123456789ABCDEFabcdef" for c in crc_text):  # not "0x00", "+880"
        raise HJ212Error(_("the CRC {crc!r} is not four hex digits").format(crc=crc_text.decode("latin-1")))
    got = int(crc_text, 16)
    want = crc16_fast(data)
    if got != want:
        raise HJ212Error(_("CRC mismatch: expected {want:04X}, got {got}").format(want=want, got=crc_text.decode()))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
    return _parse_segment(text, crc_text.decode().upper(), length, raw)


def _parse_segment(text: str, crc: str, length: int, raw: bytes) -> Packet:
    start = text.find("CP=&&")
    if start < 0:
        raise HJ212Error(_("the data area CP=&&…&& is missing"))
    end = text.rfind("&&")
    if end < start + 5:
        raise HJ212Error(_("the data area is not closed with &&"))
    header: dict[str, str] = {}
    for part in text[:start].split(";"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq:
            raise HJ212Error(_("bad field {field!r} in the header").format(field=part))
        header[key] = value
    for key, lengths in _FIELD_DIGITS.items():
        v = header.get(key)
        if v is not None and not (len(v) in lengths and v.isdigit() and v.isascii()):
            raise HJ212Error(_("bad field {key}={value}").format(key=key, value=v))
    warnings: list[str] = []
    if header.get("ST") is not None and len(header["ST"]) != 2:
        warnings.append(_("ST={st} is not the two digits of HJ 212-2017").format(st=header["ST"]))
    pollutants: dict[str, dict[str, Any]] = {}
    cp: dict[str, str] = {}
    data_time = None
    for group in text[start + 5:end].split(";"):
        if not group:
            continue
        for item in group.split(","):
            if not item:
                continue
            key, eq, value = item.partition("=")
            if not eq:
                raise HJ212Error(_("bad data item {item!r}").format(item=item))
            if key == "DataTime":
                try:
                    data_time = parse_time(value)
                except ValueError:
                    raise HJ212Error(_("bad DataTime {value!r}").format(value=value)) from None
                continue
            code, dash, suffix = key.rpartition("-")
            if not dash or not code:
                cp[key] = value
                continue
            code = CODES_2005.get(code, code)
            entry = pollutants.get(code)
            if entry is None:
                info = _INFO.get(code)
                if info is None:
                    info = _UNKNOWN
                    warnings.append(f"unknown code {code}")
                entry = pollutants[code] = dict(info)
            if suffix == "Flag" or suffix == "EFlag":
                entry[suffix] = value
            elif suffix.endswith("Time"):  # SampleTime and the like: a timestamp, never a number
                try:
                    entry[suffix] = parse_time(value).isoformat()
                except ValueError:
                    entry[suffix] = value
                    warnings.append(_("{code}-{field}={value} is not a time (YYYYMMDDhhmmss)").format(
                        code=code, field=suffix, value=value))
            else:
                try:
                    f = float(value)
                    entry[suffix] = f if f - f == 0 else value  # NaN and inf stay raw
                except ValueError:
                    entry[suffix] = value  # kept raw
    flag = int(header["Flag"]) if "Flag" in header else None
    return Packet(
        qn=header.get("QN"), st=header.get("ST"), cn=header.get("CN"), pw=header.get("PW"),
        mn=header.get("MN"), flag=flag,
        pnum=int(header["PNUM"]) if "PNUM" in header else None,
        pno=int(header["PNO"]) if "PNO" in header else None,
        data_time=data_time, pollutants=pollutants, cp=cp, crc=crc, length=length, raw=raw, warnings=warnings,
    )


def encode(*, st: str, cn: str, mn: str, pw: str = "123456", qn: str | None = None, flag: int | None = 4,
           cp: str = "", pnum: int | None = None, pno: int | None = None) -> bytes:
    """A packet in the 2017 layout."""
    parts = []
    if qn:
        parts.append(f"QN={qn}")
    parts += [f"ST={st}", f"CN={cn}", f"PW={pw}", f"MN={mn}"]
    if flag is not None:
        parts.append(f"Flag={flag}")
    if pnum is not None:
        parts.append(f"PNUM={pnum}")
    if pno is not None:
        parts.append(f"PNO={pno}")
    return frame(";".join(parts) + f";CP=&&{cp}&&")


def answer(p: Packet, now: datetime | None = None) -> bytes | None:
    """The reply a logger waits for: 9014 (data answer) to an upload, 9011 (request answer) to a
    command, when the packet's Flag asks for one; None otherwise."""
    if not p.needs_answer:
        return None
    if p.cn in DATA_COMMANDS:
        return encode(st="91", cn="9014", mn=p.mn or "", pw=p.pw or "", qn=p.qn, flag=4)
    return encode(st="91", cn="9011", mn=p.mn or "", pw=p.pw or "", qn=p.qn, flag=4, cp="QnRtn=1")


class Reassembler:
    """Joins split messages (Flag bit D, PNUM/PNO in any order of arrival) by QN and MN."""

    def __init__(self) -> None:
        self._parts: dict[tuple[str | None, str | None], dict[int, Packet]] = {}

    def feed(self, p: Packet) -> Packet | None:
        if not p.pnum or p.pnum <= 1 or p.pno is None:
            return p
        key = (p.qn, p.mn)
        parts = self._parts.setdefault(key, {})
        parts[p.pno] = p
        if len(parts) < p.pnum:
            return None
        del self._parts[key]
        ordered = [parts[i] for i in sorted(parts)]
        first = ordered[0]
        merged: dict[str, dict[str, Any]] = {}
        cp: dict[str, str] = {}
        for part in ordered:
            for code, values in part.pollutants.items():
                merged.setdefault(code, {}).update(values)
            cp.update(part.cp)
        return Packet(qn=first.qn, st=first.st, cn=first.cn, pw=first.pw, mn=first.mn, flag=first.flag,
                      pnum=first.pnum, pno=None, data_time=first.data_time or next(
                          (q.data_time for q in ordered if q.data_time), None),
                      pollutants=merged, cp=cp, crc=first.crc, length=sum(q.length for q in ordered),
                      raw=b"".join(q.raw for q in ordered),
                      warnings=sorted({w for q in ordered for w in q.warnings}))


class StreamDecoder:
    """Finds packets in a byte stream (garbage between them is skipped and counted)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.skipped = 0

    def feed(self, data: bytes) -> list[Packet | HJ212Error]:
        self.buf += data
        out: list[Packet | HJ212Error] = []
        while True:
            i = self.buf.find(b"##")
            if i < 0:
                keep = 1 if self.buf.endswith(b"#") else 0
                self.skipped += len(self.buf) - keep
                del self.buf[: len(self.buf) - keep]
                return out
            if i:
                self.skipped += i
                del self.buf[:i]
            if len(self.buf) < 6:
                return out
            digits = bytes(self.buf[2:6])
            if not digits.isdigit():
                self.skipped += 2
                del self.buf[:2]
                continue
            need = int(digits) + 12
            if len(self.buf) < need:
                nxt = self.buf.find(b"##", 2)
                if nxt > 0 and self.buf.find(b"\r\n", 0, nxt) >= 0:
                    # a short packet followed by another: report it and go on
                    out.append(HJ212Error(_("packet cut short before the next one began")))
                    self.skipped += nxt
                    del self.buf[:nxt]
                    continue
                return out
            chunk = bytes(self.buf[:need])
            del self.buf[:need]
            try:
                out.append(parse(chunk))
            except HJ212Error as exc:
                out.append(exc)
