"""Opening a photo of any kind the kit keeps as an image to look at: JPEG and PNG, HEIC/HEIF (the
phones', through pi-heif or pillow-heif), TIFF, and camera raw files (DNG, CR2, NEF, ARW, PEF, ORF, RW2, RAF),
whose picture is the JPEG preview the camera embedded. The original is never changed; what is
opened here only makes previews and printed copies."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

from kit_app.errors import KitError
from kit_app.i18n import _

# camera raw files built on TIFF, by extension (the first bytes say TIFF; the extension names the maker)
RAW_TIFF = {".dng": "image/x-adobe-dng", ".cr2": "image/x-canon-cr2", ".nef": "image/x-nikon-nef",
            ".nrw": "image/x-nikon-nrw", ".arw": "image/x-sony-arw", ".srf": "image/x-sony-srf",
            ".sr2": "image/x-sony-sr2", ".pef": "image/x-pentax-pef", ".srw": "image/x-samsung-srw",
            ".erf": "image/x-epson-erf", ".3fr": "image/x-hasselblad-3fr", ".iiq": "image/x-phaseone-iiq",
            ".rwl": "image/x-leica-rwl", ".dcr": "image/x-kodak-dcr", ".kdc": "image/x-kodak-kdc"}
HEIF_TYPES = ("image/heic", "image/heif")
RAW_TYPES = frozenset(RAW_TIFF.values()) | {"image/x-olympus-orf", "image/x-panasonic-rw2", "image/x-fuji-raf",
                                           "image/x-canon-cr3"}



class NoPreview(KitError, OSError):
    """The file is kept, but the kit has no way to show its picture (the message says why)."""


_heif: Any = None  # the HEIF module registered with Pillow, False when there is none, None: not tried yet


def _heif_module() -> Any:
    """pi-heif (decoding only: what the kit ships), else pillow-heif; registered with Pillow once."""
    global _heif
    if _heif is None:
        _heif = False
        for name in ("pi_heif", "pillow_heif"):
            try:
                module = __import__(name)
            except ImportError:
                continue
            module.register_heif_opener()
            _heif = module
            break
    return _heif


def heif_available() -> bool:
    """Whether HEIC/HEIF photos can be decoded (their opener is registered with Pillow)."""
    return bool(_heif_module())


def heif_exif(path: Path) -> bytes | None:
    """The EXIF block of a HEIC/HEIF file (``Exif\\0\\0`` and the TIFF structure), without decoding
    the picture; None when there is none or no HEIF decoder is installed."""
    module = _heif_module()
    if not module:
        return None
    try:
        source = str(path) if isinstance(path, (str, Path)) else io.BytesIO(path.read_bytes())  # an encrypted original
        exif = module.open_heif(source, convert_hdr_to_8bit=True).info.get("exif")
    except (OSError, ValueError, RuntimeError):
        return None
    if not exif:
        return None
    return bytes(exif) if exif.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + bytes(exif)


def open_image(path: Path, media_type: str | None = None) -> Any:
    """A PIL image of the photo at ``path`` (lazy: decoded on load). Raw files give their embedded
    preview. Raises NoPreview when the kit cannot show this kind of file, OSError (or ValueError) when
the file is damaged."""
    from PIL import Image

    if media_type in HEIF_TYPES and not heif_available():
        raise NoPreview(_("HEIC/HEIF photos cannot be shown on this kit (its HEIF decoder is not installed)"))
    if media_type is None or media_type in RAW_TYPES or media_type == "image/tiff":
        preview = raw_preview(path)  # None at once for a file that is not TIFF-structured or RAF
        if preview is not None:
            return Image.open(io.BytesIO(preview))
        if media_type in RAW_TYPES:
            raise NoPreview(_("the raw file holds no preview the kit can show"))
    heif_available()
    if not isinstance(path, (str, Path)):  # an original of an encrypted data dir: decrypted in memory
        return Image.open(io.BytesIO(path.read_bytes()))
    return Image.open(path)


def can_show(path: Path, media_type: str | None) -> bool:
    """Whether the kit can show (and print) the picture of this photo: a raw file only by an embedded
    preview, a HEIC/HEIF only with its decoder."""
    if media_type in RAW_TYPES:
        return raw_preview(path) is not None
    if media_type in HEIF_TYPES:
        return heif_available()
    return True


# ------------------------------------------------------------------ embedded previews of raw files

_MAX_IFDS = 64


def raw_preview(path: Path, limit: int = 64 << 20) -> bytes | None:
    """The largest baseline JPEG preview embedded in a raw file (TIFF-based, ORF, RW2, RAF), or None.
    Only offsets inside the file are followed; a damaged file gives None, never an error."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
            if head.startswith(b"FUJIFILMCCD-RAW"):
                fh.seek(84)
                off, size = struct.unpack(">II", fh.read(8))
                return _jpeg_at(fh, off, size, limit)
            candidates = _tiff_jpegs(fh, head)
            for off, size in sorted(candidates, key=lambda c: -c[1]):
                got = _jpeg_at(fh, off, size, limit)
                if got is not None and _baseline(got):
                    return got
    except (OSError, struct.error, ValueError):
        return None
    return None


