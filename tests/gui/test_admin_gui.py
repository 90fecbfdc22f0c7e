"""An administrator at work, offscreen: adds an officer who then logs in, changes roles, reserves numbers
(running out shown), saves the agency's settings — each change in the administration log."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from kit_app.errors import AuthenticationError
from ui.main_window import MainWindow
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_an_administrator_adds_an_officer_who_then_logs_in(qtbot: QtBot, services: Services,
                                                           runner: TaskRunner) -> None:
    admin_user = services.officers.login("GXADMIN001", "demo1234")
    w = MainWindow(services, runner, admin_user)
    qtbot.addWidget(w)
    w.show()
    assert w.nav.item(w.nav.count() - 1).text() == "Administration"
    pane = w.admin
    qtbot.waitUntil(lambda: pane.officers.rowCount() >= 5, timeout=5000)
    dlg = pane.add_officer()
    dlg.name.setText("覃海")
    dlg.cert.setText("45010320233")
    dlg.password.setText("first-password")
    dlg.again.setText("other-password")
    dlg.buttons.accepted.emit()
    assert "differ" in dlg.error.text() and dlg.isVisible()
    dlg.again.setText("first-password")
    dlg.buttons.accepted.emit()
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)
    assert "覃海 can now log in" in pane.message.text()
    assert services.officers.login("45010320233", "first-password").roles == ("officer",)
    qtbot.waitUntil(lambda: any(o.cert_no == "45010320233" for o in pane.officers.rows), timeout=5000)
    # deactivate them: they can no longer log in
    pane.officers_view.selectRow(next(i for i, o in enumerate(pane.officers.rows) if o.cert_no == "45010320233"))
    assert pane.active_btn.text() == "Deactivate"
    pane.active_btn.click()
    qtbot.waitUntil(lambda: "can no longer log in" in pane.message.text(), timeout=5000)
    with pytest.raises(AuthenticationError):
        services.officers.login("45010320233", "first-password")
    # numbers: a small block shows as running out
    blocks = pane.add_block()
    blocks.kind.setCurrentIndex(blocks.kind.findData("penalty_notice"))
    blocks.prefix.setText("青环罚告")
    blocks.last.setValue(5)
    blocks.buttons.accepted.emit()
    qtbot.waitUntil(lambda: pane.blocks.rowCount() == 1, timeout=5000)
    assert "Running out" in pane.low.text() and "5 left" in pane.low.text()
    # the agency's settings: a county branch of the province, chosen
    pane.agency_pick.setCurrentIndex(pane.agency_pick.findData("450103"))
    qtbot.waitUntil(lambda: "青秀" in pane.agency_fields["name"].text(), timeout=5000)
    pane.agency_fields["court"].setText("南宁市青秀区人民法院")
    pane.agency_save.click()
    qtbot.waitUntil(lambda: "saved" in pane.message.text(), timeout=5000)
    from kit_app.services.admin import AdminService

    assert AdminService(services.store).agency("450103")["court"] == "南宁市青秀区人民法院"
    qtbot.waitUntil(lambda: pane.log.rowCount() == 4, timeout=5000)
    assert [e.action for e in pane.log.rows] == ["agency.settings", "numbers.block", "officer.deactivate",
                                                 "officer.add"]


def test_an_officer_sees_no_administration(qtbot: QtBot, services: Services, runner: TaskRunner) -> None:
    li = services.officers.login("45010320231", "demo1234")
    w = MainWindow(services, runner, li)
    qtbot.addWidget(w)
    assert not hasattr(w, "admin") and not hasattr(w, "review")
    assert [w.nav.item(i).text() for i in range(w.nav.count())][-1] == "My deadlines"
