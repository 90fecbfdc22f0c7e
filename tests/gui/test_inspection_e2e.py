"""A whole inspection, offline, through the real application: two officers, a 双随机 task, the
checklists, a photo from the simulated camera and a reading from the simulated probe at their item,
a finding, the record and a Q&A transcript the party refuses to sign before a witness, a 责令改正
served on the spot, the case filed by the agency head — and ``kit-app verify`` passes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kit_app.db import Store
from kit_app.timeutil import LOCAL_TZ, utcnow
from tests.helpers import inspection_run as run
from tests.helpers.sim import simulator
from ui.app import Application

pytestmark = pytest.mark.gui


@pytest.fixture
def exits(kit_qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    codes: list[int] = []
    monkeypatch.setattr(kit_qapp, "exit", lambda code=0: codes.append(code))
    return codes


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return "".join(out.split())


def test_a_whole_inspection_offline(qtbot: QtBot, kit_qapp: QApplication, demo_store: Store,
                                    exits: list[int]) -> None:
    data_dir = demo_store.data_dir
    with simulator("nmea", "--rate", "5") as gps, simulator("modbus", "--model", "generic-ph") as probe:
        task = run.set_up(data_dir, "sim:640x360@25", probe, gps)
        kit = Application(kit_qapp, data_dir, demo=False, lang="zh_CN")
        kit.start()
        officer = run.Officer()
        try:
            got = run.run(kit, task["party"], officer)
            services, case_id = kit.services, got["case_id"]
            assert services is not None
            # the case is filed, each step by whom the procedure names
            life = services.lifecycle.status(case_id)
            assert life.state == "investigating"
            steps = [(e.action, e.actor) for e in life.history]
            assert ("propose_filing", "李明") in steps and ("approve_filing", "黄志远") in steps
            # the inspection: its task, its team (both confirmed), the evidence taken at the item
            st = services.inspections.status(case_id)
            assert st.origin == "random" and st.origin_ref == run.TASK
            assert [(m["name"], m["confirmed"]) for m in st.team] == [("李明", True), ("韦芳", True)]
            at = next(x for x in st.items if x.item.id == run.TAKEN_AT)
            kinds = sorted(services.evidence.show(e)["kind"] for e in at.evidence_ids)
            assert at.answer == "non_compliant" and kinds == ["instrument_reading", "photo"]
            [finding] = st.findings
            assert finding["violation_id"] == "water_exceed"
            photo = next(services.evidence.show(e) for e in at.evidence_ids
                         if services.evidence.show(e)["kind"] == "photo")
            collected = photo["custody"][0]
            assert [a["name"] for a in collected["actors"]] == ["李明", "韦芳"]  # the team on duty
            assert collected["place"] and 22.8 < collected["place"]["latitude"] < 22.84  # the GNSS fix
            # the papers: the refusals noted with their witness, the order numbered and served
            papers = {p.doc_type: p for p in got["papers"]}
            docs = {d["type"]: d for d in services.documents.list_for_case(case_id)}
            assert set(docs) == set(papers) == {"inspection_record", "interview_record", "order_to_correct",
                                               "service_receipt", "photo_evidence", "readings_record",
                                               "case_approval"}
            record = pdf_text(services.documents.pdf_path(docs["inspection_record"]["id"]))
            assert "当事人拒绝签名，理由：对检测结果有异议。" in record and "见证人覃海燕（长湖路社区居委会工作人员）" in record
            assert "不申请回避" in record and "".join(run.TASK.split()) in record and "pH值现场检测结果为5.2" in record
            inquiry = pdf_text(services.documents.pdf_path(docs["interview_record"]["id"]))
            assert "当事人拒绝签名，理由：不愿签字。" in inquiry and "陆振华" in inquiry
            year = utcnow().astimezone(LOCAL_TZ).year
            assert docs["order_to_correct"]["number"] == f"青环责改〔{year}〕1号"
            receipt = papers["service_receipt"].issued
            assert (receipt["document_title"], receipt["document_number"]) == ("责令改正违法行为决定书",
                                                                               f"青环责改〔{year}〕1号")
            assert papers["case_approval"].issued["case_source"] == "双随机检查"
            # most of what the paper forms ask was filled in by the kit
            auto = sum(p.counts()[0] for p in papers.values())
            total = sum(p.counts()[1] for p in papers.values())
            assert auto / total >= 0.8, {p.doc_type: p.by_hand() for p in papers.values()}
            assert officer.inputs.clicks > 0 and officer.inputs.typed > 0
            number = services.cases.get(case_id).number
        finally:
            if kit.window is not None:
                kit.window.close()
            kit.shutdown()
    # and the evidence and its custody verify, from the command line
    p = subprocess.run([str(Path(sys.executable).with_name("kit-app")), "--data-dir", str(data_dir), "verify",
                        "--case", number, "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["ok"] is True
