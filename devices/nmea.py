"""NMEA 0183 from GNSS receivers: GGA, RMC and GLL positions, ZDA dates (GSA, VTG, GSV and TXT are
recognised and passed through), with the XOR checksum of exactly two hex digits. A fix without a
position is reported as no fix — never as 0,0. Two-digit years pivot at 80 (191194 is 1994)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from kit_app.errors import ProtocolError
from kit_app.i18n import _


class NMEAError(ProtocolError):
    """A sentence that cannot be trusted; the message names what is wrong."""


def checksum(body: str) -> int:
    c = 0
    for ch in body.encode("ascii", errors="replace"):
        c ^= ch
    return c


def sentence(body: str) -> str:
    """``$body*CS`` for a sentence body such as ``GPGGA,…``."""
    return f"${body}*{checksum(body):02X}"


@dataclass
class Fix:
    kind: str  # GGA, RMC, GSA, VTG
    talker: str
    valid: bool
    time: datetime | time | None
    latitude: float | None
    longitude: float | None
    altitude: float | None = None
    quality: int | None = None
    satellites: int | None = None
    hdop: float | None = None
    speed_knots: float | None = None
    course: float | None = None
    fields: list[str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": True, "sentence": self.kind, "talker": self.talker, "fix": self.valid,
            "time": self.time.isoformat() if self.time else None,
            "latitude": self.latitude, "longitude": self.longitude, "altitude": self.altitude,
            "quality": self.quality, "satellites": self.satellites, "hdop": self.hdop,
            "speed_knots": self.speed_knots, "course": self.course,
        }


def _coord(value: str, hemi: str, degrees_digits: int, field_name: str) -> float | None:
    if not value:
        return None
    try:
        deg = int(value[:degrees_digits])
        minutes = float(value[degrees_digits:])
    except ValueError:
        raise NMEAError(_("bad {field} {value!r}").format(field=field_name, value=value)) from None
    if minutes >= 60:
        raise NMEAError(_("bad {field} {value!r}").format(field=field_name, value=value))
    v = deg + minutes / 60
    if hemi in ("S", "W"):
        v = -v
    elif hemi not in ("N", "E"):
        raise NMEAError(_("bad hemisphere {value!r}").format(value=hemi))
    return round(v, 7)


def _float(v: str) -> float | None:
    try:
        return float(v) if v else None
    except ValueError:
        raise NMEAError(_("bad number {value!r}").format(value=v)) from None


def _time(v: str) -> time | None:
    if not v:
        return None
    try:
        hh, mm, ss = int(v[0:2]), int(v[2:4]), float(v[4:])
        return time(hh, mm, int(ss), int(round((ss % 1) * 1e6)) % 1000000, tzinfo=UTC)
    except (ValueError, IndexError):
        raise NMEAError(_("bad time {value!r}").format(value=v)) from None


HEX = frozenset("0123456789ABCDEFabcdef")
PIVOT = 80  # two-digit years: 80–99 are 1980–1999 (GPS began in 1980), 00–79 are 2000–2079


def _year(yy: int) -> int:
    return 1900 + yy if yy >= PIVOT else 2000 + yy


def _date(day: int, month: int, year: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise NMEAError(_("bad date {value!r}").format(value=text)) from None


def parse(line: str | bytes) -> Fix:
    text = line.decode("ascii", errors="replace") if isinstance(line, bytes) else line
    text = text.strip()
    if not text.startswith(("$", "!")):
        raise NMEAError(_("a sentence starts with $"))
    star = text.rfind("*")
    if star < 0:
        raise NMEAError(_("the checksum (*hh) is missing"))
    body, given = text[1:star], text[star + 1:]
    if len(given) != 2 or any(c not in HEX for c in given):  # int(…, 16) would take "0x47", "+47", "4_7"
        raise NMEAError(_("the checksum {value!r} is not two hex digits").format(value=given))
    got = int(given, 16)
    want = checksum(body)
    if got != want:
        raise NMEAError(_("checksum mismatch: expected {want:02X}, got {got}").format(want=want, got=given))
    f = body.split(",")
    tag = f[0]
    if len(tag) < 5:
        raise NMEAError(_("bad sentence type {value!r}").format(value=tag))
    talker, kind = tag[:-3], tag[-3:]
    if kind == "GGA":
        if len(f) < 10:
            raise NMEAError(_("GGA needs at least 10 fields, got {n}").format(n=len(f)))
        quality = int(f[6]) if f[6].isdigit() else 0
        lat = _coord(f[2], f[3], 2, _("latitude"))
        lon = _coord(f[4], f[5], 3, _("longitude"))
        ok = quality > 0 and lat is not None and lon is not None
        return Fix("GGA", talker, ok, _time(f[1]), lat if ok else None, lon if ok else None,
                   altitude=_float(f[9]) if ok else None, quality=quality,
                   satellites=int(f[7]) if f[7].isdigit() else None, hdop=_float(f[8]))
    if kind == "RMC":
        if len(f) < 10:
            raise NMEAError(_("RMC needs at least 10 fields, got {n}").format(n=len(f)))
        ok = f[2] == "A"
        lat = _coord(f[3], f[4], 2, _("latitude"))
        lon = _coord(f[5], f[6], 3, _("longitude"))
        ok = ok and lat is not None and lon is not None
        t = _time(f[1])
        when: datetime | time | None = t
        if t is not None and len(f[9]) == 6 and f[9].isdigit():
            when = datetime.combine(_date(int(f[9][0:2]), int(f[9][2:4]), _year(int(f[9][4:6])), f[9]), t)
        return Fix("RMC", talker, ok, when, lat if ok else None, lon if ok else None,
                   speed_knots=_float(f[7]), course=_float(f[8]))
    if kind == "GLL":  # lat, N/S, lon, E/W, time, status (A valid), mode
        if len(f) < 7:
            raise NMEAError(_("GLL needs at least 7 fields, got {n}").format(n=len(f)))
        lat = _coord(f[1], f[2], 2, _("latitude"))
        lon = _coord(f[3], f[4], 3, _("longitude"))
        ok = f[6] == "A" and (len(f) < 8 or f[7] != "N") and lat is not None and lon is not None
        return Fix("GLL", talker, ok, _time(f[5]), lat if ok else None, lon if ok else None)
    if kind == "ZDA":  # time, day, month, year (four digits), local zone: the date, no position
        if len(f) < 5:
            raise NMEAError(_("ZDA needs at least 5 fields, got {n}").format(n=len(f)))
        t = _time(f[1])
        stamp: datetime | time | None = t
        if t is not None and f[2].isdigit() and f[3].isdigit() and len(f[4]) == 4 and f[4].isdigit():
            stamp = datetime.combine(_date(int(f[2]), int(f[3]), int(f[4]), ",".join(f[2:5])), t)
        return Fix("ZDA", talker, False, stamp, None, None, fields=f[1:])
    if kind in ("GSA", "VTG", "GSV", "TXT"):
        return Fix(kind, talker, False, None, None, None, fields=f[1:])
    raise NMEAError(_("unsupported sentence {value}").format(value=tag))
