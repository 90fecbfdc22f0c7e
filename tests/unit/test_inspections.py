"""A guided on-site inspection in the core: the team confirms with their own passwords, the opening
steps are recorded with time, the checklists chosen by the party's categories are answered, a
non-compliance becomes a finding, the record is drafted from all of it, and the inspection ends —
compliant, with an order to correct, or proposed for filing — only when nothing is missing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import forms
from kit_app.db import Store
from kit_app.errors import PermissionDenied, ValidationError
from kit_app.services.documents import DocumentService
from kit_app.services.inspections import InspectionService
from kit_app.services.lifecycle import CaseLifecycle, ProcedureError
from kit_app.services.officers import OfficerService
from kit_app.services.sources import SourceService
from kit_app.timeutil import LOCAL_TZ


@pytest.fixture
def t(demo_store: Store) -> dict[str, Any]:
    officers = OfficerService(demo_store)
    return {"store": demo_store, "svc": InspectionService(demo_store), "life": CaseLifecycle(demo_store),
            "docs": DocumentService(demo_store), "li": officers.login("45010320231", "demo1234"),
            "wf": officers.get("45010320232"), "chen": officers.get("45010020105")}


def water_source(store: Store) -> Any:
    """A listed source discharging wastewater and monitored online."""
    with store.engine.connect() as c:
        sid, air, waste, noise = c.exec_driver_sql(
            "SELECT id, cat_air, cat_waste, cat_noise FROM sources WHERE cat_water = 1 AND key_monitored = 1 "
            "ORDER BY cat_air, name LIMIT 1").one()
    expected = ["eia@1", "permit@1", "wastewater@1"] + ["waste_gas@1"] * air + ["solid_waste@1"] * waste \
        + ["noise@1"] * noise + ["online_monitoring@2", "risk@1"]
    return SourceService(store).get(sid), tuple(expected)


def opening(t: dict[str, Any], cid: str) -> None:
    svc, li = t["svc"], t["li"]
    for step in ("certificates_shown", "purpose_stated", "rights_explained"):
        svc.record_step(cid, li, step)
    svc.record_step(cid, li, "recusal_asked", {"answer": "不申请回避"})
    svc.record_step(cid, li, "representative_identified", {"name": "陆振华", "position": "环保主管",
                                                           "relation": "员工", "phone": "0771-5551234"})


def answer_all(t: dict[str, Any], cid: str, but: dict[str, str] | None = None) -> None:
    for x in t["svc"].status(cid).items:
        if x.item.required:
            t["svc"].answer(cid, t["li"], x.item.id, (but or {}).get(x.item.id, "compliant"))


def test_an_inspection_guided_to_a_proposal_to_file(t: dict[str, Any], tmp_path: Path) -> None:
    svc, life, li = t["svc"], t["life"], t["li"]
    src, lists = water_source(t["store"])
    with pytest.raises(ValidationError, match="two officers at least"):
        svc.start(actor=li, party=src.id, source_id=src.id, origin="routine")
    with pytest.raises(ValidationError, match="task and draw record"):
        svc.start(actor=li, party=src.id, source_id=src.id, origin="random", team=[t["wf"].id])
    case = svc.start(actor=li, party=src.name, source_id=src.id, origin="random", team=[t["wf"].id],
                     origin_ref="2026年第四季度双随机抽查 第12号（抽取记录 SJ-450103-2026-4-012）")
    cid = case.id
    st = svc.status(cid)
    assert life.status(cid).state == "inspecting" and case.status == "inspecting"
    assert st.checklists == lists and "wastewater@1" in lists and "online_monitoring@2" in lists
    assert st.required >= 25 and st.answered == 0 and [m["confirmed"] for m in st.team] == [True, False]
    assert st.next_step.startswith("Team: 韦芳 confirm being present")
    # no deadline runs before something is found
    assert [d.id for d in life.deadlines(cid)] == []

    # the second officer confirms with their own password; a stranger cannot
    with pytest.raises(PermissionDenied, match="not on this inspection's team"):
        svc.confirm(cid, "45010020105", "demo1234")
    svc.confirm(cid, "45010320232", "demo1234")
    assert svc.status(cid).next_step == "Record: Enforcement certificates shown."
    with pytest.raises(ValidationError, match="The party's answer is missing"):
        svc.record_step(cid, li, "recusal_asked")
    opening(t, cid)
    assert svc.status(cid).next_step.startswith("Answer ")

    # evidence taken at the item, and a non-compliance with its finding
    photo = t["docs"].evidence.add_physical(cid, li, seal_no="GX-1", description="总排口水样一瓶")
    answer_all(t, cid, but={"ww_no_hidden": "non_compliant"})
    svc.answer(cid, li, "ww_no_hidden", "non_compliant", note="厂界东侧发现暗管", evidence_ids=[photo])
    with pytest.raises(ValidationError, match="Say why"):
        svc.answer(cid, li, "ww_standard", "could_not_check")
    st = svc.status(cid)
    assert st.answered_required == st.required
    assert st.missing == ("Record the finding for: No hidden pipes, seepage wells or pits.",)
    with pytest.raises(ProcedureError, match="still to do: Record the finding"):
        life.act(cid, "propose_filing", li)
    fid = svc.add_finding(cid, li, "厂界东侧围墙外发现一根直径约10厘米的暗管，正在排放黄褐色废水", item_id="ww_no_hidden",
                          evidence_ids=[photo])
    assert svc.status(cid).findings[0]["violation_id"] == "water_evasion" and fid
    assert svc.status(cid).missing == ()
    # now the filing period runs (from the day of the inspection)
    assert [d.id for d in life.deadlines(cid)] == ["filing"]
    refused = next(a for a in life.status(cid, li).actions if a.id == "finish_compliant")
    assert not refused.allowed and "1 findings are recorded" in (refused.why_not or "")

    # the record drafts itself; it fits its form and renders
    payload = svc.draft_record(cid)
    assert payload["party_name"] == src.name and payload["present_name"] == "陆振华" and payload["recorder"] == "韦芳"
    assert [o["name"] for o in payload["officers"]] == ["李明", "韦芳"]
    text = payload["findings"]
    assert "双随机抽查" in text and "不申请回避" in text and "暗管" in text and "违反" not in text  # facts, no legal conclusion
    assert payload["legal_rep"] == (src.legal_rep or "") and "年" in text.split("出示执法证件")[0]
    assert "废水：" in text and "不符合（厂界东侧发现暗管）" in text
    forms.get("inspection_record").validate(payload)

    # the case's other documents fill from the inspection: facts, provisions, the interviewee, the source
    docs = t["docs"]
    order = docs.prefill(cid, "order_to_correct", li)
    assert "发现：1. 厂界东侧围墙外发现一根直径约10厘米的暗管" in order["facts"] and "物证" not in order["facts"]
    assert "等证据为证" in order["facts"] and "违反" not in order["facts"]
    from forms.inspection import catalogue

    water = catalogue().violations["water_evasion"]
    assert water.breaches in order["provisions"] and water.penalty_basis in order["provisions"]
    # one case's papers cite the same provisions: the notice, the decision and the order
    notice, decision = docs.prefill(cid, "penalty_notice", li), docs.prefill(cid, "penalty_decision", li)
    breach = f"违反了{water.breaches}的规定"
    assert breach in notice["provisions"] and breach in decision["provisions"] and breach in order["provisions"]
    assert water.penalty_basis in notice["penalty"] and water.penalty_basis in decision["provisions"]
    assert notice["facts"] == decision["facts"] == order["facts"]
    sheet = docs.prefill(cid, "inspection_checklist", li)  # the checklist as a form, every item with its result
    assert len(sheet["items"]) == svc.status(cid).total and {r["result"] for r in sheet["items"]} >= {"符合", "不符合"}
    assert any(r["note"] == "厂界东侧发现暗管" and r["result"] == "不符合" for r in sheet["items"])
    forms.get("inspection_checklist").validate(sheet)
    approval = docs.prefill(cid, "case_approval", li)
    assert approval["case_source"] == "双随机检查" and src.name in approval["summary"]
    assert approval["discovery_date"] == svc.status(cid).started_at.astimezone(LOCAL_TZ).date().isoformat()
    inquiry = docs.prefill(cid, "interview_record", li)
    assert (inquiry["interviewee"], inquiry["position"], inquiry["phone"]) == ("陆振华", "环保主管", "0771-5551234")
    assert inquiry["case_title"] == f"{src.name}涉嫌{water.title}"
    assert inquiry["place"] == svc.status(cid).place == src.address  # where the inspection took place
    assert "document_title" not in docs.prefill(cid, "service_receipt", li)  # nothing numbered issued yet

    ev = life.act(cid, "propose_filing", li)
    assert ev.to_state == "filing"
    with pytest.raises(PermissionDenied, match="has ended"):
        svc.answer(cid, li, "ww_standard", "compliant")


def test_a_compliant_inspection_and_one_ending_with_an_order(t: dict[str, Any]) -> None:
    svc, life, li = t["svc"], t["life"], t["li"]
    src, _lists = water_source(t["store"])
    ok = svc.start(actor=li, party=src.name, source_id=src.id, origin="routine", team=[t["wf"].id])
    svc.confirm(ok.id, "45010320232", "demo1234")
    opening(t, ok.id)
    refused = next(a for a in life.status(ok.id, li).actions if a.id == "finish_compliant")
    assert not refused.allowed and "Answer" in (refused.why_not or "")
    answer_all(t, ok.id)
    ev = life.act(ok.id, "finish_compliant", li)
    assert ev.to_state == "closed" and life.status(ok.id).outcome == "compliant"

    order = svc.start(actor=li, party=src.name, source_id=src.id, origin="follow_up", team=[t["wf"].id])
    svc.confirm(order.id, "45010320232", "demo1234")
    svc.record_step(order.id, li, "certificates_shown")
    svc.record_step(order.id, li, "purpose_stated")
    svc.record_step(order.id, li, "rights_explained")
    svc.record_step(order.id, li, "recusal_asked", {"answer": "不申请回避"})
    svc.record_step(order.id, li, "party_absent", {"witness": "王五（村委会主任）", "reason": "负责人外出"})
    answer_all(t, order.id, but={"permit_ledger": "non_compliant"})
    svc.add_finding(order.id, li, "未按排污许可证规定记录环境管理台账", item_id="permit_ledger")
    with pytest.raises(ProcedureError, match="issue the 责令改正违法行为决定书 first"):
        life.act(order.id, "finish_with_order", li)
    t["docs"].numbers.add_block(agency_code=order.agency_code, doc_type="order_to_correct", year=2026, prefix="青环责改",
                        first=1, last=5)
    t["docs"].issue(order.id, li, "order_to_correct", forms.get("order_to_correct").example | {"deadline": "2026-12-31"})
    life.act(order.id, "finish_with_order", li)
    st = life.status(order.id)
    assert st.state == "closed" and st.outcome == "correction_order"
    assert [d.id for d in st.deadlines if d.met_on is None] == ["correction"]  # the party's deadline to watch
    assert "当事人不在场，见证人王五（村委会主任）在场见证" in svc.draft_record(order.id)["findings"]


def test_only_the_team_records_and_only_known_items(t: dict[str, Any]) -> None:
    svc, li = t["svc"], t["li"]
    src, _lists = water_source(t["store"])
    case = svc.start(actor=li, party=src.name, source_id=src.id, origin="complaint", team=[t["wf"].id],
                     origin_ref="12369 投诉 2026-1130-0007")
    chen = t["chen"]
    with pytest.raises(PermissionDenied, match="陈静 is not on this inspection's team"):
        svc.record_step(case.id, chen, "certificates_shown")
    with pytest.raises(ValidationError, match="not on this inspection's checklists"):
        svc.answer(case.id, li, "wg_boiler", "compliant")  # a waste gas item: the source emits no waste gas
    with pytest.raises(ValidationError, match="is not this inspection's"):
        svc.answer(case.id, li, "eia_approval", "compliant", evidence_ids=["00000000-0000-7000-8000-000000000000"])
    with pytest.raises(ValidationError, match="Answer with one of"):
        svc.answer(case.id, li, "eia_approval", "maybe")
    svc.record_step(case.id, li, "certificates_shown")
    import sqlite3

    con = sqlite3.connect(t["store"].db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE inspection_steps SET at = '2026-01-01 00:00:00'")
    con.close()
    assert json.loads(json.dumps(svc.status(case.id).steps[0]["details"])) == {}


def test_the_command_line_walks_an_inspection(t: dict[str, Any], capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from kit_app.cli import main

    src, _lists = water_source(t["store"])
    d = ["--data-dir", str(t["store"].data_dir)]

    def run(*args: str) -> tuple[int, Any]:
        code = main([*d, *args, "--json"])
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else None

    code, made = run("inspection", "start", "--party", src.id, "--origin", "routine", "--team", "45010320232",
                     "--officer", "45010320231")
    assert code == 0, made
    cid = made["id"]
    monkeypatch.setattr("sys.stdin", io.StringIO("demo1234\n"))
    assert run("inspection", "confirm", cid, "--cert", "45010320232")[0] == 0
    code, out = run("inspection", "finish", cid, "--outcome", "compliant", "--officer", "45010320231")
    assert code == 1 and "still to do: Record: Enforcement certificates shown" in out["error"]
    for step in ("certificates_shown", "purpose_stated", "rights_explained"):
        assert run("inspection", "step", cid, step, "--officer", "45010320231")[0] == 0
    assert run("inspection", "step", cid, "recusal_asked", "--set", "answer=不申请回避", "--officer", "45010320231")[0] == 0
    assert run("inspection", "step", cid, "representative_identified", "--set", "name=陆振华", "--set", "position=环保主管",
               "--officer", "45010320231")[0] == 0
    code, st = run("inspection", "show", cid)
    assert code == 0 and st["answered"] == 0 and st["next_step"].startswith("Answer ")
    for x in st["items"]:
        if x["item"]["required"]:
            assert run("inspection", "answer", cid, x["item"]["id"], "compliant", "--officer", "45010320231")[0] == 0
    code, ev = run("inspection", "finish", cid, "--outcome", "compliant", "--officer", "45010320231")
    assert code == 0 and ev["to_state"] == "closed"


def test_the_inspection_travels_inside_its_case(t: dict[str, Any]) -> None:
    from sqlalchemy import delete, select

    from kit_app.db.models import SyncOutbox
    from kit_app.sync.snapshot import snapshot

    svc, li = t["svc"], t["li"]
    src, _lists = water_source(t["store"])
    case = svc.start(actor=li, party=src.name, source_id=src.id, origin="alarm", team=[t["wf"].id],
                     origin_ref="COD 超标报警 2026-11-30 03:00")
    with t["store"].write_session() as s:
        s.execute(delete(SyncOutbox))
    svc.record_step(case.id, li, "certificates_shown")
    svc.answer(case.id, li, "ww_standard", "non_compliant", note="总排口 COD 186 mg/L")
    svc.add_finding(case.id, li, "总排口废水化学需氧量超标", item_id="ww_standard")
    with t["store"].session() as s:
        queued = set(s.scalars(select(SyncOutbox.entity_id).where(SyncOutbox.entity == "case")))
        body = snapshot(s, "case", case.id)["body"]  # type: ignore[index]
    assert queued == {case.id}  # every change to the inspection queues its case
    insp = body["inspection"]
    assert body["kind"] == "inspection" and insp["origin"] == "alarm" and insp["catalogue"] == "violation_catalogue@3"
    assert [st["step"] for st in insp["steps"]] == ["certificates_shown"]
    assert insp["answers"] == [{"item_id": "ww_standard", "answer": "non_compliant", "note": "总排口 COD 186 mg/L",
                                "evidence_ids": [], "answered_by": li.id,
                                "answered_at": insp["answers"][0]["answered_at"]}]
    assert insp["findings"][0]["violation_id"] == "water_exceed"
    assert sum(m["confirmed_at"] is not None for m in insp["team"]) == 1


def test_starting_warns_of_documents_without_a_free_number(t: dict[str, Any]) -> None:
    svc, li = t["svc"], t["li"]
    src, _lists = water_source(t["store"])
    case = svc.start(actor=li, party=src.name, source_id=src.id, origin="routine", team=[t["wf"].id])
    warning = svc.number_warning(case.id) or ""
    assert "责令改正违法行为决定书、先行登记保存证据通知书、查封（扣押）决定书" in warning and "kit-app" not in warning
    year = t["svc"].status(case.id).started_at.year
    for doc_type, prefix in (("order_to_correct", "青环责改"), ("evidence_preservation_notice", "青环保存")):
        t["docs"].numbers.add_block(agency_code=case.agency_code, doc_type=doc_type, year=year, prefix=prefix, first=1,
                            last=3)
    assert "责令改正" not in (svc.number_warning(case.id) or "") and "查封" in (svc.number_warning(case.id) or "")
    t["docs"].numbers.add_block(agency_code=case.agency_code, doc_type="seizure_decision", year=year, prefix="青环查封",
                        first=1, last=3)
    assert svc.number_warning(case.id) is None


def test_the_inquiry_starts_from_the_findings_questions(t: dict[str, Any]) -> None:
    import forms

    svc, li = t["svc"], t["li"]
    src, _lists = water_source(t["store"])
    case = svc.start(actor=li, party=src.name, source_id=src.id, origin="routine", team=[t["wf"].id])
    assert svc.inquiry_questions(case.id) == []
    svc.add_finding(case.id, li, "暗管排放", item_id="ww_no_hidden")
    svc.add_finding(case.id, li, "超标排放", item_id="ww_standard")
    qs = svc.inquiry_questions(case.id)
    cat = forms.inspection.catalogue().violations
    assert qs[:2] == ["我们是生态环境部门的执法人员，这是我们的执法证件，你是否看清楚？", "你是否申请执法人员回避？"]
    assert cat["water_evasion"].questions[1] in qs and cat["water_exceed"].questions[1] in qs
    assert len(qs) == len(set(qs)) and qs[-1] == "你还有什么需要补充说明的吗？"
