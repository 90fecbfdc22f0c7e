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


WORDING = {  # what each type must print, whatever is filled in: its legal wording and its fixed fields
    "case_approval": ["发现日期", "立案日期", "承办人意见：", "承办机构负责人审核意见：", "机关负责人审批意见：",
                      "承办人（签名）：", "承办机构负责人（签名）：", "机关负责人（签名）："],
    "inspection_record": ["执法证号", "有权申请回避。你是否申请回避？", "答：不申请回避。"],
    "interview_record": ["执法证号", "你听清楚了吗？是否申请回避？", "答：听清楚了，不申请回避。"],
    "readings_record": ["监测方法", "HJ57—2017", "执行标准", "标准限值", "二氧化硫200mg/m³", "工况"],
    "evidence_list": ["证据来源", "本机关制作", "以下空白"],
    "seizure_list": ["状况", "运行中", "以下空白", "本文书一式两份，一份交当事人，一份附卷。"],
    "penalty_notice": ["《中华人民共和国行政处罚法》第四十四条、第四十五条", "五日内"],
    "seizure_decision": ["六十日内", "六个月内", "最长不超过三十日"],
    "order_to_correct": ["六十日内", "六个月内", "四、申请行政复议或者提起行政诉讼的途径和期限"],
    "evidence_preservation_notice": ["《中华人民共和国行政处罚法》第五十六条", "七日内"],
    "penalty_decision": ["一、违法事实和证据", "二、陈述、申辩和听证情况", "以《行政处罚事先（听证）告知书》（南环罚告〔2026〕12号）告知",
                         "三、行政处罚的依据和种类", "四、履行方式和期限", "罚款人民币壹拾伍万元整（¥150,000.00）",
                         "第七十二条第一款第一项", "每日按罚款数额的百分之三加处罚款", "六十日内", "六个月内",
                         "本决定不停止执行", "申请人民法院强制执行"],
    "no_penalty_decision": ["属于初次违法且危害后果轻微并及时改正。根据《中华人民共和国行政处罚法》第三十三条第一款的规定",
                            "决定对你（单位）不予行政处罚", "第三十三条第三款", "进行了教育", "六十日内"],
    "seizure_release_decision": ["《中华人民共和国行政强制法》第二十八条第一款第（三）项", "解除对下列设施"],
    "seizure_extension_notice": ["经本机关负责人张局长批准", "第二十五条", "延长至2027年1月20日"],
    "preservation_decision": ["第五十六条", "送交鉴定", "以下空白"],
    "hearing_notice": ["第六十三条、第六十四条", "有权申请回避", "委托一至二人代理", "视为放弃听证权利"],
    "hearing_transcript": ["听证主持人", "书记员", "最后陈述"],
    "legal_review_opinion": ["法制审核意见书", "审查人（签名）：", "机关负责人（签名）："],
    "collective_discussion": ["重大案件集体讨论笔录", "讨论决定"],
    "closing_approval": ["结案情形", "执行情况", "承办机构负责人（签名）："],
    "service_address_confirmation": ["自行承担由此可能产生的法律后果", "电子送达"],
    "case_transfer": ["南宁市公安局青秀分局：", "并将处理结果告知我局"],
    "production_restriction_decision": ["责令限制生产决定书", "不得恢复生产", "向社会公开"],
    "on_the_spot_penalty": ["当场处以罚款人民币贰仟元整（¥2,000.00）", "十五日内"],
    "daily_penalty_decision": ["第五十九条", "共10日", "贰拾万元整×10日", "合计罚款人民币贰佰万元整（¥2,000,000.00）"],
    "payment_reminder": ["第三十五条、第五十四条", "壹拾捌万元整（¥180,000.00）", "陈述和申辩", "申请人民法院强制执行"],
    "enforcement_application": ["被申请人", "第五十三条、第五十五条", "此致", "申请人负责人（签名）："],
    "inspection_checklist": ["检查内容", "检查结果", "厂界东侧发现暗管", "以下空白", "被检查人（签名）："],
    "sampling_record": ["GXQX-2026-001", "封条编号", "以下空白", "采样人员（签名）："],
}


