"""Line breaking of Chinese official text: where a line may end, and that nothing is ever lost."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.lib.styles import ParagraphStyle

from reports import pdf
from reports.linebreak import CLOSING, OPENING, Para, breakable


def lines_of(text: str, width: float) -> list[str]:
    pdf._register_fonts()
    style = ParagraphStyle("b", fontName=pdf.FONT, fontSize=11.5, leading=20, wordWrap="CJK", firstLineIndent=23)
    p = Para(text, style)
    p.wrap(width, 10_000)
    return ["".join(w.text for w in line.words) for line in p.blPara.lines]


def test_known_units_stay_on_one_line() -> None:
    text = ("依据《中华人民共和国水污染防治法》第八十三条第（二）项的规定，于2026年11月29日9时30分作出桂环责改〔2026〕7号"
            "决定，罚款人民币壹拾伍万元整（¥150,000.00），外排废水化学需氧量186 mg/L，共3页，二〇二六年十一月三十日。")
    units = ["第八十三条", "第（二）项", "2026年11月29日", "9时30分", "桂环责改〔2026〕7号",
             "壹拾伍万元整", "（¥150,000.00），", "186 mg/L", "3页", "二〇二六年十一月三十日"]
    for width in range(170, 420, 7):  # every place each unit can fall at a line's end
        lines = lines_of(text, width)
        assert "".join(lines) == text
        for unit in units:
            assert any(unit in line for line in lines), (width, unit, lines)
        for before, after in zip(lines, lines[1:], strict=False):
            assert after[0] not in CLOSING and before[-1] not in OPENING, (width, before, after)


def test_breakable_marks() -> None:
    ok = breakable("你（单位）于2026年1月")
    assert ok[0] is False  # a line starts at the start, never "before" it
    assert ok[2] is False  # not right after （
    assert ok[4] is False  # not before ）
    assert ok[5] and ok[6]  # before 于, between 于 and 2026: yes
    assert not any(ok[7:])  # inside the date: never


CJK = st.sampled_from("执法人员对该公司废水处理设施运行情况排污口设置在线监测设备及台账进行了检查")
word = st.text(CJK, min_size=1, max_size=5) | st.from_regex(r"[A-Za-z0-9]{1,6}", fullmatch=True) | \
    st.from_regex(r"20[0-9][0-9]年1?[1-9]月[12]?[1-9]日", fullmatch=True)
token = st.tuples(word, st.sampled_from(["", "，", "。", "、", "；", "：", " "]),
                  st.sampled_from(["", "（", "《", "“"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(token, min_size=1, max_size=60), st.integers(160, 420))
def test_nothing_is_lost_and_no_line_starts_with_a_closing_mark(tokens: list[tuple[str, str, str]],
                                                                 width: int) -> None:
    text = "".join(opening + w + mark for w, mark, opening in tokens)
    lines = lines_of(text, width)
    assert re.sub(" ", "", "".join(lines)) == text.replace(" ", "")  # spaces at a break may go, nothing else
    for before, after in zip(lines, lines[1:], strict=False):
        assert after[:1] not in CLOSING or len(before) <= 1
        assert before[-1:] not in OPENING or len(before) <= 1
