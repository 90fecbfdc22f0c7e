"""Derived previews: thumbnails of photos (Pillow, JPEG draft mode, EXIF orientation applied).
They live apart from the originals and can always be made again."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from kit_app.i18n import _
from kit_app.ids import new_id

SIZE = 256
# a 24-megapixel camera makes 6000×4000; refuse what could only be a decompression bomb
MAX_PIXELS = 250_000_000


def make_thumbnail(src: Path, dest: Path) -> str | None:
    """Write ``dest``; return None, or a warning saying why no thumbnail could be made."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    tmp = dest.with_name(f".{new_id()}.part")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(src) as im:
                im.draft("RGB", (SIZE, SIZE))  # JPEG: decode at the smallest scale ≥ the thumbnail
                im = ImageOps.exif_transpose(im)
                im.thumbnail((SIZE, SIZE))
                dest.parent.mkdir(parents=True, exist_ok=True)
                im.convert("RGB").save(tmp, "JPEG", quality=82)
        os.replace(tmp, dest)
        return None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            EOFError) as exc:
        tmp.unlink(missing_ok=True)
        return _("the image cannot be decoded (damaged or truncated?): no preview ({error})").format(
            error=str(exc)[:120])
