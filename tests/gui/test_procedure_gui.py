"""The case procedure in the window: the officer's deadlines at login, the procedure dialog's next
steps (each refused step with its rule), a step taken through its form and recorded by the core."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pytestqt.qtbot import QtBot

from kit_app.dto import OfficerInfo
from ui.main_window import MainWindow
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_deadlines_at_login_and_steps_through_the_dialog(qtbot: QtBot, services: Services, runner: TaskRunner,
                                                         officer: OfficerInfo) -> None:
    wf = services.officers.get("45010320232")
    urgent = services.cases.create(party="南宁市绿源化工有限公司", title="夜间偷排", actor=officer,
                                   officer_ids=[wf.id], discovered_on=date.today() - timedelta(days=40))
    services.cases.create(party="测试当事人", title="新线索", actor=officer)
    w = MainWindow(services, runner, officer)
    qtbot.addWidget(w)
    w.show()
    # an overdue filing decision brings the officer to the list at login
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.deadlines, timeout=5000)
    pane = w.deadlines
    assert pane.model.rowCount() == 2 and "overdue: 1," in pane.summary.text()
    assert pane.model.index(0, 2).data() == urgent.number and "overdue by" in pane.model.index(0, 0).data()
    assert w.nav.item(4).text() == "My deadlines (1)"

    # the officer's view: filing is the agency head's step
    dlg = w.cases.open_procedure(urgent.id, urgent.number)
    qtbot.waitUntil(lambda: dlg.status is not None, timeout=5000)
    assert dlg.stage.text() == "Stage: Filing for approval" and not dlg.buttons
    assert "Approve filing（Agency head）" in dlg.findChild(type(dlg.stage), "others_steps").text()
    dlg.close()

    # the agency head: approving needs evidence first, then goes through
    head = services.officers.login("45010320001", "demo1234")
    hw = MainWindow(services, runner, head)
    qtbot.addWidget(hw)
    hd = hw.cases.open_procedure(urgent.id, urgent.number)
    qtbot.waitUntil(lambda: hd.status is not None, timeout=5000)
    why = hd.findChild(type(hd.stage), "why_approve_filing")
    assert why is not None and "the case has no evidence yet" in why.text()
    services.evidence.add_physical(urgent.id, officer, seal_no="GX-9", description="废水样品一瓶")
    hd.refresh()
    qtbot.waitUntil(lambda: "approve_filing" in hd.buttons, timeout=5000)
    # a step that needs a reason says so, in the dialog, and records nothing
    hd.buttons["refuse_filing"].click()
    step = next(c for c in hd.children() if c.__class__.__name__ == "ActionDialog")
    step.buttons.accepted.emit()
    assert step.error.isVisible() and "Give the reason" in step.error.text()
    step.reject()
    hd.buttons["approve_filing"].click()
    step = [c for c in hd.children() if c.__class__.__name__ == "ActionDialog"][-1]
    step.buttons.accepted.emit()
    qtbot.waitUntil(lambda: hd.status is not None and hd.status.state == "investigating", timeout=5000)
    assert "Approve filing" in hd.history.toPlainText() and head.name in hd.history.toPlainText()
    assert services.lifecycle.status(urgent.id).state == "investigating"
    pane.refresh()
    qtbot.waitUntil(lambda: "overdue: 0," in pane.summary.text(), timeout=5000)


def test_a_case_that_no_longer_gathers_evidence_offers_no_import(qtbot: QtBot, services: Services,
                                                                 runner: TaskRunner, officer: OfficerInfo) -> None:
    done = services.cases.create(party="南宁市绿源化工有限公司", title="重复线索", actor=officer)
    head = services.officers.login("45010320001", "demo1234")
    services.lifecycle.act(done.id, "refuse_filing", head, reason="与已立案案件重复")
    w = MainWindow(services, runner, officer)
    qtbot.addWidget(w)
    w.nav.setCurrentRow(2)
    qtbot.waitUntil(lambda: w.cases.model.rowCount() == 1, timeout=5000)
    w.cases.view.selectRow(0)
    ev = w.cases.evidence
    qtbot.waitUntil(lambda: not ev.import_files_btn.isEnabled(), timeout=5000)
    assert "the case is at Not filed" in ev.import_files_btn.toolTip() and not ev.physical_btn.isEnabled()
    assert "Not filed" in ev.detail.toPlainText()

