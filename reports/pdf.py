"""A4 documents in the official layout (a list of many columns lies across its page), from a definition and a payload.

- The bundled Noto Serif SC (OFL, ``resources/fonts``, a Song face as GB/T 9704 asks for the body; its
  bold for titles) is embedded as a subset: the PDF prints the same anywhere, and its text is real text.
- Every page: 第 X 页 共 Y 页; a QR code with the document's id and the SHA-256 of its content; for
  transcripts, the signature line of the party and the officers.
- A character the font lacks (rare CJK Extension B names) is printed as a red ``[U+XXXXX]`` and
  reported as a warning — never a silent blank.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from forms.model import SIGNING_NEEDS_WITNESS, SIGNING_PRINTED, DocumentDef, FieldDef
from kit_app.i18n import _
from kit_app.ids import new_id
from kit_app.imaging import open_image

_SECOND = timedelta(seconds=1)
FONT = "KitSerif"
FONT_BOLD = "KitSerif-Bold"
MARGINS = (28, 26, 35, 30)  # mm: top, right, bottom (room for the footer), left — 公文 page margins
SEAL_AREA = 62  # mm: the width over which the agency's name and the date are centred (a seal is 42 mm across)
_lock = threading.Lock()
_registered = False


@dataclass
class RenderResult:
    pdf: bytes
    pages: int
    doc_id: str
    number: str | None
    content_sha256: str  # what the QR code carries
    pdf_sha256: str
    warnings: list[str] = field(default_factory=list)


def _register_fonts() -> None:
    global _registered
    with _lock:
        if _registered:
            return
        from reportlab.graphics import shapes
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        import resources

        pdfmetrics.registerFont(TTFont(FONT, str(resources.path("fonts", "NotoSerifSC-Regular.ttf"))))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(resources.path("fonts", "NotoSerifSC-Bold.ttf"))))
        for bold, italic, name in ((0, 0, FONT), (1, 0, FONT_BOLD), (0, 1, FONT), (1, 1, FONT_BOLD)):
            addMapping(FONT, bold, italic, name)  # type: ignore[arg-type]  # 0/1 in a loop, not literals
        shapes.STATE_DEFAULTS["fontName"] = FONT  # graphics (the QR code) must not pull in Helvetica
        from reportlab import rl_config

        rl_config.useA85 = 0  # binary streams: smaller files, and no slow pure-Python ASCII85 of every photo
        _registered = True


class _Text:
    """Escapes text for reportlab paragraphs and marks characters the font cannot show."""

    def __init__(self) -> None:
        from reportlab.pdfbase import pdfmetrics

        font: Any = pdfmetrics.getFont(FONT)  # a TTFont (registered above), which has a face
        self.cmap = font.face.charToGlyph
        self.warnings: list[str] = []

    def __call__(self, value: Any, where: str) -> str:
        s = "" if value is None else str(value)
        out = []
        for ch in s:
            if ch == "\n":
                out.append("<br/>")
            elif ch.isspace() or ord(ch) in self.cmap:
                out.append(escape(ch))
            else:
                code = f"U+{ord(ch):04X}"
                self.warnings.append(_("{where}: the character {char} ({code}) is not in the document font; "
                                       "it is printed as [{code}]").format(where=where, char=ch, code=code))
                out.append(f'<font color="#d00000">[{code}]</font>')
        return "".join(out)


def _fmt_datetime(v: str | None) -> str:
    if not v:
        return ""
    dt = datetime.fromisoformat(v)
    seconds = f"{dt.second:02d}秒" if dt.second else ""
    return f"{dt.year}年{dt.month}月{dt.day}日{dt.hour}时{dt.minute:02d}分{seconds}"


def _fmt_date(v: str | None) -> str:
    if not v:
        return ""
    y, m, d = v.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


_DIGITS = "〇一二三四五六七八九"
_NUMERALS = "一二三四五六七八九十"


def _chinese_date(v: str | None) -> str:
    """二〇二六年十一月二十九日, as decisions write their date."""
    if not v:
        return "　　年　　月　　日"

    def small(n: int) -> str:
        if n < 10:
            return _DIGITS[n]
        tens, units = divmod(n, 10)
        return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[units] if units else "")

    y, m, d = (int(x) for x in v.split("-"))
    return "".join(_DIGITS[int(c)] for c in str(y)) + f"年{small(m)}月{small(d)}日"


def display(f: FieldDef, value: Any) -> str:
    """A field's value as printed."""
    if value in (None, "", []):
        return ""
    if f.type == "datetime":
        return _fmt_datetime(value)
    if f.type == "date":
        return _fmt_date(value)
    if f.type == "officers":
        return "；".join(f"{o['name']}（执法证号：{o['cert_no']}）" for o in value)
    if f.type == "signing":
        return signing_note(value)
    return str(value)


