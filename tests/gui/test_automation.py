"""The launcher's remote control: off unless asked for, and a wrong request is answered as such."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLineEdit, QVBoxLayout
from pytestqt.qtbot import QtBot

from ui import automation
from ui.automation import Automation, AutomationError

pytestmark = pytest.mark.gui


class Probe(QDialog):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("probe")
        self.field = QLineEdit(objectName="field")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        lay = QVBoxLayout(self)
        lay.addWidget(self.field)
        lay.addWidget(self.buttons)


def test_off_without_the_environment_variable(kit_qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(automation.ENV_HOOK, raising=False)
    monkeypatch.setenv(automation.ENV_OPEN_DELAY, "30")
    assert automation.install(kit_qapp) is None
    automation.pause("open")  # returns at once: the delay is honoured only for the tests' launcher


def test_requests(qtbot: QtBot, kit_qapp: QApplication, tmp_path) -> None:  # type: ignore[no-untyped-def]
    hook = Automation(str(tmp_path / "hook"))
    probe = Probe()
    qtbot.addWidget(probe)
    probe.show()
    qtbot.waitExposed(probe)
    listed = hook.handle({"cmd": "windows"})["windows"]
    assert ("Probe", "probe") in [(w["class"], w["title"]) for w in listed]
    assert hook.handle({"cmd": "set_text", "window": "Probe", "name": "field", "value": "45010320231"})["ok"]
    qtbot.waitUntil(lambda: probe.field.text() == "45010320231")
    assert hook.handle({"cmd": "read", "window": "Probe", "name": "field"}) == \
        {"ok": True, "text": "45010320231", "visible": True}
    for bad, says in (({"cmd": "click", "window": "LoginDialog", "button": "ok"}, "no visible window"),
                      ({"cmd": "set_text", "window": "Probe", "name": "nothing", "value": ""}, "no widget"),
                      ({"cmd": "click", "window": "Probe", "button": "field"}, "not a button"),
                      ({"cmd": "explode", "window": "Probe"}, "unknown command")):
        with pytest.raises(AutomationError, match=says):
            hook.handle(bad)
    with qtbot.waitSignal(probe.accepted, timeout=2000):
        hook.handle({"cmd": "click", "window": "Probe", "button": "ok"})
