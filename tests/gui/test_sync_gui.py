"""Enrolment and sync from the app: the dialog, Sync now, and the state in the status bar."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from central.service import Central
from kit_app.dto import OfficerInfo
from tests.central.conftest import Server
from ui.main_window import MainWindow
from ui.services import Services
from ui.sync import EnrolDialog
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_enrol_then_sync_from_the_app(qtbot: QtBot, services: Services, runner: TaskRunner, officer: OfficerInfo,
                                      tmp_path: Path) -> None:
    with Server(f"sqlite:///{tmp_path / 'central.sqlite3'}", tmp_path / "blobs") as srv:
        c: Central = srv.app.state.central
        c.add_agency("45", "广西")
        code = c.make_enrol_code("45")["code"]
        case = services.cases.create(party="当事人", title="同步", actor=officer)
        services.evidence.add_physical(case.id, officer, seal_no="S-1", description="样品")
        w = MainWindow(services, runner, officer)
        qtbot.addWidget(w)
        qtbot.waitUntil(lambda: w.sync_status.text() == "Sync: not enrolled", timeout=5000)
        dlg = EnrolDialog(services.store, runner, w)
        qtbot.addWidget(dlg)
        dlg.server.setText("ftp://x")
        dlg.submit()
        assert "https://" in dlg.error.text()
        dlg.server.setText(srv.base)
        dlg.code.setText("WRONG-CODE")
        dlg.submit()
        qtbot.waitUntil(lambda: "unknown enrolment code" in dlg.error.text(), timeout=5000)
        dlg.code.setText(code)
        dlg.fingerprint.setText("0000 0000 0000 0000 0000 0000 0000 0000")  # not the server's: stop
        dlg.submit()
        qtbot.waitUntil(lambda: "not the server the administrator meant" in dlg.error.text(), timeout=5000)
        fp = srv.app.state.signer.fingerprint()
        dlg.fingerprint.setText(fp.upper())  # as read over the phone
        with qtbot.waitSignal(dlg.accepted, timeout=5000):
            dlg.submit()
        assert dlg.result is not None and dlg.result["server_fingerprint"] == fp
        w.sync.refresh()
        qtbot.waitUntil(lambda: w.sync_status.text().startswith("Sync: ") and "waiting" in w.sync_status.text(),
                        timeout=5000)
        # the case is not synced yet: the cases table says how much waits
        w.cases.refresh()
        qtbot.waitUntil(lambda: w.cases.model.rowCount() == 1 and "waiting" in w.cases.model.index(0, 6).data(),
                        timeout=5000)
        said: list[str] = []
        w.sync.changed.connect(said.append)
        w.sync.sync_now()
        qtbot.waitUntil(lambda: w.sync_status.text().startswith("Synced "), timeout=15000)
        assert any(s.startswith("Syncing: pushed 2 records, 2 custody events") for s in said), said  # progress
        [k] = srv.app.state.push.received()
        assert k["custody_events"] == 2 and k["records"]["case"] == 1
        qtbot.waitUntil(lambda: w.cases.model.index(0, 6).data() == "Synced", timeout=5000)
        # a reviewer's comment on the server reaches the case view with the next sync
        from central.service import Officers

        c.add_officer(cert_no="45000000001", name="周审核", roles="reviewer", agency="45", password="pass-word-1")
        reviewer = Officers(c).officer_for(Officers(c).login("45000000001", "pass-word-1")["token"])
        Officers(c).comment(reviewer, case.id, "请补充现场照片")
        w.cases.view.selectRow(0)
        w.sync.sync_now()
        qtbot.waitUntil(lambda: "请补充现场照片" in w.cases.evidence.detail.toPlainText(), timeout=15000)
        assert "周审核" in w.cases.evidence.detail.toPlainText()
        w.resize(1280, 800)
        w.nav.setCurrentRow(2)
        w.cases.view.selectRow(0)
        qtbot.waitUntil(lambda: "请补充现场照片" in w.cases.evidence.detail.toPlainText(), timeout=5000)
        if shots := __import__("os").environ.get("KIT_SCREENSHOTS"):
            w.grab().save(str(Path(shots) / "screenshot-sync.png"))
    # the server is gone: the next sync says so, and the app carries on
    w.sync.sync_now()
    qtbot.waitUntil(lambda: w.sync_status.text().startswith("Sync failed: cannot reach"), timeout=15000)
    runner.wait()
