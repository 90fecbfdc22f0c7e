"""The case lifecycle, enforced in the core: a case walked from 立案 to 归档 with the clock moved
through its deadlines — across the 2026 National Day holiday week and its adjusted working day —
each step refused until its rule holds, and refused with the rule and its law."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine

import forms
from kit_app.db import Store
from kit_app.errors import PermissionDenied
from kit_app.services.casefile import CaseFileService
from kit_app.services.cases import CaseService
from kit_app.services.documents import DocumentService
from kit_app.services.lifecycle import CaseLifecycle, ProcedureError
from kit_app.services.officers import OfficerService
from kit_app.timeutil import LOCAL_TZ
from kit_app.workdays import add_workdays


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=LOCAL_TZ)


@pytest.fixture
def team(demo_store: Store) -> dict[str, Any]:
    officers = OfficerService(demo_store)
    return {
        "store": demo_store,
        "li": officers.login("45010320231", "demo1234"),  # officer
        "wf": officers.login("45010320232", "demo1234"),  # officer
        "chen": officers.login("45010020105", "demo1234"),  # reviewer
        "head": officers.login("45010320001", "demo1234"),  # agency head
        "life": CaseLifecycle(demo_store),
        "docs": DocumentService(demo_store),
    }


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(at("2026-09-28"), tick=False) as traveller:
        yield traveller


def refused(life: CaseLifecycle, case: str, action: str, actor: Any, match: str, **kw: Any) -> None:
    with pytest.raises(ProcedureError, match=match):
        life.act(case, action, actor, **kw)


def deadline(life: CaseLifecycle, case: str, rule: str) -> Any:
    return next(d for d in life.deadlines(case) if d.id == rule)


def issue(t: dict[str, Any], case: str, doc_type: str, **changes: Any) -> Any:
    example = forms.get(doc_type).example | changes
    return t["docs"].issue(case, t["li"], doc_type, example)


def test_a_case_from_filing_to_archive_across_a_holiday_week(team: dict[str, Any], clock: Any) -> None:
    t, life = team, team["life"]
    li, wf, chen, head = t["li"], t["wf"], t["chen"], t["head"]
    case = CaseService(t["store"]).create(party="南宁市绿源化工有限公司", title="涉嫌超标排放", actor=li,
                                          officer_ids=[wf.id], discovered_on=date(2026, 9, 25))
    cid = case.id
    st = life.status(cid, head)
    assert st.state == "filing" and st.state_label == "Filing for approval" and [e.action for e in st.history] == ["open"]
    # 15 calendar days from discovery end on Saturday 10 October — a working day in 2026 (调休)
    filing = deadline(life, cid, "filing")
    assert filing.due == date(2026, 10, 10) and not filing.estimated and filing.days_left == 12

    # 立案: the agency head's, and only with evidence
    refused(life, cid, "approve_filing", li, "is for Agency head; 李明 does not hold that role")
    refused(life, cid, "approve_filing", head, "the case has no evidence yet.*第十八条")
    assert not next(a for a in life.status(cid, head).actions if a.id == "approve_filing").allowed
    t["docs"].evidence.add_physical(cid, li, seal_no="GX-0001", description="废水样品一瓶（500 mL）")
    ev = life.act(cid, "approve_filing", head)
    assert ev.to_state == "investigating" and ev.actor == head.name and ev.actor_cert == head.cert_no
    assert deadline(life, cid, "filing").met_on == date(2026, 9, 28)
    assert deadline(life, cid, "decision").due == date(2026, 12, 28)  # 90 days from filing

    # 调查终结 by an investigator; 案件审查 by someone who did not investigate (查处分离)
    refused(life, cid, "conclude_investigation", chen, "is for Officer")
    life.act(cid, "conclude_investigation", li)
    refused(life, cid, "start_review", li, "is for Reviewer")
    life.act(cid, "start_review", chen)

    # the review approves (查处分离) before the party is told; opinions are kept, in order
    refused(life, cid, "notify", chen, "the review has not approved the case yet")
    refused(life, cid, "approve_review", li, "is for Reviewer")
    refused(life, cid, "review_opinion", chen, "give the reason")
    life.act(cid, "review_opinion", chen, reason="事实清楚，证据确凿；建议补充企业营业执照复印件")
    life.act(cid, "approve_review", chen, reason="同意告知")

    # 告知: needs the notice; the party then has five working days — the holiday week is not counted
    refused(life, cid, "notify", chen, "issue the 行政处罚事先（听证）告知书 first")
    t["docs"].numbers.add_block(agency_code=case.agency_code, doc_type="penalty_notice", year=2026, prefix="青环罚告",
                        first=1, last=10)
    issue(t, cid, "penalty_notice")
    clock.move_to(at("2026-09-29"))
    life.act(cid, "notify", chen)
    period = deadline(life, cid, "hearing_request")
    assert period.kind == "wait" and period.working and period.due == date(2026, 10, 12)
    assert period.due == add_workdays(date(2026, 9, 29), 5).day
    refused(life, cid, "decide", head, "may still make a statement or ask for a hearing until 2026-10-12",
            details={"outcome": "penalty", "fine_yuan": 50000})
    refused(life, cid, "decide", head, "choose the outcome", details={})

    # the period ends; the decision; service within seven working days
    clock.move_to(at("2026-10-13"))
    refused(life, cid, "request_hearing", li, "the period ended on 2026-10-12")
    life.act(cid, "decide", head, details={"outcome": "penalty", "fine_yuan": "50000"})
    assert life.status(cid).outcome == "penalty"
    service = deadline(life, cid, "service")
    assert service.due == add_workdays(date(2026, 10, 13), 7).day == date(2026, 10, 22)
    with pytest.raises(PermissionDenied, match="no longer collected"):
        t["docs"].evidence.add_physical(cid, li, seal_no="GX-0002", description="迟到的样品")

    # the party refuses to accept: left with a witness, then served
    refused(life, cid, "serve", li, "issue the service receipt, or record the party's refusal with a witness")
    refused(life, cid, "record_refusal", li, "give the reason", details={"witness": "王五（村委会主任）"})
    life.act(cid, "record_refusal", li, reason="当事人拒绝签收", details={"witness": "王五（村委会主任）"})
    life.act(cid, "serve", li)
    payment = deadline(life, cid, "payment")
    assert payment.due == date(2026, 10, 28) and payment.surcharge_yuan is None

    # late payment: 3 % of the fine a day
    clock.move_to(at("2026-11-02"))
    late = deadline(life, cid, "payment")
    assert late.overdue and late.days_left == -5 and late.surcharge_yuan == 7500.0
    clock.move_to(at("2027-01-30"))
    assert deadline(life, cid, "payment").surcharge_yuan == 50000.0  # never more than the fine
    refused(life, cid, "close", head, "the fine has not been recorded as paid")
    life.act(cid, "record_payment", li, details={"paid_on": "2027-01-29"})
    assert deadline(life, cid, "payment").met_on == date(2027, 1, 30)
    life.act(cid, "close", head)
    refused(life, cid, "archive", chen, "archive it from its case file")  # never without its file
    with pytest.raises(ProcedureError, match="Archive is for Reviewer、Administrator; 李明"):
        CaseFileService(t["store"]).archive(cid, li)
    filed = CaseFileService(t["store"]).archive(cid, chen)
    assert filed.event.to_state == "archived" and filed.pages >= 4
    assert [c["title"] for c in filed.contents] == ["其他证据目录", "行政处罚事先（听证）告知书"]
    kept = t["docs"].evidence.show(filed.evidence_id)
    assert kept["media_type"] == "application/pdf" and kept["custody"][0]["kind"] == "issued"
    assert kept["custody"][0]["details"]["case_file"] == "case_file v1"
    # frozen: no paper, no caption, no exclusion
    with pytest.raises(PermissionDenied, match="archived"):
        issue(t, cid, "penalty_notice")
    sample = next(i for i in t["docs"].evidence.list_for_case(cid) if i["kind"] == "physical_sample")
    with pytest.raises(PermissionDenied, match="archived"):
        t["docs"].evidence.dispose(sample["id"], li, "excluded", "x")
    st = life.status(cid, head)
    assert st.state == "archived" and st.final and st.actions == ()
    assert [e.action for e in st.history] == [
        "open", "approve_filing", "conclude_investigation", "start_review", "review_opinion", "approve_review",
        "notify", "decide", "record_refusal", "serve", "record_payment", "close", "archive"]
    assert st.history[8].details == {"witness": "王五（村委会主任）"} and st.history[8].reason == "当事人拒绝签收"
    assert st.history[7].details == {"fine_yuan": 50000.0, "outcome": "penalty"}
    refused(life, cid, "revoke", head, "not possible while the case is at Archived")


def test_the_history_is_append_only_and_travels_with_the_case(team: dict[str, Any], clock: Any) -> None:
    import sqlite3

    from kit_app.sync.snapshot import snapshot as _snapshot

    t, life = team, team["life"]
    case = CaseService(t["store"]).create(party="南宁市绿源化工有限公司", title="t", actor=t["li"])
    life.act(case.id, "refuse_filing", t["head"], reason="不属于本机关管辖")
    with t["store"].session() as s:
        snap = _snapshot(s, "case", case.id)
    assert snap is not None and snap["body"]["status"] == "not_filed"
    assert [h["action"] for h in snap["body"]["history"]] == ["open", "refuse_filing"]
    assert snap["body"]["history"][1]["reason"] == "不属于本机关管辖"
    with t["store"].session() as s:  # the outbox has the case again
        from sqlalchemy import select

        from kit_app.db.models import SyncOutbox

        assert case.id in set(s.scalars(select(SyncOutbox.entity_id).where(SyncOutbox.entity == "case")))
    con = sqlite3.connect(t["store"].db_path)
    for sql in ("UPDATE case_events SET reason = 'x'", "DELETE FROM case_events"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    con.close()


def test_suspension_stops_the_clock_and_resume_returns(team: dict[str, Any], clock: Any) -> None:
    t, life = team, team["life"]
    case = CaseService(t["store"]).create(party="南宁市绿源化工有限公司", title="t", actor=t["li"],
                                          officer_ids=[t["wf"].id])
    t["docs"].evidence.add_physical(case.id, t["li"], seal_no="S-1", description="样品")
    life.act(case.id, "approve_filing", t["head"])
    due = deadline(life, case.id, "decision").due
    refused(life, case.id, "suspend", t["head"], "give the reason")
    life.act(case.id, "suspend", t["head"], reason="等待司法鉴定结论")
    clock.move_to(at("2026-10-28"))
    assert deadline(life, case.id, "decision").due > due  # thirty days suspended are not counted
    ev = life.act(case.id, "resume", t["head"], reason="鉴定结论已出具")
    assert ev.to_state == "investigating"
    paused = deadline(life, case.id, "decision")
    assert paused.due == date(2027, 1, 26) and paused.estimated  # 2027's holidays are not published yet
    life.act(case.id, "extend_decision", t["head"], reason="案情复杂，经负责人批准延长")
    assert deadline(life, case.id, "decision").extended_days == 30


def test_an_investigator_may_not_review_their_own_case(team: dict[str, Any], clock: Any) -> None:
    from dataclasses import replace

    t, life = team, team["life"]
    both = replace(t["chen"], roles=("officer", "reviewer"))  # a reviewer who also investigated
    case = CaseService(t["store"]).create(party="南宁市绿源化工有限公司", title="t", actor=t["li"],
                                          officer_ids=[t["chen"].id])
    t["docs"].evidence.add_physical(case.id, t["li"], seal_no="S-2", description="样品")
    life.act(case.id, "approve_filing", t["head"])
    life.act(case.id, "conclude_investigation", t["li"])
    refused(life, case.id, "start_review", both, "someone who did not investigate the case")


def test_legal_review_must_approve_before_the_decision_and_may_send_back(team: dict[str, Any], clock: Any) -> None:
    t, life = team, team["life"]
    chen, head = t["chen"], t["head"]
    case = CaseService(t["store"]).create(party="南宁市绿源化工有限公司", title="t", actor=t["li"],
                                          officer_ids=[t["wf"].id])
    t["docs"].evidence.add_physical(case.id, t["li"], seal_no="S-3", description="样品")
    life.act(case.id, "approve_filing", head)
    life.act(case.id, "conclude_investigation", t["li"])
    life.act(case.id, "start_review", chen)
    life.act(case.id, "approve_review", chen)
    life.act(case.id, "refer_legal_review", chen)
    no_notice = {"outcome": "no_penalty"}
    refused(life, case.id, "decide", head, "the legal review has not approved the decision yet", details=no_notice)
    refused(life, case.id, "return_from_legal_review", chen, "give the reason")
    life.act(case.id, "return_from_legal_review", chen, reason="适用法律条款有误，请重新审查")
    assert life.status(case.id).state == "under_review"
    refused(life, case.id, "notify", chen, "the review has not approved the case yet")  # approved again first
    life.act(case.id, "approve_review", chen)
    life.act(case.id, "refer_legal_review", chen)
    life.act(case.id, "approve_legal_review", chen, reason="同意")
    assert life.act(case.id, "decide", head, details=no_notice).to_state == "decided"


def test_one_investigator_is_not_enough(team: dict[str, Any], clock: Any) -> None:
    t, life = team, team["life"]
    case = CaseService(t["store"]).create(party="南宁市绿源化工有限公司", title="t", actor=t["li"])
    t["docs"].evidence.add_physical(case.id, t["li"], seal_no="S-3", description="样品")
    life.act(case.id, "approve_filing", t["head"])
    refused(life, case.id, "conclude_investigation", t["li"], "two officers at least.*第四十二条")


def test_my_deadlines_most_urgent_first(team: dict[str, Any], clock: Any) -> None:
    t, life = team, team["life"]
    cases = CaseService(t["store"])
    old = cases.create(party="南宁市绿源化工有限公司", title="旧线索", actor=t["li"], discovered_on=date(2026, 9, 8))
    new = cases.create(party="南宁市绿源化工有限公司", title="新线索", actor=t["li"])
    other = cases.create(party="南宁市绿源化工有限公司", title="别人的", actor=t["wf"])
    mine = life.my_deadlines(t["li"])
    assert [st.case_id for st, _d in mine] == [old.id, new.id]
    assert mine[0][1].overdue and mine[0][1].days_left == -5 and not mine[1][1].overdue
    assert other.id in {st.case_id for st, _d in life.my_deadlines(t["head"])}  # the head sees every case


def test_the_cli_refuses_with_the_rule_and_lists_deadlines(team: dict[str, Any], clock: Any,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from kit_app.cli import main

    t = team
    case = CaseService(t["store"]).create(party="南宁市绿源化工有限公司", title="t", actor=t["li"])
    d = str(t["store"].data_dir)
    code = main(["--data-dir", d, "case", "transition", case.number, "--to", "investigating",
                 "--officer", "45010320001", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and "the case has no evidence yet" in out["error"] and "第十八条" in out["error"]
    code = main(["--data-dir", d, "case", "transition", case.number, "--to", "not_filed", "--reason", "重复线索",
                 "--officer", "45010320001", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["to_state"] == "not_filed"
    main(["--data-dir", d, "case", "show", case.number, "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert shown["procedure"]["state"] == "not_filed" and len(shown["procedure"]["history"]) == 2
    CaseService(t["store"]).create(party="南宁市绿源化工有限公司", title="t2", actor=t["li"],
                                   discovered_on=date(2026, 9, 28) - timedelta(days=20))
    assert main(["--data-dir", d, "deadlines", "--officer", "45010320231", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["deadline"]["id"] for r in rows] == ["filing"] and rows[0]["deadline"]["overdue"] is True
    assert main(["--data-dir", d, "deadlines", "--json"]) == 2  # whose deadlines: the officer is named


def test_what_a_step_recorded_reads_in_the_officers_words(team: dict[str, Any]) -> None:
    from kit_app.i18n import set_language

    set_language("zh_CN")  # conftest sets English back for every test
    try:
        got = team["life"].details_text({"outcome": "penalty", "fine_yuan": 50000.0, "witness": "覃海燕",
                                         "document": "01a2…", "place": ""})
    finally:
        set_language("en")
    assert got == [("处理结果", "给予行政处罚"), ("罚款金额（元）", "50000.0"), ("见证人", "覃海燕")]
