"""The inspection workspace: it opens where the inspection stands, walks the officer step by step
(always saying what is next), records what is entered through the core, and ends the inspection
only when nothing required is missing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kit_app.dto import OfficerInfo
from ui.inspection import InspectionWorkspace
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_the_workspace_walks_an_inspection(qtbot: QtBot, services: Services, runner: TaskRunner,
                                           officer: OfficerInfo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = services.sources.browse(limit=1)[0][0]
    wf = services.officers.get("45010320232")
    case = services.inspections.start(actor=officer, party=src.name, source_id=src.id, origin="routine",
                                      team=[wf.id])
    ws = InspectionWorkspace(services, runner, officer, case.id)
    qtbot.addWidget(ws)
    ws.show()
    qtbot.waitUntil(lambda: ws.status is not None, timeout=5000)
    assert ws.next.text().startswith("Next: Team: 韦芳 confirm being present")
    assert ws.pages.currentWidget() is ws.team_page and not ws.end_actions["finish_compliant"].isEnabled()
    # no number block on this kit: said at once, in the officer's words
    qtbot.waitUntil(lambda: ws.warning.isVisible(), timeout=5000)
    assert "no free document number for: 责令改正违法行为决定书" in ws.warning.text() and "kit-app" not in ws.warning.text()
    services.inspections.confirm(case.id, "45010320232", "demo1234")
    from datetime import datetime

    from tests.helpers.photos import make_jpeg

    shot = tmp_path / "IMG_0001.JPG"
    make_jpeg(shot, size=(640, 480), taken=datetime(2026, 11, 30, 9, 0), lat=22.8, lon=108.37, seed=1)
    [photo] = services.evidence.ingest(case.id, officer, [shot])
    ws.refresh()
    # the workspace goes to the first step still to do, and records it
    qtbot.waitUntil(lambda: ws.pages.currentWidget() is ws.step_page, timeout=5000)
    assert ws.step_title.text() == "Enforcement certificates shown" and ws.step_done.text() == "Not recorded yet."
    for step in ("certificates_shown", "purpose_stated", "rights_explained"):
        qtbot.waitUntil(lambda s=step: ws.pages.currentWidget() is ws.step_page and ws.current_step == s, timeout=5000)
        if step == "certificates_shown":  # the photo of the certificates being shown goes with the step
            ws.step_evidence.setCurrentIndex(ws.step_evidence.findData(photo.evidence_id))
        ws.step_btn.click()
    qtbot.waitUntil(lambda: getattr(ws, "current_step", "") == "recusal_asked", timeout=5000)
    assert services.inspections.status(case.id).steps[0]["evidence_id"] == photo.evidence_id
    ws.step_btn.click()  # the party's answer is missing: said, nothing recorded
    qtbot.waitUntil(lambda: "The party's answer is missing" in ws.message.text(), timeout=5000)
    ws.step_inputs["answer"].setText("不申请回避")
    ws.step_btn.click()
    qtbot.waitUntil(lambda: getattr(ws, "current_step", "") == "representative_identified", timeout=5000)
    ws.step_inputs["name"].setText("陆振华")
    ws.step_inputs["position"].setText("环保主管")
    ws.step_btn.click()
    # then the first required checklist item, with what to check, how and on what legal basis
    qtbot.waitUntil(lambda: ws.pages.currentWidget() is ws.item_page, timeout=5000)
    assert ws.current_item.item.id == "eia_approval"
    text = ws.item_text.toPlainText()
    assert "The project's EIA was approved" in text and "《中华人民共和国环境影响评价法》第二十二条" in text
    ws.answer_buttons["non_compliant"].setChecked(True)
    ws.note.setPlainText("未能提供环评批复")
    ws.save_btn.click()
    qtbot.waitUntil(lambda: ws.finding_box.isVisible(), timeout=5000)
    assert ws.violation.currentData() == "eia_unapproved"
    from forms.inspection import catalogue

    eia = catalogue().violations["eia_unapproved"]
    assert ws.violation_info.text().startswith(f"Penalty: {eia.penalty_basis}: ") and "裁量基准" in ws.violation_info.text()
    assert ws.next.text() == "Next: Answer " + ws.next.text().removeprefix("Next: Answer ")
    ws.finding.setPlainText("该项目未取得环评批复即已建成投产")
    ws.finding_btn.click()
    qtbot.waitUntil(lambda: ws.message.text() == "Finding recorded.", timeout=5000)
    for x in services.inspections.status(case.id).items:  # the rest as an officer would, quicker
        if x.item.required and not x.answer:
            services.inspections.answer(case.id, officer, x.item.id, "compliant")
    ws.refresh()
    qtbot.waitUntil(lambda: ws.next.text() == "Next: Everything is recorded: end the inspection.", timeout=5000)
    assert ws.progress.value() == ws.progress.maximum()
    assert not ws.end_actions["finish_compliant"].isEnabled()  # a finding is recorded
    assert ws.end_actions["propose_filing"].isEnabled()
    ws.grab().save(str(tmp_path / "workspace.png"))
    # the inspection record opens in the document editor, drafted from the inspection
    ed = ws.draft()
    qtbot.waitUntil(lambda: not ed._loading, timeout=10000)
    findings = ed.fields["findings"].value()
    assert "日常检查" in findings and "不申请回避" in findings and "该项目未取得环评批复即已建成投产" in findings
    assert ed.fields["present_name"].value() == "陆振华" and ed.fields["party_name"].value() == src.name
    assert not ed.fields["party_comment"].value()  # the party writes its own words
    ed.close()
    # the inquiry transcript starts from the questions of the violation found
    from ui.documents import DocumentEditor

    inq = DocumentEditor(services, runner, officer, case.id, "interview_record")
    qtbot.addWidget(inq)
    qtbot.waitUntil(lambda: not inq._loading, timeout=10000)
    asked = [row["q"] for row in inq.fields["qa"].value()]
    assert "该项目何时开工？目前建设到什么程度？" in asked and asked[1] == "你是否申请执法人员回避？"
    ws.end_actions["propose_filing"].trigger()
    qtbot.waitUntil(lambda: services.lifecycle.status(case.id).state == "filing", timeout=5000)
    qtbot.waitUntil(lambda: not ws.end_btn.isEnabled(), timeout=5000)


def test_photos_imported_at_an_item_are_ticked_for_it(qtbot: QtBot, services: Services, runner: TaskRunner,
                                                      officer: OfficerInfo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from tests.helpers.photos import make_jpeg

    src = services.sources.browse(limit=1)[0][0]
    case = services.inspections.start(actor=officer, party=src.name, source_id=src.id, origin="routine",
                                      team=[services.officers.get("45010320232").id])
    services.inspections.confirm(case.id, "45010320232", "demo1234")
    for step in ("certificates_shown", "purpose_stated", "rights_explained"):
        services.inspections.record_step(case.id, officer, step)
    services.inspections.record_step(case.id, officer, "recusal_asked", {"answer": "不申请回避"})
    services.inspections.record_step(case.id, officer, "representative_identified",
                                     {"name": "陆振华", "position": "环保主管"})
    earlier = make_jpeg(tmp_path / "IMG_0001.JPG", taken=datetime(2026, 11, 30, 9, 0), seed=1)
    services.evidence.ingest(case.id, officer, [earlier])  # evidence of the case, not of this item
    ws = InspectionWorkspace(services, runner, officer, case.id)
    qtbot.addWidget(ws)
    ws.show()
    qtbot.waitUntil(lambda: ws.pages.currentWidget() is ws.item_page and ws.item_evidence.count() == 1, timeout=5000)
    item = ws.current_item.item.id
    card = [make_jpeg(tmp_path / f"DSC_{i}.JPG", taken=datetime(2026, 11, 30, 10, i), seed=i + 2) for i in range(2)]
    ws.import_files(card)
    qtbot.waitUntil(lambda: ws.item_evidence.count() == 3, timeout=10000)

    def ticked() -> list[str]:
        return [ws.item_evidence.item(i).text() for i in range(ws.item_evidence.count())
                if ws.item_evidence.item(i).checkState() == Qt.CheckState.Checked]

    assert len(ticked()) == 2 and all(t.startswith("Photo　DSC_") for t in ticked())  # named, never an id
    assert "2 imported, 0 duplicates, 0 failed." in ws.message.text()
    ws.answer_buttons["compliant"].setChecked(True)
    ws.save_btn.click()
    qtbot.waitUntil(lambda: any(x.item.id == item and len(x.evidence_ids) == 2
                                for x in services.inspections.status(case.id).items), timeout=5000)
