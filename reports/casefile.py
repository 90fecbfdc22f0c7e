"""The case file (案卷) as one PDF: for each volume (正卷, 副卷) a cover, the 卷内目录 with each
paper's page range, the papers themselves in archive order with continuous page numbers stamped in
the upper right corner (cover and contents are not numbered, as archives count them), and the
卷内备考表. Evidence not yet on any issued paper is appended as an annex: photos two to a page with
their particulars, and instrument readings as tables with a plot per quantity."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from reports.pdf import FONT, FONT_BOLD, _line_chart, _photo, _register_fonts

PHOTOS_PER_PAGE = 2
READING_ROWS = 40  # a table of more rows is cut, the plot shows the whole series


@dataclass
class Paper:
    """One document of the file: what the contents list says of it, and its PDF."""

    title: str
    number: str | None
    date: str  # YYYY-MM-DD
    pdf: bytes
    note: str = ""


@dataclass
class Volume:
    label: str  # 正卷, 副卷
    papers: list[Paper]


@dataclass
class CaseFileResult:
    pdf: bytes
    pages: int  # all pages of the PDF
    contents: list[dict[str, Any]]  # per paper: volume, title, number, date, first, last (numbered pages)
    warnings: list[str] = field(default_factory=list)


def build(cover: dict[str, str], volumes: list[Volume]) -> CaseFileResult:
    """The whole file. ``cover``: agency, title, case_number, party, cause, opened, closed, retention,
    compiled_by, compiled_on — printed as given."""
    from pypdf import PdfReader, PdfWriter

    _register_fonts()
    writer = PdfWriter()
    contents: list[dict[str, Any]] = []
    for vol in volumes:
        if not vol.papers:
            continue
        readers = [PdfReader(io.BytesIO(p.pdf)) for p in vol.papers]
        rows, page = [], 1
        for p, r in zip(vol.papers, readers, strict=True):
            n = len(r.pages)
            rows.append({"volume": vol.label, "title": p.title, "number": p.number, "date": p.date,
                         "first": page, "last": page + n - 1, "note": p.note})
            page += n
        total = page - 1
        front = PdfReader(io.BytesIO(_front(cover, vol.label, rows, total)))
        for pg in front.pages:
            writer.add_page(pg)
        sizes = [(float(pg.mediabox.width), float(pg.mediabox.height)) for r in readers for pg in r.pages]
        stamps = PdfReader(io.BytesIO(_numbers(sizes)))
        k = 0
        for r in readers:
            for pg in r.pages:
                writer.add_page(pg).merge_page(stamps.pages[k])
                k += 1
        back = PdfReader(io.BytesIO(_back(cover, vol.label, len(vol.papers), total)))
        for pg in back.pages:
            writer.add_page(pg)
        contents += rows
    writer.add_metadata({"/Title": f"{cover.get('case_number', '')} {cover.get('title', '')}",
                         "/Producer": "Enforcement Evidence Kit"})
    out = io.BytesIO()
    writer.write(out)
    return CaseFileResult(out.getvalue(), len(writer.pages), contents)


# ------------------------------------------------------------------ front and back matter

def _styles() -> dict[str, Any]:
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    # a page made on its own (a list of other evidence, the court pack's verification page) in a
    # process that has rendered nothing yet: paragraphs take their fonts when they are made
    _register_fonts()

    return {
        "big": ParagraphStyle("big", fontName=FONT_BOLD, fontSize=26, leading=40, alignment=TA_CENTER),
        "agency": ParagraphStyle("agency", fontName=FONT_BOLD, fontSize=18, leading=28, alignment=TA_CENTER),
        "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=18, leading=28, alignment=TA_CENTER,
                                spaceAfter=10),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=10.5, leading=15, wordWrap="CJK"),
        "label": ParagraphStyle("label", fontName=FONT_BOLD, fontSize=12, leading=18, wordWrap="CJK"),
        "value": ParagraphStyle("value", fontName=FONT, fontSize=12, leading=18, wordWrap="CJK"),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=9.5, leading=14, wordWrap="CJK"),
    }


def _doc(story: list[Any]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate


    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=25 * mm, rightMargin=20 * mm, topMargin=22 * mm,
                      bottomMargin=20 * mm).build(story)
    return buf.getvalue()


def _front(cover: dict[str, str], volume: str, rows: list[dict[str, Any]], total: int) -> bytes:
    """The cover (封面) and the contents (卷内目录) of one volume."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Spacer, Table, TableStyle

    from reports.linebreak import Para

    st = _styles()

    def p(text: Any, style: str = "cell") -> Any:
        return Para(escape("" if text is None else str(text)), st[style])

    story: list[Any] = [Spacer(1, 18 * mm), p(cover.get("agency"), "agency"), Spacer(1, 6 * mm),
                        p("行政处罚案卷", "big"), p(f"（{volume}）", "agency"), Spacer(1, 22 * mm)]
    lines = [("案卷题名", cover.get("title")), ("案　　号", cover.get("case_number")), ("当 事 人", cover.get("party")),
             ("案　　由", cover.get("cause")), ("立案日期", cover.get("opened")), ("结案日期", cover.get("closed")),
             ("本卷页数", f"共 {total} 页"), ("保管期限", cover.get("retention")),
             ("立 卷 人", cover.get("compiled_by")),
             ("立卷日期", cover.get("compiled_on"))]
    t = Table([[p(k, "label"), p(v or "", "value")] for k, v in lines], colWidths=[30 * mm, 110 * mm])
    t.setStyle(TableStyle([("LINEBELOW", (1, 0), (1, -1), 0.6, colors.black), ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                           ("TOPPADDING", (0, 0), (-1, -1), 9)]))
    story += [t, PageBreak(), p("卷 内 目 录", "title"), p(f"{cover.get('case_number') or ''}（{volume}）", "small"),
              Spacer(1, 3 * mm)]
    head = [p(h, "label") for h in ("序号", "文件题名", "文号", "日期", "页号", "备注")]
    body = [[p(i + 1), p(r["title"]), p(r["number"] or ""), p(r["date"].replace("-", "")),
             p(str(r["first"]) if r["first"] == r["last"] else f"{r['first']}–{r['last']}"), p(r["note"])]
            for i, r in enumerate(rows)]
    toc = Table([head, *body], colWidths=[14 * mm, 58 * mm, 42 * mm, 22 * mm, 14 * mm, 15 * mm], repeatRows=1)
    toc.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                             ("ALIGN", (0, 0), (0, -1), "CENTER")]))
    story.append(toc)
    return _doc(story)


