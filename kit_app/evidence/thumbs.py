"""Derived previews: thumbnails of photos (Pillow, JPEG draft mode, EXIF orientation applied).
They live apart from the originals and can always be made again."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from kit_app.i18n import _
from kit_app.ids import new_id
from kit_app.imaging import NoPreview, open_image

SIZE = 256
# a 24-megapixel camera makes 6000×4000; refuse what could only be a decompression bomb
MAX_PIXELS = 250_000_000


def make_thumbnail(src: Path, dest: Path, media_type: str | None = None) -> str | None:
    """Write ``dest``; return None, or a warning saying why no thumbnail could be made. HEIC/HEIF and
    raw files (their embedded preview) are shown too."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    tmp = dest.with_name(f".{new_id()}.part")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with open_image(src, media_type) as opened:
                opened.draft("RGB", (SIZE, SIZE))  # JPEG: decode at the smallest scale ≥ the thumbnail
                im = ImageOps.exif_transpose(opened)
                im.thumbnail((SIZE, SIZE))
                dest.parent.mkdir(parents=True, exist_ok=True)
                im.convert("RGB").save(tmp, "JPEG", quality=82)
        os.replace(tmp, dest)
        return None
    except NoPreview as exc:
        tmp.unlink(missing_ok=True)
        return _("no preview: {why}; the original is kept").format(why=exc)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            EOFError) as exc:
        tmp.unlink(missing_ok=True)
        return _("the image cannot be decoded (damaged or truncated?): no preview ({error})").format(
            error=str(exc)[:120])


def make_video_thumbnail(src: Path, dest: Path) -> str | None:
    """A frame grab (about one second in) through OpenCV; None, or why there is no preview."""
    import cv2

    cap = cv2.VideoCapture(str(src))
    try:
        if not cap.isOpened():
            return _("the video cannot be decoded: no preview")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if fps > 0 and frames > fps:
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(fps))
        ok, frame = cap.read()
        if not ok or frame is None:
            return _("the video cannot be decoded: no preview")
        h, w = frame.shape[:2]
        scale = SIZE / max(h, w)
        if scale < 1:
            frame = cv2.resize(frame, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 82])
        if not ok:
            return _("the video cannot be decoded: no preview")
        tmp = dest.with_name(f".{new_id()}.part")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(buf.tobytes())
            os.replace(tmp, dest)
        except OSError as exc:  # a preview is the first to give way (a full disk)
            tmp.unlink(missing_ok=True)
            return _("no preview: {error}").format(error=exc.strerror or exc)
        return None
    finally:
        cap.release()