def signing_note(signing: dict[str, str]) -> str:
    """What the paper says when the party did not sign: the fact, the party's reason, the witness
    and the photo that shows it (printed in Chinese, as every official document)."""
    status = signing["status"]
    who = signing["witness"]
    extra = "；".join(x for x in (f"身份证号：{signing['witness_id_no']}" if signing.get("witness_id_no") else "",
                                  signing.get("witness_unit", "")) if x)
    witness = who + (f"（{extra}）" if extra else "")
    if status == "refused":
        out = f"当事人拒绝签名，理由：{signing['reason'].rstrip('。')}。执法人员已当场注明，见证人{witness}在场见证。"
    elif status == "absent":
        out = f"当事人不在场，见证人{witness}在场见证。"
    else:  # left
        out = (f"受送达人拒绝签收，理由：{signing['reason'].rstrip('。')}。送达人已将文书留置于送达地点，"
               f"见证人{witness}在场见证。")
    if signing.get("photo_label"):
        out += f"现场照片：{signing['photo_label']}。"
    return out


def render(defn: DocumentDef, payload: dict[str, Any], *, doc_id: str | None = None,
           number: str | None = None, specimen: bool = False, seal_text: str | None = None) -> RenderResult:
    """Validate ``payload`` and render it; FormError names a missing or wrong field. A ``specimen``
    (a preview, an example) says so on every page — 样本 across it, in its number line and in its QR
    code — so it can never pass for an issued document. ``seal_text``: the words of the agency's seal,
    printed over the date where the seal is pressed (else the agency's name)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, SimpleDocTemplate, Spacer, Table, TableStyle

    from reports.linebreak import Para

    data = defn.validate(payload)
    _register_fonts()
    doc_id = doc_id or new_id()
    content = defn.content_hash(data, doc_id, number)
    text = _Text()
    fields = {f.name: f for f in defn.fields}

    cjk: dict[str, Any] = {"wordWrap": "CJK", "alignment": TA_CENTER}
    title = ParagraphStyle("title", fontName=FONT_BOLD, fontSize=20, leading=30, spaceAfter=2, **cjk)
    agency = ParagraphStyle("agency", fontName=FONT_BOLD, fontSize=16, leading=24, **cjk)
    numstyle = ParagraphStyle("number", fontName=FONT, fontSize=12, leading=18, spaceAfter=6, **cjk)
    body = ParagraphStyle("body", fontName=FONT, fontSize=11.5, leading=20, wordWrap="CJK", firstLineIndent=23,
                          alignment=TA_JUSTIFY)  # 两端对齐, as set Chinese text is
    flush = ParagraphStyle("flush", parent=body, firstLineIndent=0)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=10.5, leading=16, wordWrap="CJK")
    label = ParagraphStyle("label", parent=cell, fontName=FONT_BOLD)
    heading = ParagraphStyle("heading", wordWrap="CJK", fontName=FONT_BOLD, fontSize=12, leading=22, spaceBefore=6)

    page = landscape(A4) if defn.raw.get("page") == "landscape" else A4  # a list of many columns lies across
    width = page[0] - (MARGINS[1] + MARGINS[3]) * mm
    story: list[Any] = []
    # who keeps which copy: printed after the last signature or seal block, on its page
    small = ParagraphStyle("copies", parent=cell, fontSize=9.5, leading=14)
    copies = [Spacer(1, 4 * mm), Para(f"本文书{escape(defn.copies)}，一份交当事人，一份附卷。", small)] \
        if defn.copies else []
    layout = [b for b in defn.layout if defn.shows(b, data)]  # wording that follows the choices made
    last_closing = max((i for i, b in enumerate(layout) if b["block"] in ("signatures", "seal")), default=-1)
    for position, block in enumerate(layout):
        kind = block["block"]
        ending = copies if position == last_closing else []
        if kind == "header":
            if data.get("agency_name"):
                story.append(Para(text(data["agency_name"], "agency_name"), agency))
            story.append(Para(escape(defn.title_for(data)), title))
            if defn.number and block.get("number", True) and (number or specimen):
                shown = number or "〔未编号〕"
                story.append(Para(text(f"样本 · {shown}" if specimen else shown, "number"), numstyle))
            story.append(Spacer(1, 4 * mm))
        elif kind == "grid":
            lw = block.get("label_width", 84)
            rows = []
            spans = []
            for r, names in enumerate(block["rows"]):
                cells: list[Any] = []
                for name in names:
                    if isinstance(name, dict):  # several fields in one cell: {"label", "fields", "join"}
                        parts = [text(display(fields[n], data[n]), n) for n in name["fields"] if data.get(n)]
                        cells += [Para(escape(name["label"]), label), Para(name.get("join", " ").join(parts),
                                                                                    cell)]
                        continue
                    f = fields[name]
                    cells += [Para(escape(f.label), label), Para(text(display(f, data[name]), name), cell)]
                if len(names) == 1:
                    cells += ["", ""]
                    spans.append(("SPAN", (1, r), (3, r)))
                rows.append(cells)
            half = (width - 2 * lw) / 2
            t = Table(rows, colWidths=[lw, half, lw, half])
            t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT),
                                   ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                                   ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), *spans]))
            story += [t, Spacer(1, 4 * mm)]
        elif kind == "text":
            if block.get("heading"):  # a numbered section of fixed wording, styled as the others
                story.append(Para(escape(block["heading"]), heading))
            style = flush if block.get("flush") else body  # 主送机关 and the like start at the margin (顶格)
            story.append(Para(text(block["text"].format_map(_Fill(data, fields)), "text"), style))
        elif kind == "body":
            f = fields[block["field"]]
            value = data.get(f.name)
            if not value and block.get("blank_lines"):  # kept, ruled, to be written on (e.g. 留置送达's 备注)
                ruled = Table([[Para(escape(f.label) + "：", cell)]] + [[""]] * block["blank_lines"],
                              colWidths=[width], rowHeights=[10 * mm] * (block["blank_lines"] + 1))
                ruled.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT),
                                           ("LINEBELOW", (0, 1), (-1, -1), 0.4, colors.black),
                                           ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
                story.append(KeepTogether([ruled]))
                continue
            if not value and not f.required:
                continue
            if not block.get("bare"):  # a bare body continues the section before it, without a heading
                numbered = f.label[:1] in _NUMERALS and "、" in f.label[:4]  # 一、… is a section: no colon
                story.append(Para(escape(f.label) + ("" if numbered else "："), heading))
            for para in str(value).split("\n"):
                if para.strip():
                    story.append(Para(text(para.strip(), f.name), body))
        elif kind == "qa":
            f = fields[block["field"]]
            for i, qa in enumerate(data.get(f.name) or []):
                story.append(Para("<b>问：</b>" + text(qa["q"], f"{f.name}[{i}].q"), body))
                story.append(Para("<b>答：</b>" + text(qa["a"], f"{f.name}[{i}].a"), body))
        elif kind == "closing":
            if block.get("signing") and data.get(block["signing"]):
                continue  # the party did not sign: no comment of theirs; the note goes with the signatures
            comment = data.get(block.get("field", ""))
            story.append(Spacer(1, 4 * mm))
            if "text" in block:  # a fixed confirmation, replaced by the party's own words when given
                story.append(KeepTogether([Para(text(comment or block["text"], block.get("field", "closing")),
                                                     body)]))
            elif comment:
                story.append(KeepTogether([Para(escape(block["label"]) + "：" + text(comment, block["field"]),
                                                     body)]))
            else:  # left for the party to write by hand
                blank = Table([[Para(escape(block["label"]) + "：", cell)], [""]], colWidths=[width],
                              rowHeights=[10 * mm, 10 * mm])
                blank.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT),
                                           ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.black),
                                           ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
                story.append(KeepTogether([blank]))
        elif kind == "opinion":  # an approver's box: the opinion (or room to write it), signed and dated
            f = fields[block["field"]]
            value = data.get(f.name) or ""
            paras = [Para(text(p.strip(), f.name), cell) for p in str(value).split("\n") if p.strip()]
            sign = Table([[Para(escape(block["sign"]) + "（签名）：", cell), "", Para("年　　月　　日", cell)]],
                         colWidths=[width * 0.44, width * 0.28, width * 0.22], hAlign="RIGHT",
                         style=[("FONTNAME", (0, 0), (-1, -1), FONT), ("LINEBELOW", (1, 0), (1, 0), 0.6, colors.black),
                                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("ALIGN", (0, 0), (0, 0), "RIGHT")])
            box = Table([[Para(escape(f.label) + "：", label)], [paras or ""], [sign]], colWidths=[width],
                        rowHeights=[None, None if paras else 13 * mm, 10 * mm],
                        style=[("FONTNAME", (0, 0), (-1, -1), FONT), ("BOX", (0, 0), (-1, -1), 0.6, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 1), (0, 1), 16)])
            story += [KeepTogether([box]), Spacer(1, 3 * mm)]
        elif kind == "signatures":
            lines: list[str] = list(block["lines"])
            marks: dict[int, str] = {}
            note: list[Any] = []
            how = block.get("signing") or {}
            signing = data.get(how.get("field", ""))
            if signing:  # refused, absent or left: noted on the paper, the witness signs
                marks[how.get("party", 0)] = "（" + SIGNING_PRINTED[signing["status"]] + "）"
                if signing["status"] in SIGNING_NEEDS_WITNESS and how.get("witness") is None:
                    lines.append("见证人（签名）")
                note = [Spacer(1, 3 * mm), Para(text(signing_note(signing), how["field"]), body)]
            rows = [[Para(escape(line) + "：", cell), Para(escape(marks.get(i, "")), cell),
                     Para("年　　月　　日", cell)] for i, line in enumerate(lines)]
            t = Table(rows, colWidths=[width * 0.38, width * 0.34, width * 0.28], rowHeights=12 * mm)
            t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                                   ("LINEBELOW", (1, 0), (1, -1), 0.6, colors.black)]))
            _with_tail(story, [Spacer(1, 6 * mm), *note, t, *ending])
        elif kind == "table":
            f = fields[block["field"]]
            rows_data = data.get(f.name) or []
            head = [Para("序号", label)] + [Para(escape(c.label), label) for c in f.columns]
            body_rows: list[list[Any]] = [[Para(str(i + 1), cell)] + [
                Para(text(display(c, row.get(c.name)), f"{f.name}[{i}].{c.name}"), cell) for c in f.columns]
                for i, row in enumerate(rows_data)]
            if defn.kind == "list" or block.get("min_rows") or block.get("end_mark"):  # nothing added below
                body_rows.append(["", Para("以下空白", cell)] + [""] * (len(f.columns) - 1))
            for _i in range(max(0, block.get("min_rows", 0) - len(body_rows))):
                body_rows.append([""] * (len(f.columns) + 1))
            weights = block.get("widths") or [1] * len(f.columns)
            unit = (width - 14 * mm) / sum(weights)
            widths = [14 * mm] + [w * unit for w in weights]
            grid: list[Any] = [("FONTNAME", (0, 0), (-1, -1), FONT), ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
            # the last two rows are a table of their own, so a signature block after it can keep them company
            end = body_rows[-2:] if len(body_rows) > 4 else []
            main = body_rows[:len(body_rows) - len(end)]
            t = Table([head, *main], colWidths=widths, repeatRows=1, minRowHeights=[9 * mm] * (len(main) + 1))
            t.setStyle(TableStyle(grid))
            if block.get("title"):
                story.append(Para(escape(block["title"]), heading))
            story.append(t)
            if end:
                plain = Table(end, colWidths=widths, minRowHeights=[9 * mm] * len(end))
                plain.setStyle(TableStyle(grid))
                headed = Table([[Para("序号", label)] + [Para(escape(c.label), label) for c in f.columns], *end],
                               colWidths=widths, minRowHeights=[9 * mm] * (len(end) + 1))
                headed.setStyle(TableStyle(grid))
                story.append(_TableTail(plain, headed))
            story.append(Spacer(1, 4 * mm))
        elif kind == "photos":
            f = fields[block["field"]]
            cols = {c.name: c for c in f.columns}
            per_page = block.get("per_page", 2)
            img_h = (page[1] - (MARGINS[0] + MARGINS[2]) * mm - 8 * mm) / per_page - 58 * mm
            photos = data.get(f.name) or []
            with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:  # decoding releases the GIL
                images = list(pool.map(lambda ip: _photo(ip[1]["image"], width, img_h, text.warnings,  # noqa: B023
                                                         f"{f.label} {ip[0] + 1}"), enumerate(photos)))  # noqa: B023
            for i, ph in enumerate(photos):
                where = f"{f.name}[{i}]"
                img = images[i]
                meta = [[Para(escape(cols[k].label), label),
                         Para(text(display(cols[k], ph.get(k)), f"{where}.{k}"), cell)]
                        for k in ("caption", "time", "place", "photographer", "device") if ph.get(k)]
                if ph.get("sha256"):
                    meta.append([Para("SHA-256", label), Para(escape(ph["sha256"][:16]) + "…", cell)])
                mt = Table(meta, colWidths=[26 * mm, width - 26 * mm])
                mt.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT),
                                        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                                        ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
                story.append(KeepTogether([Para(f"照片 {i + 1}", heading), img, Spacer(1, 2 * mm), mt]))
                story.append(Spacer(1, 4 * mm))
        elif kind == "plot":
            f = fields[block["field"]]
            by_q: dict[str, list[tuple[float, float]]] = {}
            units: dict[str, str] = {}
            for row in data.get(f.name) or []:
                when = datetime.fromisoformat(row["time"])
                at = (when if when.tzinfo else when.replace(tzinfo=LOCAL)).timestamp()  # forms hold local time
                by_q.setdefault(row["quantity"], []).append((at, float(row["value"])))
                units[row["quantity"]] = row.get("unit") or ""
            lines_of: dict[str, dict[str, list[tuple[float, float]]]] = {}
            if block.get("series"):  # several lines to a chart: one per value of that column, with a key
                for row in data.get(f.name) or []:
                    when = datetime.fromisoformat(row["time"])
                    at = (when if when.tzinfo else when.replace(tzinfo=LOCAL)).timestamp()
                    lines_of.setdefault(row["quantity"], {}).setdefault(str(row.get(block["series"]) or ""), []).append(
                        (at, float(row["value"])))
            for q, pts in list(by_q.items())[: block.get("max_plots", 4)]:
                chart = [(k, sorted(v)) for k, v in lines_of[q].items()] if lines_of else [("", sorted(pts))]
                story.append(KeepTogether([Para(text(f"{q}（{units[q]}）" if units[q] else q, f.name), heading),
                                           _line_chart(chart, width, 55 * mm, set(block.get("dashed", ())))]))
            story.append(Spacer(1, 3 * mm))
        elif kind == "seal":  # GB/T 9704: the agency over its date, centred on each other, four characters
            # from the right margin, with room above for the seal, which presses on both
            centred = ParagraphStyle("seal", parent=body, alignment=TA_CENTER, firstLineIndent=0)
            area = Table([[Para(text(seal_text or data.get("agency_name") or "", "agency_name"), centred), ""],
                          [Para(_chinese_date(data.get(block["field"])), centred), ""]],
                         colWidths=[SEAL_AREA * mm, 4 * body.fontSize], hAlign="RIGHT",
                         style=[("FONTNAME", (0, 0), (-1, -1), FONT), ("RIGHTPADDING", (0, 0), (-1, -1), 0)])
            _with_tail(story, [Spacer(1, 22 * mm), area, *ending])
        else:
            raise ValueError(f"{defn.id}: unknown layout block {kind}")

    if copies and last_closing < 0:
        story += copies
    buf = io.BytesIO()
    footer = _Footer(defn, doc_id, content, specimen, page)
    doc = SimpleDocTemplate(buf, pagesize=page, topMargin=MARGINS[0] * mm, rightMargin=MARGINS[1] * mm,
                            bottomMargin=MARGINS[2] * mm + (10 * mm if defn.page_signatures else 0),
                            leftMargin=MARGINS[3] * mm, title=defn.title_for(data),
                            author=data.get("agency_name") or "",
                            subject=f"{defn.id} v{defn.version} {doc_id}", creator="Enforcement Evidence Kit",
                            initialFontName=FONT, initialFontSize=11)
    doc.build(story, canvasmaker=footer.canvas_class())
    pdf = buf.getvalue()
    return RenderResult(pdf=pdf, pages=footer.pages, doc_id=doc_id, number=number, content_sha256=content,
                        pdf_sha256=hashlib.sha256(pdf).hexdigest(), warnings=text.warnings)


@cache
def _table_tail_class() -> Any:  # made once, when reportlab is first needed
    from reportlab.platypus import Flowable

    class TableTail(Flowable):
        """A table's last rows, kept with the signatures after it: when they open a page they bring
        the column headings with them, as the table's other pages do."""

        def __init__(self, plain: Any, headed: Any) -> None:
            super().__init__()
            self.plain, self.headed, self.shown = plain, headed, plain
            self.hAlign = "CENTER"  # placed as the table above it is

        def wrap(self, aw: float, ah: float) -> tuple[float, float]:
            frame = getattr(self, "_frame", None)
            self.shown = self.headed if frame is not None and getattr(frame, "_atTop", False) else self.plain
            w, h = self.shown.wrap(aw, ah)
            self.width, self.height = w, h
            return w, h

        def draw(self) -> None:
            self.shown.drawOn(self.canv, 0, 0)

    return TableTail


