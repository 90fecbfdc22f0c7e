"""Camera-like JPEGs with EXIF (time, offset, GPS, camera) made with Pillow."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

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