def _jpeg_at(fh: Any, off: int, size: int, limit: int) -> bytes | None:
    end = fh.seek(0, 2)
    if off <= 0 or size <= 4 or size > limit or off + size > end:
        return None
    fh.seek(off)
    data: bytes = fh.read(size)
    return data if data.startswith(b"\xff\xd8") else None


def _baseline(jpeg: bytes) -> bool:
    """The JPEG's frame is one Pillow decodes (baseline, extended or progressive Huffman) — not the
    lossless JPEG that holds raw sensor data."""
    i = 2
    while i + 4 <= len(jpeg) and jpeg[i] == 0xFF:
        marker = jpeg[i + 1]
        if marker in (0xC0, 0xC1, 0xC2):
            return True
        if marker in (0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xDA, 0xD9):
            return False
        i += 2 + int.from_bytes(jpeg[i + 2:i + 4], "big")
    return False


_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


def _tiff_jpegs(fh: Any, head: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each JPEG stream the IFDs of a TIFF-structured file point to."""
    if head[:2] == b"II":
        order = "<"
    elif head[:2] == b"MM":
        order = ">"
    else:
        return []
    magic = struct.unpack(order + "H", head[2:4])[0]
    if magic not in (42, 0x4F52, 0x5352, 0x55):  # TIFF, Olympus ORF (IIRO, IIRS), Panasonic RW2
        return []
    end = fh.seek(0, 2)
    todo = [struct.unpack(order + "I", head[4:8])[0]]
    seen: set[int] = set()
    found: list[tuple[int, int]] = []
    while todo and len(seen) < _MAX_IFDS:
        off = todo.pop(0)
        if off in seen or not 8 <= off < end - 2:
            continue
        seen.add(off)
        fh.seek(off)
        (count,) = struct.unpack(order + "H", fh.read(2))
        if count == 0 or off + 2 + count * 12 + 4 > end:
            continue
        raw = fh.read(count * 12 + 4)
        tags: dict[int, list[int]] = {}
        for k in range(count):
            tag, typ, n = struct.unpack(order + "HHI", raw[k * 12:k * 12 + 8])
            size = _TYPE_SIZES.get(typ, 0)
            if typ not in (3, 4, 13) or n == 0 or n > 4096:
                continue
            field = raw[k * 12 + 8:k * 12 + 12]
            if size * n > 4:
                (where,) = struct.unpack(order + "I", field)
                if where + size * n > end:
                    continue
                fh.seek(where)
                field = fh.read(size * n)
            fmt = order + ("H" if typ == 3 else "I") * n
            tags[tag] = list(struct.unpack(fmt, field[:size * n]))
        nxt = struct.unpack(order + "I", raw[count * 12:count * 12 + 4])[0]
        if 0x0201 in tags and 0x0202 in tags:  # JPEGInterchangeFormat and its length
            found.append((tags[0x0201][0], tags[0x0202][0]))
        if tags.get(0x0103, [0])[0] in (6, 7) and len(tags.get(0x0111, [])) == 1 and 0x0117 in tags:
            found.append((tags[0x0111][0], tags[0x0117][0]))  # one JPEG-compressed strip
        todo.extend(tags.get(0x014A, []))  # SubIFDs (DNG keeps its previews there)
        if nxt:
            todo.append(nxt)
    return found
