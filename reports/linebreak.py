"""Line breaking for Chinese official documents (reportlab paragraphs).

reportlab's CJK wrap breaks between any two characters and knows little Chinese punctuation: a line
may start with "，" or "。", end with "（" or "〔", or split "2026年11月29日", "桂环责改〔2026〕7号",
"第八十三条" or "7 号". ``Para`` breaks only where a typesetter would:

- never before closing punctuation (，。、；：！？）〕》” …) — it hangs in the margin instead;
- never after opening punctuation (（〔《“ …);
- never inside a run of Latin letters, digits and symbols (a number, a code, a unit such as mg/L);
- never inside a date, a time, a document number, an article reference (第八十三条, 第（二）项),
  a number with its unit or measure word (7 号, 186 mg/L), or an amount in capital numerals.

A run longer than a line is broken where it must be, so nothing is ever lost.
"""

from __future__ import annotations

import re
from typing import Any

import reportlab.platypus.paragraph as _paragraph
from reportlab.platypus import Paragraph
from reportlab.platypus.paragraph import ParaLines

_RL: Any = _paragraph  # cjkU and makeCJKParaLine are public in reportlab but missing from its stubs

CLOSING = set("，。、；：！？）〕》〉」』】〗”’…—%‰℃°·,.;:!?)]}") | {"\u2019", "\u201d", "\uff05", "\u30fb"}
OPENING = set("（〔《〈「『【〖“‘([{¥￥$#") | {"\u2018", "\u201c"}
_CN_NUM = "〇零一二三四五六七八九十百千"
_KEEP = re.compile("|".join((
    r"\d{2,4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?",  # the date; its time may go to the next line
    r"\d{1,2}\s*月\s*\d{1,2}\s*日",
    r"\d{1,2}\s*时\s*\d{1,2}\s*分(?:\s*\d{1,2}\s*秒)?",
    f"[{_CN_NUM}]{{2,4}}年[{_CN_NUM}]{{1,3}}月(?:[{_CN_NUM}]{{1,3}}日)?",  # 二〇二六年十一月三十日
    r"[\u4e00-\u9fff]{0,4}〔\s*\d{4}\s*〕\s*\d+\s*号",  # 桂环责改〔2026〕7号
    f"第\\s*(?:\\d+|[{_CN_NUM}]+|（[{_CN_NUM}]+）)\\s*[条款项章节号次页]",  # 第八十三条 | 第一款 | 第（二）项
    f"（[{_CN_NUM}]+）\\s*项?",
    r"[\d.,:]*\d\s*(?:mg/L|mg/m3|mg/m³|m³/h|m3/h|dB\(A\)|dB|[号条款项年月日时分秒个份页张次倍元吨台套件处米天岁])",
    r"[零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整]{3,}",
)))


def _latin(ch: str) -> bool:
    """Part of a run of Latin letters, digits and their punctuation (150,000.00 or GB 8978—1996)."""
    return " " < ch < "\u2e80" and ch not in "([{)]}\u2018\u2019\u201c\u201d"


def breakable(text: str) -> list[bool]:
    """``out[i]``: a line may start at ``text[i]`` (False for ``i == 0``)."""
    n = len(text)
    ok = [True] * (n + 1)
    ok[0] = False
    for i in range(1, n):
        a, b = text[i - 1], text[i]
        if b in CLOSING or a in OPENING or (_latin(a) and _latin(b)) or b == " " and a != " ":
            ok[i] = False
    for m in _KEEP.finditer(text):
        for i in range(m.start() + 1, m.end()):
            ok[i] = False
    return ok[:n]


def split_lines(units: list[Any], max_widths: list[float], calc_bounds: bool) -> ParaLines:
    """``units`` (one per character, reportlab ``cjkU``) in lines no wider than ``max_widths``."""
    text = "".join(str(u) or "\n" for u in units)
    ok = breakable(text)
    lines: list[Any] = []
    start = 0
    n = len(units)

    def width_of(a: int, b: int) -> float:
        return float(sum(units[k].width for k in range(a, b)))

    def emit(end: int, hard: bool, final: bool = False) -> None:
        trimmed = end
        while trimmed > start and text[trimmed - 1] == " ":
            trimmed -= 1
        limit = max_widths[min(len(lines), len(max_widths) - 1)]
        used = width_of(start, trimmed)
        line = _RL.makeCJKParaLine(units[start:trimmed], limit, used, limit - used, hard, calc_bounds)
        if not hard and not final:  # set flush to both margins (两端对齐) when justified
            line.cjk_glyphs = sum(1 for u in units[start:trimmed] if str(u))
        lines.append(line)

    used = 0.0
    i = 0
    while i < n:
        u = units[i]
        if hasattr(u.frag, "lineBreak"):
            emit(i + 1, True)
            start = i + 1
            used = 0.0
            i += 1
            continue
        used += u.width
        limit = max_widths[min(len(lines), len(max_widths) - 1)]
        if used <= limit + 1e-6 or text[i] == " ":
            i += 1
            continue
        # overflow at i: a closing mark hangs in the margin; else break at the last allowed place
        if text[i] in CLOSING and i + 1 < n and ok[i + 1] and i > start:
            cut = i + 1
        else:
            cut = next((k for k in range(i, start, -1) if ok[k]), i if i > start else i + 1)
        emit(cut, False)
        while cut < n and text[cut] == " ":
            cut += 1
        start = cut
        used = width_of(start, i + 1) if cut <= i else 0.0
        i = max(i + 1, cut)
    if start < n:
        emit(n, False, final=True)
    return ParaLines(kind=1, lines=lines)


_plain_justify = _RL._justifyDrawParaLineX


def _justify(tx: Any, offset: float, line: Any, last: int = 0) -> Any:
    """reportlab justifies by widening spaces, and Chinese has none: a line made above is set flush by
    spacing its characters (PDF Tc) instead; every other line is drawn as reportlab draws it."""
    glyphs = getattr(line, "cjk_glyphs", 0)
    extra = line.extraSpace
    if last or glyphs < 2 or not 1e-6 < extra < line.maxWidth * 0.15:  # a short line stays as it is
        return _plain_justify(tx, offset, line, last)
    line.extraSpace = 0
    tx.setCharSpace(extra / (glyphs - 1))
    try:
        return _plain_justify(tx, offset, line, last)
    finally:
        tx.setCharSpace(0)
        line.extraSpace = extra


_RL._justifyDrawParaLineX = _justify  # called by reportlab for TA_JUSTIFY paragraphs; ours carry cjk_glyphs


class Para(Paragraph):
    """A paragraph broken by the rules above (style ``wordWrap="CJK"``)."""

    def breakLinesCJK(self, maxWidths: Any) -> Any:  # noqa: N802, N803  (reportlab's names)
        if not isinstance(maxWidths, (list, tuple)):
            maxWidths = [maxWidths]
        self.height = 0
        frags = self.frags
        if self.bulletText or not frags or any(hasattr(f, "cbDefn") for f in frags):
            return super().breakLinesCJK(maxWidths)
        if hasattr(self, "blPara") and getattr(self, "_splitpara", False):
            return self.blPara
        units: list[Any] = []
        for f in frags:
            text = f.text if isinstance(f.text, str) else f.text.decode("utf8")
            units.extend(_RL.cjkU(t, f, "utf8") for t in text) if text else units.append(_RL.cjkU("", f, "utf8"))
        auto = getattr(self, "autoLeading", getattr(self.style, "autoLeading", ""))
        return split_lines(units, list(maxWidths), auto not in ("", "off"))
