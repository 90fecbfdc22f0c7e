"""The printed wording follows the choices made, and legal periods are checked against the rule they
come from (the rule is named when a date falls outside it)."""

from __future__ import annotations

from pathlib import Path

import pytest

import forms
from forms import FormError
from reports import render
from tests.reports.test_render import pdftotext


def flat(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return pdftotext(path).replace(" ", "").replace("\n", "")


def test_a_notice_without_a_hearing_right_says_nothing_of_one(tmp_path: Path) -> None:
    defn = forms.get("penalty_notice")
    without = flat(render(defn, defn.example | {"hearing": "无"}).pdf, tmp_path)
    assert "行政处罚事先告知书" in without and "听证" not in without  # title and body: no hearing at all
    assert "五、陈述、申辩权利" in without and "视为放弃陈述、申辩的权利" in without
    assert defn.title_for(defn.example | {"hearing": "无"}) == "行政处罚事先告知书"
    hearing = flat(render(defn, defn.example | {"hearing": "有"}).pdf, tmp_path)
    assert "行政处罚事先（听证）告知书" in hearing and "六、听证权利" in hearing
    assert "有权要求举行听证" in hearing and "无要求举行听证" not in hearing
    assert "逾期未提出陈述、申辩或者听证要求的，视为放弃上述权利" in hearing


def test_a_seizure_cites_the_item_its_facts_meet(tmp_path: Path) -> None:
    defn = forms.get("seizure_decision")
    ground = defn.field("ground").choices[0]
    text = flat(render(defn, defn.example | {"ground": ground}).pdf, tmp_path)
    assert "《环境保护主管部门实施查封、扣押办法》第四条第一款第（一）项规定的情形" in text
    assert "第（四）项" not in text
    assert "四、申请行政复议或者提起行政诉讼的途径和期限" in text


@pytest.mark.parametrize(("end", "ok"), [("2026-12-28", True), ("2026-12-29", False), ("2027-03-01", False)])
def test_a_seizure_lasts_thirty_days_at_most(end: str, ok: bool) -> None:
    defn = forms.get("seizure_decision")
    payload = defn.example | {"start_date": "2026-11-29", "end_date": end}  # 2027-03-01: 93 days
    if ok:
        defn.validate(payload)
        return
    with pytest.raises(FormError) as err:
        defn.validate(payload)
    assert err.value.field == "end_date"
    assert "行政强制法》第二十五条" in str(err.value) and "2026-12-28" in str(err.value)


def test_preserved_evidence_is_dealt_with_within_seven_working_days() -> None:
    defn = forms.get("evidence_preservation_notice")
    # issued Friday 2026-11-27: seven working days end on Tuesday 2026-12-08
    defn.validate(defn.example | {"issue_date": "2026-11-27", "handle_date": "2026-12-08"})
    with pytest.raises(FormError) as err:
        defn.validate(defn.example | {"issue_date": "2026-11-27", "handle_date": "2026-12-09"})
    assert err.value.field == "handle_date" and "第五十六条" in str(err.value) and "2026-12-08" in str(err.value)
    with pytest.raises(FormError) as err:
        defn.validate(defn.example | {"issue_date": "2026-11-27", "handle_date": "2026-11-26"})
    assert err.value.field == "handle_date"


def test_a_correction_deadline_comes_after_the_order() -> None:
    defn = forms.get("order_to_correct")
    with pytest.raises(FormError) as err:
        defn.validate(defn.example | {"issue_date": "2026-11-29", "deadline": "2026-11-28"})
    assert err.value.field == "deadline" and "作出日期" in str(err.value)
