"""What a file is, from its first bytes (the extension only breaks ties)."""

from __future__ import annotations

from pathlib import Path

from kit_app.imaging import RAW_TIFF

PHOTO, VIDEO, AUDIO, DOCUMENT, READING, PHYSICAL = (
    "photo", "video", "audio", "document", "instrument_reading", "physical_sample")
KINDS = (PHOTO, VIDEO, AUDIO, DOCUMENT, READING, PHYSICAL)
# what the kit writes itself: a portable instrument's session, a data logger's conversation
READINGS_SESSION = "application/x-kit-readings+jsonl"
LOGGER_EXCHANGE = "application/x-kit-hj212-exchange+jsonl"

_EXT = {
    ".jpg": ("image/jpeg", PHOTO), ".jpeg": ("image/jpeg", PHOTO), ".png": ("image/png", PHOTO),
    ".heic": ("image/heic", PHOTO), ".heif": ("image/heif", PHOTO), ".tif": ("image/tiff", PHOTO),
    ".tiff": ("image/tiff", PHOTO), ".orf": ("image/x-olympus-orf", PHOTO), ".rw2": ("image/x-panasonic-rw2", PHOTO),
    ".raf": ("image/x-fuji-raf", PHOTO), ".cr3": ("image/x-canon-cr3", PHOTO),
    ".mp4": ("video/mp4", VIDEO), ".mov": ("video/quicktime", VIDEO), ".avi": ("video/x-msvideo", VIDEO),
    ".wav": ("audio/wav", AUDIO), ".mp3": ("audio/mpeg", AUDIO), ".m4a": ("audio/mp4", AUDIO),
    ".pdf": ("application/pdf", DOCUMENT),
    ".doc": ("application/msword", DOCUMENT), ".xls": ("application/vnd.ms-excel", DOCUMENT),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", DOCUMENT),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", DOCUMENT),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", DOCUMENT),
    ".ppt": ("application/vnd.ms-powerpoint", DOCUMENT),
    ".odt": ("application/vnd.oasis.opendocument.text", DOCUMENT),
    ".wps": ("application/vnd.ms-works", DOCUMENT),
}


def sniff(path: Path, head: bytes) -> tuple[str, str] | None:
    """(media type, evidence kind), or None for a file type the kit does not take as evidence."""
    ext = path.suffix.lower()
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", PHOTO
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", PHOTO
    if head[:4] in (b"II*\x00", b"MM\x00*"):  # TIFF, and the camera raw files built on it
        return RAW_TIFF.get(ext, "image/tiff"), PHOTO
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return "image/x-olympus-orf", PHOTO
    if head[:4] == b"IIU\x00":
        return "image/x-panasonic-rw2", PHOTO
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "image/x-fuji-raf", PHOTO
    if head.startswith(b"%PDF"):
        return "application/pdf", DOCUMENT
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo", VIDEO
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav", AUDIO
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"):
            return ("image/heic" if brand != b"mif1" else "image/heif"), PHOTO
        if brand == b"crx ":
            return "image/x-canon-cr3", PHOTO
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4", AUDIO
        if brand == b"qt  ":
            return "video/quicktime", VIDEO
        return "video/mp4", VIDEO
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                                   and ext == ".mp3"):
        return "audio/mpeg", AUDIO
    if head.startswith(b"PK\x03\x04") and ext in _EXT and _EXT[ext][1] == DOCUMENT:
        return _EXT[ext]
    if head.startswith(b"\xd0\xcf\x11\xe0") and ext in (".doc", ".xls", ".ppt", ".wps"):
        return _EXT[ext]
    return None