def _TableTail(plain: Any, headed: Any) -> Any:  # noqa: N802  (a flowable, named as one)
    return _table_tail_class()(plain, headed)


def _with_tail(story: list[Any], block: list[Any], lines: int = 2) -> None:
    """Append a signature or seal block kept on one page with the last ``lines`` paragraphs before
    it, so it never stands alone on a page (a long table before it is left to flow as it is)."""
    from reportlab.platypus import KeepTogether, Spacer, Table

    tail: list[Any] = []
    texts = 0
    while story and texts < lines:
        last = story[-1]
        if isinstance(last, Table) and getattr(last, "_nrows", 0) > 3:  # a data table: rows split over pages
            break
        tail.insert(0, story.pop())
        texts += not isinstance(last, Spacer)
    story.append(KeepTogether([*tail, *block]))


PHOTO_PX = 1000  # longest side embedded: about 240 dpi at the printed size, and JPEG draft decodes at 1/4


def _photo(ref: str, max_w: float, max_h: float, warnings: list[str], where: str) -> Any:
    """A photo scaled to fit, decoded once at a reduced size (JPEG draft mode), EXIF orientation
    applied; a missing or unreadable file becomes a visible box and a warning."""
    from PIL import ImageOps
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Image

    from reports.linebreak import Para

    try:
        if ref.startswith("sample:"):
            im = _sample_picture(int(ref.split(":", 1)[1] or 1))
        else:
            im = open_image(Path(ref))  # HEIC and raw files too (their embedded preview)
            im.draft("RGB", (PHOTO_PX * 2 // 3, PHOTO_PX * 2 // 3))  # the smallest JPEG scale still big enough
            im = ImageOps.exif_transpose(im)
        im = im.convert("RGB")
        im.thumbnail((PHOTO_PX, PHOTO_PX))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85)
        buf.seek(0)
        w, h = im.size
        scale = min(max_w / w, max_h / h)
        return Image(buf, width=w * scale, height=h * scale)
    except (OSError, ValueError) as exc:
        # said by the photo's place on the paper; the stored file's path is the kit's business, not the officer's
        why = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).replace(ref, "").strip(" :'")
        warnings.append(_("{where}: the picture cannot be read ({error}); a placeholder is printed").format(
            where=where, error=why or type(exc).__name__))
        style = ParagraphStyle("missing", fontName=FONT, fontSize=12, textColor=colors.HexColor("#d00000"))
        return Para(escape(f"〔照片无法读取：{where}〕"), style)


