"""NMEA 0183 from GNSS receivers: GGA and RMC (GSA and VTG are recognised and passed through),
with the XOR checksum. A fix without a position is reported as no fix — never as 0,0."""

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


def parse(line: str | bytes) -> Fix:
    text = line.decode("ascii", errors="replace") if isinstance(line, bytes) else line
    text = text.strip()
    if not text.startswith(("$", "!")):
        raise NMEAError(_("a sentence starts with $"))
    star = text.rfind("*")
    if star < 0:
        raise NMEAError(_("the checksum (*hh) is missing"))
    body, given = text[1:star], text[star + 1:]
    try:
        got = int(given, 16)
    except ValueError:
        raise NMEAError(_("the checksum {value!r} is not two hex digits").format(value=given)) from None
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
            d = date(2000 + int(f[9][4:6]), int(f[9][2:4]), int(f[9][0:2]))
            when = datetime.combine(d, t)
        return Fix("RMC", talker, ok, when, lat if ok else None, lon if ok else None,
                   speed_knots=_float(f[7]), course=_float(f[8]))
    if kind in ("GSA", "VTG", "GSV", "GLL", "ZDA", "TXT"):
        return Fix(kind, talker, False, None, None, None, fields=f[1:])
    raise NMEAError(_("unsupported sentence {value}").format(value=tag))