def _back(cover: dict[str, str], volume: str, papers: int, total: int) -> bytes:
    """The 卷内备考表: what the volume holds, who compiled and who checked it."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    from reports.linebreak import Para

    st = _styles()
    text = (f"本卷（{volume}）共有文件 {papers} 件，共 {total} 页。卷内文件按《环境行政处罚办法》规定的顺序排列，"
            "页号编于每页右上角；封面、卷内目录和本表不编页号。案卷归档后不得修改，任何补充须另行记录。")
    story = [Spacer(1, 10 * mm), Para("卷 内 备 考 表", st["title"]), Spacer(1, 6 * mm),
             Para(escape(text), st["value"]),
             Spacer(1, 30 * mm), Para(escape(f"立卷人：{cover.get('compiled_by') or ''}"), st["value"]),
             Spacer(1, 8 * mm), Para("检查人：", st["value"]), Spacer(1, 8 * mm),
             Para(escape(f"立卷日期：{cover.get('compiled_on') or ''}"), st["value"])]
    return _doc(story)


def _numbers(sizes: list[tuple[float, float]]) -> bytes:
    """One page per page of the volume, of its size, with its number in the upper right corner."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c = Canvas(buf)
    for k, (w, h) in enumerate(sizes, start=1):
        c.setPageSize((w, h))
        c.setFont(FONT, 12)
        c.drawRightString(w - 12 * mm, h - 10 * mm, str(k))
        c.showPage()
    c.save()
    return buf.getvalue()