def _sample_picture(n: int) -> Any:
    """A generated scene for example documents (the simulated camera's, at a fixed time)."""
    from PIL import Image as PILImage

    from devices.sim.camera import LOCAL, SyntheticCamera

    cam = SyntheticCamera(1280, 720, 25, seed=n)
    frame = None
    for k in range(1, 40 * n + 1):
        frame = cam.frame(k, datetime(2026, 11, 29, 9, 40, tzinfo=LOCAL) + (k / 25) * _SECOND)
    assert frame is not None
    return PILImage.fromarray(frame[:, :, ::-1])


CHART_COLOURS = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a")


def _line_chart(lines: list[tuple[str, list[tuple[float, float]]]], w: float, h: float,
                dashed: set[str] | None = None) -> Any:
    """Quantities over time on one chart (one line each; a key when there are several, the
    ``dashed`` ones — a limit — drawn dashed in grey): axes in the document font, times as HH:MM."""
    from reportlab.graphics.charts.legends import LineLegend
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing
    from reportlab.graphics.widgets.markers import makeMarker
    from reportlab.lib import colors

    dashed = dashed or set()
    keyed = len(lines) > 1
    d = Drawing(w, h + (12 if keyed else 0))
    lp = LinePlot()
    lp.x, lp.y = 40, 18
    lp.width, lp.height = int(w - 52), int(h - 28)
    every = [p for _label, pts in lines for p in pts]
    t0 = min(t for t, _v in every)
    span = max(max(t for t, _v in every) - t0, 1.0)
    lp.data = [[(t - t0, v) for t, v in pts] for _label, pts in lines]
    colour = iter(CHART_COLOURS * 4)
    legend: list[tuple[Any, str]] = []
    for i, (label, _pts) in enumerate(lines):
        line = lp.lines[i]
        if label in dashed:
            line.strokeColor, line.strokeDashArray, line.strokeWidth = colors.HexColor("#757575"), [4, 3], 1.0
        else:
            line.strokeColor, line.strokeWidth = colors.HexColor(next(colour)), 1.4
            line.symbol = makeMarker("FilledCircle", size=3)  # type: ignore[no-untyped-call]
        legend.append((line.strokeColor, label))
    for axis in (lp.xValueAxis, lp.yValueAxis):
        axis.labels.fontName = FONT
        axis.labels.fontSize = 8
    lp.xValueAxis.valueMin, lp.xValueAxis.valueMax = 0.0, span
    lp.xValueAxis.valueSteps = [span * k / 4 for k in range(5)]
    lp.xValueAxis.labelTextFormat = lambda s: datetime.fromtimestamp(t0 + s, LOCAL).strftime("%H:%M:%S" if span < 600
                                                                                              else "%H:%M")
    vals = [v for _t, v in every]
    lo, hi = min(vals), max(vals)
    pad = (hi - lo) * 0.1 or 1.0
    lp.yValueAxis.valueMin, lp.yValueAxis.valueMax = lo - pad, hi + pad
    lp.yValueAxis.labelTextFormat = "%.4g"
    d.add(lp)
    if keyed:
        key = LineLegend()
        key.x, key.y = 44, int(h) + 6
        key.fontName, key.fontSize = FONT, 8
        key.alignment = "right"
        key.columnMaximum = 1
        key.dx, key.dy, key.deltax = 14, 2, 90
        key.colorNamePairs = legend
        d.add(key)
    return d


