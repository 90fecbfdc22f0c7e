"""One-time dev step: the document serif (Noto Serif CJK SC, OFL-1.1) as TrueType outlines.

reportlab embeds only TrueType (glyf) outlines; Noto Serif CJK ships as CFF in an OpenType
collection. This takes the SC face from Debian's ``fonts-noto-cjk`` collection, keeps the
characters a Chinese document can use (drops Hangul and the layout tables reportlab ignores),
converts the cubic outlines to quadratic ones and writes ``resources/fonts/NotoSerifSC-*.ttf``:

    apt-get download fonts-noto-cjk && dpkg -x fonts-noto-cjk_*.deb x
    python docs/fonts/make_serif_ttf.py x/usr/share/fonts/opentype/noto resources/fonts
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

HANGUL = (range(0x1100, 0x1200), range(0x3130, 0x3190), range(0xA960, 0xA980), range(0xAC00, 0xD7B0),
          range(0xD7B0, 0xD800))
MAX_ERR = 1.0  # font units (1000 per em): invisible at any printed size


def sc_face(ttc: Path) -> TTFont:
    for font in TTCollection(str(ttc), lazy=False).fonts:
        if font["name"].getDebugName(1).endswith(" SC"):
            return font
    raise SystemExit(f"{ttc}: no SC face")


def keep_chinese(font: TTFont) -> None:
    unicodes = [u for u in font.getBestCmap() if not any(u in r for r in HANGUL)]
    opts = subset.Options()
    opts.layout_features = []
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=unicodes)
    sub.subset(font)


def to_truetype(font: TTFont) -> None:
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, MAX_ERR, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    del font["CFF "]
    font.sfntVersion = "\x00\x01\x00\x00"
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 3.0  # no glyph names: reportlab needs none
    post.extraNames, post.mapping = [], {}


def main(src: Path, out: Path) -> None:
    for weight in ("Regular", "Bold"):
        t0 = time.monotonic()
        font = sc_face(src / f"NotoSerifCJK-{weight}.ttc")
        keep_chinese(font)
        to_truetype(font)
        target = out / f"NotoSerifSC-{weight}.ttf"
        font.save(str(target))
        print(f"{target}: {target.stat().st_size / 1e6:.1f} MB, {len(font.getGlyphOrder())} glyphs, "
              f"{time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
