"""Camera-like photos with EXIF (time, offset, GPS, camera): JPEGs made with Pillow, HEIC made with
pillow-heif, TIFF, and raw files (DNG, RAF, CR3) laid out byte by byte here."""

from __future__ import annotations

import io
import struct
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60 * 1000)
    return IFDRational(d, 1), IFDRational(m, 1), IFDRational(s, 1000)


def make_jpeg(
    path: Path,
    *,
    size: tuple[int, int] = (640, 480),
    taken: datetime | None = None,
    offset: str | None = "+08:00",
    lat: float | None = None,
    lon: float | None = None,
    gps_time: datetime | None = None,
    make: str = "Canon",
    model: str = "EOS 90D",
    serial: str | None = "0123456789",
    orientation: int | None = None,
    seed: int = 0,
    quality: int = 85,
    digitized: datetime | None = None,
    modified: datetime | None = None,
    software: str | None = None,
) -> Path:
    img = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, 120))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = model
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    ex = exif.get_ifd(ExifTags.IFD.Exif)
    if taken is not None:
        ex[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
        if offset:
            ex[ExifTags.Base.OffsetTimeOriginal] = offset
    if digitized is not None:
        ex[ExifTags.Base.DateTimeDigitized] = digitized.strftime("%Y:%m:%d %H:%M:%S")
    if modified is not None:
        exif[ExifTags.Base.DateTime] = modified.strftime("%Y:%m:%d %H:%M:%S")
    if software:
        exif[ExifTags.Base.Software] = software
    if serial:
        ex[ExifTags.Base.BodySerialNumber] = serial
    if lat is not None and lon is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        gps[ExifTags.GPS.GPSLatitude] = _dms(abs(lat))
        gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        gps[ExifTags.GPS.GPSLongitude] = _dms(abs(lon))
        gps[ExifTags.GPS.GPSAltitude] = IFDRational(805, 10)
        if gps_time is not None:
            gps[ExifTags.GPS.GPSDateStamp] = gps_time.strftime("%Y:%m:%d")
            gps[ExifTags.GPS.GPSTimeStamp] = (IFDRational(gps_time.hour, 1), IFDRational(gps_time.minute, 1),
                                              IFDRational(gps_time.second, 1))
    img.save(path, "JPEG", exif=exif, quality=quality)
    return path


def make_heic(path: Path, *, taken: datetime | None = None, offset: str | None = "+08:00",
              size: tuple[int, int] = (320, 240), make: str = "Apple", model: str = "iPhone 15") -> Path:
    """A HEIC as phones write it (HEVC picture, EXIF block), encoded by pillow-heif."""
    import pillow_heif

    tmp = path.with_suffix(".src.jpg")
    make_jpeg(tmp, taken=taken, offset=offset, size=size, make=make, model=model, serial=None)
    with Image.open(tmp) as im:
        exif = im.getexif().tobytes()
        pillow_heif.from_pillow(im.convert("RGB")).save(path, quality=60, exif=exif)
    tmp.unlink()
    return path


# TIFF field types used below
_ASCII, _SHORT, _LONG, _BYTE = 2, 3, 4, 1


def _tiff(ifds: list[list[tuple[int, int, Any]]], blobs: dict[str, bytes]) -> bytes:
    """A little-endian TIFF: the IFDs in turn (IFD0 first, none chained), then the data blobs. A value
    ``("ifd", k)`` is the offset of IFD k, ``("blob", name)`` that of a blob, ``("len", name)`` its length."""
    def ifd_size(entries: list[tuple[int, int, Any]]) -> int:
        extra = 0
        for _tag, typ, value in entries:
            n = len(_values(typ, [0] * len(value) if typ != _BYTE and isinstance(value, list)
                            else 0 if isinstance(value, tuple) else value))
            if n > 4:
                extra += n + (n & 1)
        return 2 + 12 * len(entries) + 4 + extra

    offsets, pos = [], 8
    for entries in ifds:
        offsets.append(pos)
        pos += ifd_size(entries)
    blob_at: dict[str, int] = {}
    for name, data in blobs.items():
        blob_at[name] = pos
        pos += len(data) + (len(data) & 1)

    def resolve(value: Any) -> Any:
        if isinstance(value, tuple) and value[0] == "ifd":
            return offsets[value[1]]
        if isinstance(value, tuple) and value[0] == "blob":
            return blob_at[value[1]]
        if isinstance(value, tuple) and value[0] == "len":
            return len(blobs[value[1]])
        return value

    out = bytearray(b"II*\x00" + struct.pack("<I", offsets[0]))
    for k, entries in enumerate(ifds):
        entries = sorted(entries)
        extra_at = offsets[k] + 2 + 12 * len(entries) + 4
        head, extra = bytearray(struct.pack("<H", len(entries))), bytearray()
        for tag, typ, value in entries:
            raw = _values(typ, [resolve(v) for v in value] if isinstance(value, list) else resolve(value))
            if len(raw) > 4:
                head += struct.pack("<HHII", tag, typ, _count(typ, raw), extra_at + len(extra))
                extra += raw + (b"\x00" if len(raw) & 1 else b"")
            else:
                head += struct.pack("<HHI", tag, typ, _count(typ, raw)) + raw.ljust(4, b"\x00")
        out += head + struct.pack("<I", 0) + extra
    for data in blobs.values():
        out += data + (b"\x00" if len(data) & 1 else b"")
    return bytes(out)


def _values(typ: int, value: Any) -> bytes:
    if typ == _ASCII:
        return str(value).encode() + b"\x00"
    if typ == _BYTE:
        return bytes(value)
    items = value if isinstance(value, list) else [value]
    return struct.pack("<" + ("H" if typ == _SHORT else "I") * len(items), *items)


def _count(typ: int, raw: bytes) -> int:
    return len(raw) // {_ASCII: 1, _BYTE: 1, _SHORT: 2, _LONG: 4}[typ]


def make_dng(path: Path, *, taken: datetime, make: str = "Canon", model: str = "EOS R5",
             preview: bool = True) -> Path:
    """A DNG laid out as cameras and converters write one: IFD0 (camera, DNGVersion), its EXIF IFD
    (DateTimeOriginal), a SubIFD holding a baseline JPEG preview and another holding the raw data as
    lossless JPEG (larger: the kit must not take it for a preview)."""
    buf = io.BytesIO()
    Image.new("RGB", (480, 320), (40, 140, 90)).save(buf, "JPEG", quality=80)
    jpeg = buf.getvalue()
    lossless = b"\xff\xd8\xff\xc3\x00\x0b\x08\x01\x00\x01\x00\x01\x01\x11\x00" + bytes(len(jpeg) * 3)
    blobs = {"raw": lossless} | ({"preview": jpeg} if preview else {})
    preview_ifd = [(0x00FE, _LONG, 1), (0x0103, _SHORT, 7), (0x0106, _SHORT, 6),
                   (0x0111, _LONG, ("blob", "preview")), (0x0117, _LONG, ("len", "preview"))]
    ifd0 = [(0x00FE, _LONG, 1), (0x010F, _ASCII, make), (0x0110, _ASCII, model), (0xC612, _BYTE, [1, 4, 0, 0]),
            (0x8769, _LONG, ("ifd", 1)), (0x014A, _LONG, [("ifd", 2), ("ifd", 3)] if preview else [("ifd", 2)])]
    exif = [(0x9003, _ASCII, taken.strftime("%Y:%m:%d %H:%M:%S")), (0x9011, _ASCII, "+08:00")]
    raw = [(0x00FE, _LONG, 0), (0x0103, _SHORT, 7), (0x0111, _LONG, ("blob", "raw")),
           (0x0117, _LONG, ("len", "raw"))]
    path.write_bytes(_tiff([ifd0, exif, raw] + ([preview_ifd] if preview else []), blobs))
    return path


def make_raf(path: Path, *, taken: datetime) -> Path:
    """A Fujifilm RAF: its header names where the embedded JPEG (with the EXIF) lies."""
    jpeg = make_jpeg(path.with_suffix(".src.jpg"), taken=taken, make="FUJIFILM", model="X-T5", serial=None)
    data = jpeg.read_bytes()
    jpeg.unlink()
    head = b"FUJIFILMCCD-RAW 0201FF393101X-T5".ljust(84, b"\x00") + struct.pack(">II", 160, len(data))
    path.write_bytes(head.ljust(160, b"\x00") + data + bytes(4096))  # then the sensor data, here zeros
    return path


def make_cr3(path: Path) -> Path:
    """A Canon CR3 (ISO base media): kept as evidence; the kit shows no preview of it."""
    path.write_bytes(b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom" + bytes(2048))
    return path
