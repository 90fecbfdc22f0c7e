"""EXIF of photos through exifread: capture time with its offset, GPS as signed decimal degrees,
camera make, model, body serial, orientation. Broken or hostile EXIF never stops an ingest: it
becomes a warning."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from kit_app.i18n import _
from kit_app.imaging import HEIF_TYPES, RAW_TYPES, heif_exif, raw_preview
from kit_app.timeutil import LOCAL_TZ

logging.getLogger("exifread").setLevel(logging.CRITICAL)  # it logs every oddity it meets

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
# where a capture time may come from, best first, with the offset tag that goes with it
TIME_SOURCES = (("original", "EXIF DateTimeOriginal", "EXIF OffsetTimeOriginal"),
                ("digitized", "EXIF DateTimeDigitized", "EXIF OffsetTimeDigitized"),
                ("modified", "Image DateTime", "EXIF OffsetTime"))
# Software values that name a photo editor rather than a camera's firmware
EDITORS = re.compile(r"photoshop|lightroom|gimp|snapseed|picsart|meitu|美图|醒图|vsco|affinity|capture one|"
                     r"pixelmator|paint\.net|acdsee|luminar|camera raw|photo editor|photoscape|darktable|"
                     r"rawtherapee|faststone|irfanview|wps|polarr|泼辣|photos \d|画图", re.IGNORECASE)


@dataclass
class PhotoMeta:
    has_exif: bool = False
    captured_at: datetime | None = None  # UTC
    offset_min: int | None = None
    offset_assumed: bool = False
    # where the capture time came from: "original" (DateTimeOriginal), "digitized" (DateTimeDigitized),
    # "modified" (IFD0 DateTime: the file's last change — an editor's save, for an edited photo), "gps"
    # (the GPS date and time stamp, when the camera wrote no time of its own); None: no time (the
    # ingest then takes the file's modification time: "file")
    time_source: str | None = None
    offset_source: str | None = None  # "tag" (OffsetTime…), "gps" (inferred from GPS time), "assumed" (+08:00)
    software: str | None = None  # Image Software
    editor: str | None = None  # the photo editor Software names, if it is one
    gps_time: datetime | None = None  # UTC, from the satellites
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    make: str | None = None
    model: str | None = None
    serial: str | None = None
    orientation: int | None = None
    width: int | None = None
    height: int | None = None
    raw: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "exif": self.has_exif,
            "captured_at": self.captured_at.isoformat() if self.captured_at else None,
            "offset_min": self.offset_min,
            "offset_assumed": self.offset_assumed,
            "time_source": self.time_source,
            "offset_source": self.offset_source,
            "software": self.software,
            "editor": self.editor,
            "gps_time": self.gps_time.isoformat() if self.gps_time else None,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "altitude": self.altitude,
            "make": self.make,
            "model": self.model,
            "serial": self.serial,
            "orientation": self.orientation,
            "width": self.width,
            "height": self.height,
            "tags": self.raw,
            "error": self.error,
        }


def _ratio(v: Any) -> float:
    num, den = getattr(v, "num", v), getattr(v, "den", 1)
    return float(num) / float(den) if den else float("nan")


def _dms(values: Any) -> float:
    d, m, s = (_ratio(x) for x in list(values)[:3])
    return d + m / 60 + s / 3600


def _text(tag: Any) -> str | None:
    if tag is None:
        return None
    s = str(tag.printable if hasattr(tag, "printable") else tag).strip().strip("\x00").strip()
    return s or None


def parse_offset(text: str | None) -> int | None:
    m = _OFFSET.match(text or "")
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    return -minutes if m.group(1) == "-" else minutes


def read_photo(path: Path, media_type: str | None = None) -> PhotoMeta:
    meta = PhotoMeta()
    try:
        tags = _tags(path, media_type)
    except Exception as exc:  # exifread raises many kinds on hostile input
        meta.error = f"{type(exc).__name__}: {exc}"[:200]
        return meta
    if not tags:
        return meta
    meta.has_exif = True
    damaged = [what for pointer, prefix, what in _SUB_IFDS
               if pointer in tags and not any(k.startswith(prefix) for k in tags)]
    if damaged:  # a pointer to a sub-IFD that holds nothing readable: points outside the file, or garbage
        meta.error = _("{parts} point to nothing readable").format(parts=", ".join(damaged))
    try:
        _fill(meta, tags)
    except Exception as exc:  # a tag with an impossible value
        meta.error = f"{type(exc).__name__}: {exc}"[:200]
    for key in ("Image Make", "Image Model", "EXIF DateTimeOriginal", "EXIF OffsetTimeOriginal",
                "EXIF BodySerialNumber", "Image Orientation", "GPS GPSLatitude", "GPS GPSLongitude",
                "GPS GPSAltitude", "GPS GPSDate", "GPS GPSTimeStamp", "EXIF ExifImageWidth",
                "EXIF ExifImageLength", "Image Software"):
        if key in tags:
            meta.raw[key] = (_text(tags[key]) or "")[:200]
    for key in ("EXIF DateTimeDigitized", "Image DateTime", "EXIF OffsetTimeDigitized", "EXIF OffsetTime"):
        if key in tags:
            meta.raw[key] = (_text(tags[key]) or "")[:200]
    return meta


def _tags(path: Path, media_type: str | None) -> dict[str, Any]:
    """exifread's tags of the file. A HEIC/HEIF's EXIF block is taken out by pillow-heif (exifread
    fails on many phones' files) and a raw file without readable tags gives its preview's."""
    import exifread

    if media_type in HEIF_TYPES and (block := heif_exif(path)) is not None:
        return dict(exifread.process_file(io.BytesIO(block[6:]), details=False))  # the TIFF structure
    with path.open("rb") as fh:
        tags = exifread.process_file(fh, details=False)
        if not tags and (segment := _exif_segment(fh)) is not None:
            # exifread gives up on a JPEG whose EXIF comes after more than one other APP1 segment
            # (Adobe's XMP and extended XMP): the EXIF segment alone is read instead
            tags = exifread.process_file(io.BytesIO(b"\xff\xd8" + segment + b"\xff\xd9"), details=False)
    if not tags and media_type in RAW_TYPES and (preview := raw_preview(path)) is not None:
        tags = exifread.process_file(io.BytesIO(preview), details=False)
    return dict(tags)


_SUB_IFDS = (("Image GPSInfo", "GPS ", "GPS IFD"), ("Image ExifOffset", "EXIF ", "EXIF IFD"))


def _exif_segment(fh: Any, limit: int = 4 << 20) -> bytes | None:
    """The JPEG's APP1 segment that holds EXIF (marker, length and payload), looked for among the
    segments before the image data; None when there is none."""
    fh.seek(0)
    if fh.read(2) != b"\xff\xd8":
        return None
    while fh.tell() < limit:
        head = fh.read(4)
        if len(head) < 4 or head[0] != 0xFF or head[1] in (0xDA, 0xD9):  # image data or the end: no EXIF
            return None
        size = int.from_bytes(head[2:4], "big")
        if size < 2:
            return None
        payload = fh.read(size - 2)
        if head[1] == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            return bytes(head + payload)
    return None


def _fill(meta: PhotoMeta, tags: dict[str, Any]) -> None:
    meta.make = _text(tags.get("Image Make"))
    meta.model = _text(tags.get("Image Model"))
    meta.serial = _text(tags.get("EXIF BodySerialNumber")) or _text(tags.get("MakerNote SerialNumber"))
    o = tags.get("Image Orientation")
    if o is not None and getattr(o, "values", None):
        try:
            meta.orientation = int(o.values[0])
        except (TypeError, ValueError):
            meta.orientation = None  # an impossible value: the tag is left out
    for key, attr in (("EXIF ExifImageWidth", "width"), ("EXIF ExifImageLength", "height")):
        t = tags.get(key)
        if t is not None and getattr(t, "values", None):
            try:
                setattr(meta, attr, int(t.values[0]))
            except (TypeError, ValueError):
                setattr(meta, attr, None)  # an impossible value: the tag is left out
    meta.software = _text(tags.get("Image Software"))
    if meta.software and EDITORS.search(meta.software):
        meta.editor = meta.software[:80]
    _gps_time(meta, tags)  # first: it may tell the offset the camera's clock was set to
    for source, key, offset_key in TIME_SOURCES:
        text = _text(tags.get(key))
        if not text:
            continue
        try:
            local = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            continue  # an unreadable time: the next source, if any
        off = parse_offset(_text(tags.get(offset_key)) or _text(tags.get("EXIF OffsetTime")))
        meta.offset_source = "tag"
        if off is None and meta.gps_time is not None:
            off = _offset_from_gps(local, meta.gps_time)
            meta.offset_source = "gps" if off is not None else None
        if off is None:  # cameras without an offset tag or GPS: their clock is assumed set to Beijing time
            off = int(local.replace(tzinfo=LOCAL_TZ).utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
            meta.offset_assumed, meta.offset_source = True, "assumed"
        meta.offset_min = off
        meta.captured_at = (local - timedelta(minutes=off)).replace(tzinfo=UTC)
        meta.time_source = source
        break
    if meta.captured_at is None and meta.gps_time is not None:  # the satellites' time, if nothing else
        meta.captured_at, meta.time_source = meta.gps_time, "gps"
    lat, lat_ref = tags.get("GPS GPSLatitude"), _text(tags.get("GPS GPSLatitudeRef"))
    lon, lon_ref = tags.get("GPS GPSLongitude"), _text(tags.get("GPS GPSLongitudeRef"))
    if lat is not None and lon is not None:
        la, lo = _dms(lat.values), _dms(lon.values)
        if lat_ref and lat_ref.upper().startswith("S"):
            la = -la
        if lon_ref and lon_ref.upper().startswith("W"):
            lo = -lo
        if -90 <= la <= 90 and -180 <= lo <= 180 and (la, lo) != (0.0, 0.0):
            meta.latitude, meta.longitude = round(la, 7), round(lo, 7)
    alt = tags.get("GPS GPSAltitude")
    if alt is not None and getattr(alt, "values", None):
        a = _ratio(alt.values[0])
        ref = tags.get("GPS GPSAltitudeRef")
        if ref is not None and getattr(ref, "values", None) and ref.values[0] == 1:
            a = -a
        if a == a:  # not NaN
            meta.altitude = round(a, 2)


def _gps_time(meta: PhotoMeta, tags: dict[str, Any]) -> None:
    gd, gt = _text(tags.get("GPS GPSDate")), tags.get("GPS GPSTimeStamp")
    if gd and gt is not None and getattr(gt, "values", None):
        try:
            d = datetime.strptime(gd[:10], "%Y:%m:%d").date()
            h, m, s = (_ratio(x) for x in list(gt.values)[:3])
            meta.gps_time = datetime.combine(d, datetime.min.time(), tzinfo=UTC) + timedelta(
                hours=h, minutes=m, seconds=s)
        except (ValueError, OverflowError):
            meta.gps_time = None  # an impossible GPS date or time: no satellite time to compare


def _offset_from_gps(local: datetime, gps: datetime) -> int | None:
    """The zone the camera's clock was set to, from the satellites' UTC in the same file: the difference
    to the nearest quarter hour (zones are whole quarter hours), if it is one a zone can be."""
    minutes = (local - gps.replace(tzinfo=None)).total_seconds() / 60
    quarter = int(round(minutes / 15)) * 15
    return quarter if -12 * 60 <= quarter <= 14 * 60 else None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    from math import asin, cos, radians, sin, sqrt

    p1, p2 = radians(lat1), radians(lat2)
    dp, dl = p2 - p1, radians(lon2 - lon1)
    a = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * 6371008.8 * asin(sqrt(min(1.0, a)))


__all__ = ["PhotoMeta", "date", "distance_m", "read_photo"]
