"""Capturing from a live camera: the latest full-resolution frame as a JPEG still (with EXIF:
time with offset, GPS, camera identity) and video clips written as the frames arrive.

``CameraTap.feed`` runs on the camera's session thread; the other methods may be called from any
thread. Files are written into a directory the caller names (the evidence store's temp dir),
then handed to the evidence service, which stores, hashes and logs them.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from devices.items import Frame
from kit_app.errors import KitError
from kit_app.i18n import _
from kit_app.ids import new_id
from kit_app.storage import RESERVE, free_bytes, require_space


class CaptureError(KitError):
    """No frame to capture, or the clip cannot be written; the message says which."""


@dataclass
class Clip:
    path: Path
    frames: int
    seconds: float
    width: int
    height: int
    fps: float
    started_at: datetime
    cut_short: bool = False  # recording stopped because the disk was nearly full


# A clip is written, then copied into the evidence store: it needs its room twice. Refuse to start
# without this much; stop writing frames (and keep what was recorded) when less is left.
CLIP_HEADROOM = 200 * 1024 * 1024


def _rational(v: float, den: int = 10000) -> tuple[int, int]:
    return int(round(v * den)), den


def _dms(value: float) -> tuple[tuple[int, int], ...]:
    v = abs(value)
    d = int(v)
    m = int((v - d) * 60)
    s = (v - d - m / 60) * 3600
    return (d, 1), (m, 1), _rational(s, 1000)


def jpeg_with_exif(frame: np.ndarray, when: datetime, *, make: str, model: str, serial: str | None,
                   gps: dict[str, Any] | None, quality: int = 95) -> bytes:
    """Encode a BGR frame as a JPEG whose EXIF says when (local time and offset), where and with what."""
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    img = Image.fromarray(np.ascontiguousarray(frame[:, :, ::-1]))
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0131] = "Enforcement Evidence Kit"
    stamp = when.strftime("%Y:%m:%d %H:%M:%S")
    exif[0x0132] = stamp
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = stamp  # DateTimeOriginal
    ifd[0x9004] = stamp
    off = when.utcoffset()
    if off is not None:
        minutes = int(off.total_seconds() // 60)
        ifd[0x9011] = f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    ifd[0x9291] = f"{when.microsecond // 1000:03d}"  # SubSecTimeOriginal
    if serial:
        ifd[0xA431] = serial  # BodySerialNumber
    if gps and gps.get("fix") and gps.get("latitude") is not None:
        g = exif.get_ifd(0x8825)
        g[0] = b"\x02\x03\x00\x00"
        g[1] = "N" if gps["latitude"] >= 0 else "S"
        g[2] = tuple(IFDRational(*r) for r in _dms(gps["latitude"]))
        g[3] = "E" if gps["longitude"] >= 0 else "W"
        g[4] = tuple(IFDRational(*r) for r in _dms(gps["longitude"]))
        if gps.get("altitude") is not None:
            g[5] = 0 if gps["altitude"] >= 0 else 1
            g[6] = IFDRational(*_rational(abs(gps["altitude"]), 100))
        g[0x12] = "WGS-84"
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    return buf.getvalue()


class CameraTap:
    """Sits on a camera session's frames: keeps the newest one and writes clips."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: np.ndarray | None = None
        self._frame_at = 0.0
        self._writer: Any = None
        self._clip: Clip | None = None
        self._fps = 25.0
        self._times: list[float] = []

    @property
    def fps(self) -> float:
        """Frames a second the camera delivers (measured over the last frames)."""
        with self._lock:
            t = self._times
            return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 0.0

    def feed(self, item: Frame) -> None:
        frame = item.image
        now = time.monotonic()
        with self._lock:
            self._frame, self._frame_at = frame, now
            self._times.append(now)
            if len(self._times) > 30:
                del self._times[0]
            if self._writer is not None and self._clip is not None and not self._clip.cut_short:
                h, w = frame.shape[:2]
                if (w, h) == (self._clip.width, self._clip.height):
                    if self._clip.frames % 25 == 0 and self._room_left(self._clip) is False:
                        self._clip.cut_short = True  # the recording so far is kept, nothing more written
                        return
                    self._writer.write(frame)
                    self._clip.frames += 1

    @staticmethod
    def _room_left(clip: Clip) -> bool:
        """Whether the disk can still take more of the clip and its copy into the store."""
        try:
            written = clip.path.stat().st_size
        except OSError:
            written = 0
        return free_bytes(clip.path.parent) > RESERVE + written + 8 * 1024 * 1024

    def latest(self, max_age: float = 2.0) -> np.ndarray | None:
        with self._lock:
            if self._frame is None or time.monotonic() - self._frame_at > max_age:
                return None
            return self._frame

    def still(self, directory: Path, when: datetime, *, make: str, model: str, serial: str | None,
              gps: dict[str, Any] | None) -> Path:
        """Write the newest frame as a JPEG (with EXIF) into ``directory``; return its path."""
        frame = self.latest()
        if frame is None:
            raise CaptureError(_("the camera has no current picture (is it connected?)"))
        data = jpeg_with_exif(frame, when, make=make, model=model, serial=serial, gps=gps)
        directory.mkdir(parents=True, exist_ok=True)
        require_space(directory, 2 * len(data))  # the still, and its copy into the store
        path = directory / f"capture-{new_id()}.jpg"
        path.write_bytes(data)
        return path

    # ------------------------------------------------------------ clips
    @property
    def recording(self) -> bool:
        return self._clip is not None

    def start_clip(self, directory: Path, when: datetime) -> Path:
        import cv2

        frame = self.latest()
        if frame is None:
            raise CaptureError(_("the camera has no current picture (is it connected?)"))
        h, w = frame.shape[:2]
        fps = float(min(max(round(self.fps or 25.0), 1), 60))  # MPEG-4 wants a sane time base
        directory.mkdir(parents=True, exist_ok=True)
        require_space(directory, CLIP_HEADROOM)  # refused before it starts
        with self._lock:
            if self._clip is not None:
                raise CaptureError(_("a clip is already being recorded"))
            for fourcc, ext in (("mp4v", ".mp4"), ("MJPG", ".avi")):
                path = directory / f"clip-{new_id()}{ext}"
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (w, h))
                if writer.isOpened():
                    break
                writer.release()
                path.unlink(missing_ok=True)
            else:
                raise CaptureError(_("no video encoder is available to record a clip"))
            self._writer = writer
            self._clip = Clip(path, 0, 0.0, w, h, fps, when)
            self._clip_t0 = time.monotonic()
        return path

    def stop_clip(self) -> Clip:
        with self._lock:
            writer, clip = self._writer, self._clip
            self._writer = self._clip = None
        if clip is None:
            raise CaptureError(_("no clip is being recorded"))
        writer.release()
        clip.seconds = round(time.monotonic() - self._clip_t0, 2)
        if clip.frames == 0:
            clip.path.unlink(missing_ok=True)
            raise CaptureError(_("the clip has no frames (the camera sent none while recording)"))
        return clip
