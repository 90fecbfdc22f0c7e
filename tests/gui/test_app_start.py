"""The composition root, as `kit-app --demo` runs it: open and fill the data dir in the worker,
ask for the first administrator on an empty one, log in, show the main window."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel
from pytestqt.qtbot import QtBot

import ui.app as app_mod
from kit_app.db import Store
from ui.app import Application
from ui.dialogs import FirstAdminDialog
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def exits(kit_qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The exit codes the application asks for (QApplication.exit outside exec() would stop every
    later event loop of the test session)."""
    codes: list[int] = []
    monkeypatch.setattr(kit_qapp, "exit", lambda code=0: codes.append(code))
    return codes


def test_demo_start_fills_data_dir_and_logs_in(qtbot: QtBot, kit_qapp: QApplication, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, exits: list[int]) -> None:
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
    assert exits == [0]  # closing the main window is the officer's exit
    kit.shutdown()
    assert all(p.poll() is not None for p in procs)
    assert not [t for t in threading.enumerate() if t.name.startswith("device-")]


def test_empty_data_dir_asks_for_first_admin(qtbot: QtBot, kit_qapp: QApplication, tmp_path: Path,
                                             exits: list[int]) -> None:
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
    assert exits == []  # the first administrator's dialog closed: the application goes on
    kit.login.reject()
    assert exits == [0]
    kit.shutdown()


def test_newer_data_dir_is_reported_not_opened(qtbot: QtBot, kit_qapp: QApplication, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, exits: list[int]) -> None:
    import sqlite3

    from kit_app.db import open_store

    open_store(tmp_path / "newer").close()
    con = sqlite3.connect(tmp_path / "newer" / "kit.sqlite3")
    con.execute("UPDATE alembic_version SET version_num = 'ffff'")
    con.commit()
    con.close()
    shown: list[str] = []
    monkeypatch.setattr(app_mod.QMessageBox, "critical", lambda _p, _t, text: shown.append(text))
    kit = Application(kit_qapp, tmp_path / "newer", demo=False, lang="en")
    kit.start()
    qtbot.waitUntil(lambda: exits == [1], timeout=10000)
    assert len(shown) == 1 and "newer version" in shown[0]
    kit.shutdown()


def _log_in(qtbot: QtBot, kit: Application, cert: str) -> MainWindow:
    qtbot.waitUntil(lambda: kit.login is not None and kit.login.isVisible(), timeout=10000)
    assert kit.login is not None
    kit.login.cert.setText(cert)
    kit.login.password.setText("demo1234")
    kit.login.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: kit.window is not None and kit.window.isVisible(), timeout=10000)
    assert kit.window is not None
    return kit.window


def test_logout_then_login_again(qtbot: QtBot, kit_qapp: QApplication, demo_store: Store,
                                 exits: list[int]) -> None:
    kit = Application(kit_qapp, demo_store.data_dir, demo=False, lang="en")
    kit.start()
    first = _log_in(qtbot, kit, "45010320231")
    sync = kit.sync
    assert sync is not None and first.sync is sync  # the kit's sync, not the window's
    first.findChild(QAction, "logout").trigger()
    qtbot.waitUntil(lambda: kit.login is not None and kit.login.isVisible(), timeout=5000)
    assert kit.window is None and exits == []
    # deleted, not merely hidden: its timers, views and device connections are gone with it
    qtbot.waitUntil(lambda: not shiboken6.isValid(first), timeout=5000)
    second = _log_in(qtbot, kit, "45010020105")
    assert second.sync is sync and "陈静" in second.findChild(QLabel, "status_officer").text()
    second.close()
    assert exits == [0]
    kit.shutdown()