@pytest.mark.parametrize("type_id", sorted(WORDING))
def test_each_type_prints_its_fixed_wording(type_id: str, tmp_path: Path) -> None:
    defn = forms.get(type_id)
    text = flat(render(defn, defn.example).pdf, tmp_path)
    for words in WORDING[type_id]:
        assert words.replace(" ", "") in text, words


def test_every_page_of_a_photo_sheet_is_signed(tmp_path: Path) -> None:
    defn = forms.get("photo_evidence")
    photos = [defn.example["photos"][0] | {"caption": f"照片说明 {i}"} for i in range(5)]
    res = render(defn, defn.example | {"photos": photos})
    path = tmp_path / "sheet.pdf"
    path.write_bytes(res.pdf)
    assert res.pages == 3
    for page in range(1, 4):
        text = pdftotext(path, page).replace(" ", "")
        assert "当事人（签名）：" in text and "拍摄人（签名）：" in text, page


def test_a_decision_without_a_fine_says_nothing_of_paying_one(tmp_path: Path) -> None:
    defn = forms.get("penalty_decision")
    text = flat(render(defn, defn.example | {"fine": None, "penalty": "1. 警告。"}).pdf, tmp_path)
    assert "自收到本决定书之日起履行本决定" in text and "加处罚款" not in text and "¥" not in text
    with pytest.raises(FormError) as err:  # decided before the party was told: refused
        defn.validate(defn.example | {"issue_date": "2026-12-01"})
    assert err.value.field == "issue_date"


PARTY = ("当事人", "被检查人", "被询问人", "受送达人")


@pytest.mark.parametrize("type_id", sorted(forms.definitions()))
def test_every_party_signature_has_a_place_for_a_refusal(type_id: str, tmp_path: Path) -> None:
    """Wherever the party signs, a refusal (its reason and witness) can be recorded and is printed."""
    defn = forms.get(type_id)
    for block in defn.layout:
        if block["block"] != "signatures":
            continue
        party = [i for i, line in enumerate(block["lines"]) if line.startswith(PARTY)]
        if not party:
            continue
        how = block.get("signing")
        assert how and how["party"] == party[0], type_id
        refused = {"status": "refused" if "refused" in defn.field(how["field"]).signing_statuses() else "left",
                   "reason": "不同意", "witness": "王五"}
        extra = {"method": "留置送达"} if refused["status"] == "left" else {}
        text = flat(render(defn, defn.example | {how["field"]: refused} | extra).pdf, tmp_path)
        assert "不同意" in text and "见证人王五" in text, type_id


@pytest.mark.parametrize(("type_id", "change", "field", "rule"), [
    ("on_the_spot_penalty", {"fine": 3500}, "fine", "第五十一条"),
    ("on_the_spot_penalty", {"party_kind": "公民", "fine": 500}, "fine", "二百元以下"),
    ("daily_penalty_decision", {"days": 11}, "days", "10"),
    ("daily_penalty_decision", {"total": 1900000}, "total", "2000000"),
    ("hearing_notice", {"hearing_time": "2026-12-13T09:30"}, "hearing_time", "七日前"),
    ("payment_reminder", {"deadline": "2027-06-20"}, "deadline", "第五十四条"),
    ("enforcement_application", {"issue_date": "2027-06-20"}, "issue_date", "十日后"),
    ("production_restriction_decision", {"end_date": "2027-06-30"}, "end_date", "三个月"),
    ("seizure_extension_notice", {"new_end": "2027-02-10"}, "new_end", "第二十五条"),
    ("preservation_decision", {"issue_date": "2026-12-09"}, "issue_date", "七个工作日"),
])
def test_limits_the_law_sets_are_refused_by_name(type_id: str, change: dict[str, object], field: str,
                                                  rule: str) -> None:
    defn = forms.get(type_id)
    defn.validate(defn.example)  # the example is within the law
    with pytest.raises(FormError) as err:
        defn.validate(defn.example | change)
    assert err.value.field == field and rule in str(err.value), str(err.value)
