"""Field readiness in the window, offscreen: the pre-flight check with a simulated instrument and GNSS
receiver (one open in the window, one asked by the check) and the administrator's access log —
a failed sign-in and an action the core refused shown, filtered by what and who."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from pytestqt.qtbot import QtBot

from devices.registry import DeviceConfig, DeviceConfigs
from kit_app.errors import AuthenticationError
from kit_app.timeutil import local_today
from tests.helpers.sim import simulator
from ui.main_window import MainWindow
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


def _shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    if d := os.environ.get("KIT_SHOTS"):
        widget.grab().save(os.path.join(d, name))


def test_the_pre_flight_check_in_the_window(qtbot: QtBot, services: Services, runner: TaskRunner) -> None:
    officer = services.officers.login("45010320231", "demo1234")
    cal = (local_today() - timedelta(days=30)).isoformat()
    with simulator("nmea", "--rate", "5") as gps, simulator("hj212", "--rate", "5") as inst:
        DeviceConfigs(services.store.data_dir).save([
            DeviceConfig("GNSS", "serial", gps, protocol="nmea"),
            DeviceConfig("烟气分析仪", "serial", inst, protocol="hj212", calibrated=cal),
            DeviceConfig("摄像机", "camera", "sim:640x480@10"),
        ])
        w = MainWindow(services, runner, officer)
        qtbot.addWidget(w)
        w.show()
        w.hub.manager.reload()
        w.hub.manager.open("GNSS")  # open in the window: the check takes its state, not the port
        qtbot.waitUntil(lambda: w.hub.gps.current() is not None and "time" in w.hub.gps.current(), timeout=10000)
        dlg = w.preflight()
        qtbot.waitUntil(lambda: dlg.report is not None, timeout=30000)
        by = {c.key: c for c in dlg.report.checks}
        assert by["gnss"].level == "green" and by["clock"].level == "green"
        assert by["instruments"].level == "green" and "烟气分析仪: answered" in by["instruments"].summary
        assert by["camera"].level == "green"
        assert by["numbers"].level == "red" and dlg.report.level == "red"
        assert "Not ready" in dlg.verdict.text() and dlg.model.rowCount() == 10
        assert dlg.model.data(dlg.model.index(0, 0)).startswith("✔")
        _shot(dlg, "preflight.png")
        dlg.close()
        w.hub.manager.shutdown()


def test_the_access_log_for_administrators(qtbot: QtBot, services: Services, runner: TaskRunner) -> None:
    with pytest.raises(AuthenticationError):
        services.officers.login("45010320232", "wrong-password")
    reviewer = services.officers.login("45010020105", "demo1234")
    # a refused action, through the window's own task runner: recorded by the core's refusal
    w0 = MainWindow(services, runner, reviewer)
    qtbot.addWidget(w0)
    failed: list[BaseException] = []
    runner.run(lambda: services.cases.create(party="南宁市绿源化工有限公司", title="t", actor=reviewer), None,
               failed.append)
    qtbot.waitUntil(lambda: bool(failed), timeout=5000)
    admin = services.officers.login("GXADMIN001", "demo1234")
    w = MainWindow(services, runner, admin)
    qtbot.addWidget(w)
    w.show()
    pane = w.admin
    pane.tabs.setCurrentIndex(pane.tabs.count() - 1)
    qtbot.waitUntil(lambda: pane.access.rowCount() >= 4, timeout=5000)
    labels = [(r.action, r.outcome) for r in pane.access.rows]
    assert ("login.failed", "failed") in labels and ("action.refused", "refused") in labels
    refused = next(r for r in pane.access.rows if r.action == "action.refused")
    assert "45010020105" in refused.actor and "may not" in refused.details["message"]
    row = pane.access.rows.index(refused)
    assert "said:" in pane.access.data(pane.access.index(row, 5))
    # filters: what, then who
    pane.access_kind.setCurrentIndex(pane.access_kind.findData("login.failed"))
    qtbot.waitUntil(lambda: {r.action for r in pane.access.rows} == {"login.failed"}, timeout=5000)
    assert "wrong password" in pane.access.data(pane.access.index(0, 5))
    pane.access_kind.setCurrentIndex(0)
    pane.access_who.setText("GXADMIN001")
    pane.load_access()
    qtbot.waitUntil(lambda: pane.access.rows and all("GXADMIN001" in r.actor + r.target for r in pane.access.rows),
                    timeout=5000)
    assert pane.access_count.text() == f"{pane.access.rowCount()} entries."
    pane.access_who.setText("")
    pane.load_access()
    qtbot.waitUntil(lambda: pane.access.rowCount() >= 4, timeout=5000)
    w.nav.setCurrentRow(w.nav.count() - 1)
    _shot(w, "access_log.png")