# ------------------------------------------------------------------ the evidence annex

def annex(title: str, photos: list[dict[str, Any]], readings: list[dict[str, Any]]) -> tuple[bytes, list[str]]:
    """The case's evidence not on any issued paper: photos (``image``, ``caption``, ``time``, ``place``,
    ``photographer``, ``device``, ``sha256``) two to a page, and readings sessions (``title``,
    ``instrument``, ``start``, ``end``, ``sha256``, ``series``: [(label, unit, [(t, v)…])]) as a table and
    a plot per quantity. Returns the PDF and warnings (a picture that cannot be read)."""
    from datetime import datetime

    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, PageBreak, Spacer, Table, TableStyle

    from reports.linebreak import Para
    from reports.pdf import LOCAL

    _register_fonts()
    st = _styles()
    warnings: list[str] = []
    width = 165 * mm
    img_h = 72 * mm

    def p(text: Any, style: str = "cell") -> Any:
        return Para(escape("" if text is None else str(text)), st[style])

    with ThreadPoolExecutor(max_workers=4) as pool:
        images = list(pool.map(lambda ph: _photo(ph["image"], width, img_h, warnings, ph.get("caption") or ""),
                               photos))
    story: list[Any] = [p(title, "title")]
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")])
    for k, (ph, im) in enumerate(zip(photos, images, strict=True)):
        if k and k % PHOTOS_PER_PAGE == 0:
            story.append(PageBreak())
        when = (ph.get("time") or "").replace("T", " ")
        meta = Table([[p("证明内容", "label"), p(ph.get("caption")), p("拍摄时间", "label"), p(when)],
                      [p("拍摄地点", "label"), p(ph.get("place")), p("拍摄人", "label"), p(ph.get("photographer"))],
                      [p("SHA-256", "label"), p(ph.get("sha256"), "small"), "", ""]],
                     colWidths=[24 * mm, 66 * mm, 22 * mm, 53 * mm])
        meta.setStyle(TableStyle([*grid.getCommands(), ("SPAN", (1, 2), (3, 2))]))
        story.append(KeepTogether([p(f"照片 {k + 1}", "label"), im, Spacer(1, 2 * mm), meta, Spacer(1, 6 * mm)]))
    for r in readings:
        story += [PageBreak(), p(r.get("title") or "仪器读数", "title"),
                  p(f"仪器：{r.get('instrument') or '—'}　时间：{r.get('start') or ''} 至 {r.get('end') or ''}",
                    "cell"),
                  p(f"原始记录 SHA-256：{r.get('sha256') or ''}", "small"), Spacer(1, 3 * mm)]
        for label, unit, pts in r.get("series") or []:
            if not pts:
                continue
            story += [p(f"{label}（{unit or '—'}），{len(pts)} 个读数", "label"),
                      _line_chart([("", pts)], width, 55 * mm)]
            shown = pts[:READING_ROWS]
            rows = [[p("时间", "label"), p("读数", "label")]] + [
                [p(datetime.fromtimestamp(t, LOCAL).strftime("%Y-%m-%d %H:%M:%S")), p(f"{v:g}")] for t, v in shown]
            if len(pts) > len(shown):
                rows.append([p(f"（以下 {len(pts) - len(shown)} 个读数见原始记录）"), p("")])
            table = Table(rows, colWidths=[60 * mm, 40 * mm], repeatRows=1)
            table.setStyle(grid)
            story += [table, Spacer(1, 5 * mm)]
    return _doc(story), warnings


__all__ = ["CaseFileResult", "Paper", "Volume", "annex", "build"]
