"""The binding's emit leak (PySide6 6.12.0 drops a reference to True on every emit) is compensated:
long previews and many tasks leave True's reference count where it was."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from devices.registry import DeviceConfig, DeviceConfigs
from ui import qtcompat
from ui.devices import DeviceHub, PreviewWidget
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


class _O(QObject):
    s = Signal(str, int)


def test_many_emits_keep_true_alive(kit_qapp) -> None:  # type: ignore[no-untyped-def]
    o = _O()
    got = []
    o.s.connect(lambda a, b: got.append(b))
    before = sys.getrefcount(True)
    for i in range(20000):  # without the work-around, the interpreter aborts well before this
        qtcompat.emit(o.s, "x", i)
    assert len(got) == 20000
    assert abs(sys.getrefcount(True) - before) < 50


def test_preview_and_tasks_do_not_drain_true(qtbot: QtBot, runner: TaskRunner, tmp_path: Path) -> None:
    DeviceConfigs(tmp_path).save([DeviceConfig(name="cam", driver="camera", port="sim:320x180@60",
                                               options={"autostart": True})])
    hub = DeviceHub(tmp_path)
    hub.autostart()
    pw = PreviewWidget()
    qtbot.addWidget(pw)
    pw.show()
    try:
        pw.attach(hub.workers["cam"])
        qtbot.waitUntil(lambda: pw.painted >= 5, timeout=5000)
        before, painted = sys.getrefcount(True), pw.painted
        done: list[int] = []
        for i in range(300):
            runner.run(lambda i=i: i, done.append)
        qtbot.waitUntil(lambda: len(done) == 300 and pw.painted >= painted + 120, timeout=15000)
        assert abs(sys.getrefcount(True) - before) < 50  # 420+ emits: the leak would show as -420
    finally:
        hub.shutdown()