LOCAL = timezone(timedelta(hours=8))


class _Fill(dict):  # type: ignore[type-arg]
    """``str.format_map`` over the payload, printing values as on the form."""

    def __init__(self, data: dict[str, Any], fields: dict[str, FieldDef]) -> None:
        super().__init__()
        self.data, self.fields = data, fields

    def __missing__(self, key: str) -> str:
        return _Shown(display(self.fields[key], self.data.get(key))) if key in self.fields else "{" + key + "}"


class _Shown(str):
    """A value in fixed wording; ``{ground:item}`` prints the item number of a choice such as
    "（四）通过暗管…" (as in 第四条第一款第（四）项), ``{ground:text}`` the rest, ``{ground:law}`` the provision
    a choice ends with in brackets ("…（《中华人民共和国行政处罚法》第三十三条第一款）"); ``{fine:rmb}`` an amount
    in capitals (壹拾伍万元整), ``{fine:money}`` in figures (¥150,000.00)."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        if spec in ("rmb", "money"):  # an amount: 壹拾伍万元整 | ¥150,000.00
            from reports.numerals import money, rmb_upper

            return (rmb_upper if spec == "rmb" else money)(str(self)) if str(self) else ""
        if spec in ("item", "text", "law"):
            value = str(self)
            item = value[:value.index("）") + 1] if value.startswith("（") and "）" in value else ""
            law = ""
            if value.endswith("）") and "（《" in value:  # "…轻微并及时改正（《…》第三十三条第一款）"
                law = value[value.rindex("（《") + 1:-1]
            if spec == "item":
                return item
            if spec == "law":
                return law
            return value[len(item):len(value) - (len(law) + 2 if law else 0)]
        return format(str(self), spec)


class _Footer:
    """Draws, on every page once the page count is known, 第 X 页 共 Y 页, the signature line
    of transcripts and the QR code with the id and the content hash."""

    def __init__(self, defn: DocumentDef, doc_id: str, content: str, specimen: bool = False,
                 page: tuple[float, float] | None = None) -> None:
        self.defn, self.doc_id, self.content, self.specimen = defn, doc_id, content, specimen
        self.page = page
        self.pages = 0
        self._qr_defined = False

    def _define_qr(self, c: Any, size: float) -> None:
        """The QR code (id and content hash), error correction M, with its quiet zone, as runs of
        dark modules — far quicker than one drawing node per module."""
        from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel

        qr: Any = QRCode(None, QRErrorCorrectLevel.M)  # untyped in reportlab's stubs
        qr.addData(f"{'kitdoc-specimen' if self.specimen else 'kitdoc'}:{self.doc_id}:{self.content}")
        qr.make()
        n = qr.getModuleCount()
        cell = size / (n + 8)  # four modules of quiet zone each side
        c.beginForm("kitdoc-qr", 0, 0, size, size)
        c.setFillColorRGB(0, 0, 0)
        path = c.beginPath()  # one path: no hairline seams between neighbouring modules' edges
        for r in range(n):
            col = 0
            while col < n:
                if qr.isDark(r, col):
                    start = col
                    while col < n and qr.isDark(r, col):
                        col += 1
                    path.rect((start + 4) * cell, size - (r + 5) * cell, (col - start) * cell, cell)
                else:
                    col += 1
        c.drawPath(path, stroke=0, fill=1)
        c.endForm()
        self._qr_defined = True

    def canvas_class(self) -> Any:
        from reportlab.pdfgen.canvas import Canvas

        footer = self

        class NumberedCanvas(Canvas):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs.setdefault("initialFontName", FONT)
                super().__init__(*args, **kwargs)
                self._saved: list[dict[str, Any]] = []

            def showPage(self) -> None:  # noqa: N802
                self._saved.append(dict(self.__dict__))
                self._startPage()  # type: ignore[attr-defined]  # reportlab's own page reset

            def save(self) -> None:
                footer.pages = len(self._saved)
                for state in self._saved:
                    self.__dict__.update(state)
                    footer.draw(self, self._pageNumber, footer.pages)  # type: ignore[attr-defined]
                    Canvas.showPage(self)
                Canvas.save(self)

        return NumberedCanvas

    def draw(self, c: Any, page: int, pages: int) -> None:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm

        w, h = self.page or A4
        left, right = MARGINS[3] * mm, w - MARGINS[1] * mm
        base = 14 * mm
        c.saveState()
        if self.specimen:  # across the page, light: readable through, impossible to miss
            c.saveState()
            c.setFillColorRGB(0.55, 0.55, 0.55, alpha=0.22)  # over the text, which stays readable through it
            c.setFont(FONT_BOLD, 96)
            c.translate(w / 2, h / 2)
            c.rotate(35)
            c.drawCentredString(0, -30, "样 本")
            c.restoreState()
        c.setFont(FONT, 10.5)
        c.drawCentredString(w / 2, base, f"第 {page} 页 共 {pages} 页")
        if self.defn.page_signatures:
            y = base + 11 * mm
            c.setFont(FONT, 10.5)
            step = (right - left - 26 * mm) / len(self.defn.page_signatures)
            for i, line in enumerate(self.defn.page_signatures):
                x = left + i * step
                c.drawString(x, y, line + "：")
                c.line(x + c.stringWidth(line + "：", FONT, 10.5) + 1 * mm, y - 1, x + step - 6 * mm, y - 1)
        size = 19 * mm
        if not self._qr_defined:  # one form XObject, drawn on every page
            self._define_qr(c, size)
        c.saveState()
        c.translate(right - size, base - 8 * mm)
        c.doForm("kitdoc-qr")
        c.restoreState()
        c.setFont(FONT, 7)
        c.setFillGray(0.35)
        c.drawString(left, base - 6 * mm, f"{'样本 · ' if self.specimen else ''}{self.defn.id} v{self.defn.version} · "
                                          f"ID {self.doc_id} · SHA-256 {self.content[:16]}…")
        c.restoreState()
