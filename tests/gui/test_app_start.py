"""The composition root, as `kit-app --demo` runs it: open and fill the data dir in the worker,
ask for the first administrator on an empty one, log in, show the main window."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

import ui.app as app_mod
from ui.app import Application
from ui.dialogs import FirstAdminDialog

pytestmark = pytest.mark.gui


def test_demo_start_fills_data_dir_and_logs_in(qtbot: QtBot, kit_qapp: QApplication, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_mod, "DEMO_SOURCES", 500)
    monkeypatch.setattr(app_mod, "DEMO_PROJECTS", 50)
    kit = Application(kit_qapp, tmp_path / "demo", demo=True, lang="en")
    kit.start()
    qtbot.waitUntil(lambda: kit.login is not None and kit.login.isVisible(), timeout=20000)
    login = kit.login
    assert login is not None and login.hint.isVisible()
    # 500 generated, plus those born from the accepted projects
    assert kit.services is not None and kit.services.sources.count() >= 500
    login.cert.setText("45010320231")
    login.password.setText("demo1234")
    login.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: kit.window is not None and kit.window.isVisible(), timeout=10000)
    w = kit.window
    assert w is not None and "李明" in w.findChild(type(login.title), "status_officer").text()
    qtbot.waitUntil(lambda: w.sources.model.rowCount() > 0, timeout=5000)
    # the simulated devices of the demo kit are configured and the GNSS, analyser and camera connected
    assert kit.hub is not None and kit.rig is not None
    qtbot.waitUntil(lambda: len(kit.hub.workers) == 3 and kit.hub.gps.current() is not None, timeout=15000)
    assert {c.protocol for c in kit.hub.configs} == {"nmea", "hj212", "modbus", "ascii", None}
    procs = list(kit.rig.procs)
    w.close()
    kit.shutdown()
    assert all(p.poll() is not None for p in procs)
    assert not [t for t in threading.enumerate() if t.name.startswith("device-")]


def test_empty_data_dir_asks_for_first_admin(qtbot: QtBot, kit_qapp: QApplication, tmp_path: Path) -> None:
    kit = Application(kit_qapp, tmp_path / "new", demo=False, lang="en")
    kit.start()
    qtbot.waitUntil(lambda: any(isinstance(w, FirstAdminDialog) and w.isVisible()
                                for w in kit_qapp.topLevelWidgets()), timeout=10000)
    dlg = next(w for w in kit_qapp.topLevelWidgets() if isinstance(w, FirstAdminDialog))
    dlg.name.setText("管理员")
    dlg.cert.setText("ADMIN01")
    dlg.pw1.setText("a-long-password")
    dlg.pw2.setText("a-different-one")
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert "differ" in dlg.error.text()
    dlg.pw2.setText("a-long-password")
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: kit.login is not None and kit.login.isVisible(), timeout=10000)
    assert kit.services is not None
    admin = kit.services.officers.login("ADMIN01", "a-long-password")
    assert set(admin.roles) == {"admin", "officer"}
    kit.login.reject()
    kit.shutdown()


def test_newer_data_dir_is_reported_not_opened(qtbot: QtBot, kit_qapp: QApplication, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from kit_app.db import open_store

    open_store(tmp_path / "newer").close()
    con = sqlite3.connect(tmp_path / "newer" / "kit.sqlite3")
    con.execute("UPDATE alembic_version SET version_num = 'ffff'")
    con.commit()
    con.close()
    shown: list[str] = []
    monkeypatch.setattr(app_mod.QMessageBox, "critical", lambda _p, _t, text: shown.append(text))
    monkeypatch.setattr(kit_qapp, "exit", lambda code=0: shown.append(f"exit {code}"))
    kit = Application(kit_qapp, tmp_path / "newer", demo=False, lang="en")
    kit.start()
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=10000)
    assert "newer version" in shown[0] and shown[1] == "exit 1"
    kit.shutdown()
