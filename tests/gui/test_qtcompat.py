"""The binding's reference leak (PySide6 6.12.0 on Python 3.11 drops a reference to None on every
call that returns nothing, and to True on every emit) cannot bring the interpreter down."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from devices.registry import DeviceConfig, DeviceConfigs
from ui import qtcompat
from ui.device_hub import DeviceHub, PreviewWidget

pytestmark = pytest.mark.gui


class _O(QObject):
    s = Signal(str, int)


def test_singletons_are_out_of_reach_when_the_binding_leaks(kit_qapp) -> None:  # type: ignore[no-untyped-def]
    if sys.version_info >= (3, 12):
        pytest.skip("None, True and False are immortal in this Python")
    assert qtcompat.APPLIED == qtcompat.binding_drops_references()
    if qtcompat.APPLIED:
        for obj in (None, True, False):
            assert sys.getrefcount(obj) > qtcompat.IMMORTAL // 2


def test_many_calls_and_emits_do_not_abort(kit_qapp) -> None:  # type: ignore[no-untyped-def]
    """Each singleton starts with a few thousand references: 50,000 drops would abort without the fix."""
    o = _O()
    got = []
    o.s.connect(lambda a, b: got.append(b))
    label = QLabel()
    for i in range(50000):
        o.s.emit("x", i)
        label.setText("x")
    assert len(got) == 50000


def test_long_preview_does_not_abort(qtbot: QtBot, tmp_path: Path) -> None:
    DeviceConfigs(tmp_path).save([DeviceConfig(name="cam", driver="camera", port="sim:160x90@200",
                                               options={"autostart": True})])
    hub = DeviceHub(tmp_path)
    hub.autostart()
    pw = PreviewWidget()
    qtbot.addWidget(pw)
    pw.show()
    try:
        pw.attach(hub.workers["cam"])
        qtbot.waitUntil(lambda: pw.painted >= 600, timeout=20000)
    finally:
        hub.shutdown()
