"""The devices pane, driven offscreen against the shipped simulators (real ptys, simulated camera)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from devices import session as S
from devices.registry import DeviceConfig, DeviceConfigs
from kit_app.dto import OfficerInfo
from tests.helpers.sim import simulator
from ui.device_hub import DeviceHub
from ui.devices import DevicesPane
from ui.main_window import MainWindow
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with simulator("nmea", "--rate", "5") as gps, simulator("hj212", "--rate", "10", "--garbage", "0.2",
                                                            "--bad-crc", "0.1") as flue:
        yield gps, flue


@pytest.fixture
def window(qtbot: QtBot, services: Services, runner: TaskRunner, officer: OfficerInfo, rig: tuple[str, str],
           tmp_path: Path) -> Iterator[MainWindow]:
    gps, flue = rig
    cfg = DeviceConfigs(services.store.data_dir)
    cfg.save([
        DeviceConfig(name="GPS", driver="serial", port=gps, protocol="nmea", options={"autostart": True}),
        DeviceConfig(name="烟气", driver="serial", port=flue, protocol="hj212", model="3012H", serial="FG-1",
                     calibrated="2026-10-15"),
        DeviceConfig(name="相机", driver="camera", port="sim:640x360@25", model="KIT-CAM SIM", serial="C-9",
                     options={"autostart": True}),
    ])
    wf = services.officers.get("45010320232")
    services.cases.create(party="测试当事人", title="设备取证", actor=officer, officer_ids=[officer.id, wf.id])
    hub = DeviceHub(services.store.data_dir)
    hub.autostart()
    w = MainWindow(services, runner, officer, hub=hub)
    qtbot.addWidget(w)
    w.resize(1300, 800)
    w.show()
    w.nav.setCurrentRow(4 - 1)
    yield w
    hub.shutdown()


def select(pane: DevicesPane, name: str) -> None:
    pane.table.selectRow(next(i for i, c in enumerate(pane.hub.configs) if c.name == name))


def test_camera_preview_and_captures_go_to_the_case(qtbot: QtBot, window: MainWindow, services: Services) -> None:
    pane = window.devices
    qtbot.waitUntil(lambda: pane.case.count() == 1 and "韦芳" in pane.duty.text(), timeout=5000)
    qtbot.waitUntil(lambda: window.hub.gps.current() is not None, timeout=10000)
    select(pane, "相机")
    qtbot.waitUntil(lambda: pane.camera.preview.painted >= 20, timeout=10000)
    assert pane.camera.preview.image is not None and pane.camera.preview.image.width() <= pane.camera.preview.width()
    qtbot.waitUntil(lambda: pane.camera.preview.fps > 15, timeout=5000)
    qtbot.waitUntil(lambda: window.gps_status.text().startswith("GPS 22.8"), timeout=5000)  # its timer shows the fix
    # two photos at once, captioned: names of their own, and the last one's thumbnail shown as soon as it is saved
    assert pane.camera.last_shot.pixmap().isNull()
    pane.camera.caption.setText("总排口出水")
    pane.camera.photo_btn.click()
    pane.camera.photo_btn.click()
    qtbot.waitUntil(lambda: len([i for i in services.evidence.list_for_case(pane.case.currentData())
                                 if i["kind"] == "photo"]) == 2, timeout=10000)
    qtbot.waitUntil(lambda: pane.camera.capture_result.text().startswith("Saved as evidence IMG-"), timeout=10000)
    qtbot.waitUntil(lambda: not pane.camera.last_shot.pixmap().isNull(), timeout=5000)
    shots = [i for i in services.evidence.list_for_case(pane.case.currentData()) if i["kind"] == "photo"]
    assert len({i["original_name"] for i in shots}) == 2 and {i["description"] for i in shots} == {"总排口出水"}
    pane.camera.caption.clear()
    # a clip of about a second
    pane.camera.clip_btn.click()
    assert pane.camera.preview.recording_since is not None and pane.camera.clip_btn.text() == "Stop clip and save"
    qtbot.wait(1200)
    pane.camera.clip_btn.click()
    qtbot.waitUntil(lambda: pane.camera.capture_result.text().startswith("Saved as evidence VID-"), timeout=10000)
    case = pane.case.currentData()
    items = services.evidence.list_for_case(case)
    photo = next(i for i in items if i["kind"] == "photo")
    assert next(i for i in items if i["kind"] == "video")["description"] is None
    video = next(i for i in items if i["kind"] == "video")
    for item in (photo, video):
        shown = services.evidence.show(item["id"])
        ev = shown["custody"][0]
        assert ev["kind"] == "collected" and [a["name"] for a in ev["actors"]] == ["李明", "韦芳"]
        assert 22.8 < ev["place"]["latitude"] < 22.84 and ev["device"] == "KIT-CAM SIM #C-9 (相机)"
        assert shown["warnings"] == []
    assert services.evidence.show(video["id"])["metadata"]["capture"]["frames"] >= 15
    assert services.evidence.verify(case).ok


def test_instrument_values_plot_and_recording(qtbot: QtBot, window: MainWindow, services: Services) -> None:
    pane = window.devices
    qtbot.waitUntil(lambda: pane.case.count() == 1, timeout=5000)
    select(pane, "烟气")
    assert pane.connect_btn.text() == "Connect" and not pane.instrument.record_btn.isEnabled()
    pane.connect_btn.click()
    qtbot.waitUntil(lambda: pane.instrument.values.rowCount() == 5, timeout=10000)
    assert pane.instrument.values.item(0, 0).text() == "二氧化硫" and pane.instrument.values.item(0, 2).text() == "mg/m³"
    qtbot.waitUntil(lambda: window.hub.gps.current() is not None, timeout=10000)
    pane.instrument.record_btn.click()
    qtbot.waitUntil(lambda: pane.worker.session.recorded_count() >= 15, timeout=10000)
    assert len(pane.instrument.plot.points) >= 10 and pane.instrument.plot.label == "二氧化硫"
    pane.instrument.quantity.setCurrentIndex(1)
    assert pane.instrument.plot.label == "氮氧化物" and len(pane.instrument.plot.points) >= 10
    pane.instrument.record_btn.click()
    qtbot.waitUntil(lambda: pane.instrument.record_info.text().startswith("Saved as evidence 3012H-"), timeout=10000)
    item = next(i for i in services.evidence.list_for_case(pane.case.currentData()) if i["kind"] == "instrument_reading")
    shown = services.evidence.show(item["id"])
    assert shown["metadata"]["instrument"] == {"model": "3012H", "serial": "FG-1", "calibrated": "2026-10-15",
                                               "device": "烟气"}
    assert shown["metadata"]["readings"]["valid"] >= 15 and shown["latitude"] is not None
    lines = [json.loads(x) for x in Path(shown["stored_path"]).read_text(encoding="utf-8").splitlines()]
    assert lines[0]["type"] == "session" and lines[0]["instrument"]["serial"] == "FG-1"
    # every message kept verbatim, with the GPS fix when it arrived
    assert all(x["gps"]["fix"] and 22.8 < x["gps"]["latitude"] < 22.84 for x in lines[1:])
    assert all(bytes.fromhex(x["raw"]).startswith(b"##") for x in lines[1:] if x["valid"])
    # the recorded session is plotted in the case's evidence
    window.nav.setCurrentRow(2)
    ev = window.cases.evidence
    qtbot.waitUntil(lambda: window.cases.model.rowCount() == 1, timeout=5000)
    window.cases.view.selectRow(0)
    qtbot.waitUntil(lambda: ev.model.rowCount() == 1, timeout=5000)
    ev.view.setCurrentIndex(ev.model.index(0, 0))
    qtbot.waitUntil(lambda: ev.series_box.isVisible() and ev.series_quantity.count() == 5, timeout=5000)
    assert ev.series_plot.label == "二氧化硫" and len(ev.series_plot.points) == shown["metadata"]["readings"]["valid"]
    window.nav.setCurrentRow(3)
    row = next(i for i, c in enumerate(pane.hub.configs) if c.name == "烟气")
    qtbot.waitUntil(lambda: int(pane.model.index(row, 7).data() or 0) > 0, timeout=5000)  # skipped bytes shown
    assert pane.model.index(row, 4).data() == "receiving"
    pane.connect_btn.click()  # disconnect
    qtbot.waitUntil(lambda: pane.model.index(row, 4).data() == "stopped", timeout=5000)
    assert pane.connect_btn.text() == "Connect"


def test_unplugged_device_shows_its_state_and_the_app_carries_on(qtbot: QtBot, services: Services,
                                                                runner: TaskRunner, officer: OfficerInfo,
                                                                tmp_path: Path) -> None:
    with simulator("hj212", "--rate", "10", "--disconnect-after", "10") as port:
        DeviceConfigs(services.store.data_dir).save(
            [DeviceConfig(name="flue", driver="serial", port=port, protocol="hj212", options={"autostart": True})])
        hub = DeviceHub(services.store.data_dir)
        hub.autostart()
        w = MainWindow(services, runner, officer, hub=hub)
        qtbot.addWidget(w)
        w.nav.setCurrentRow(3)
        try:
            qtbot.waitUntil(lambda: hub.state("flue")[0] == S.RECONNECTING, timeout=15000)
            qtbot.waitUntil(lambda: w.devices.model.index(0, 4).data() == "disconnected, retrying", timeout=3000)
            w._update_device_status()
            assert w.device_status.text() == "Devices: 0 receiving, 1 need attention"
            assert hub.workers["flue"].session.counters.valid == 10
        finally:
            hub.shutdown()


def test_device_dialog_validates_and_saves(qtbot: QtBot, services: Services, runner: TaskRunner,
                                           officer: OfficerInfo) -> None:
    from ui.device_dialog import DeviceDialog

    hub = DeviceHub(services.store.data_dir)
    dlg = DeviceDialog(runner)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.port.findText("sim:1280x720@25") >= 0, timeout=5000)  # discovery ran off the GUI
    dlg._accept()
    assert dlg.error.text() == "Give the device a name." and dlg.result() == 0
    dlg.name.setText("水质")
    dlg._accept()
    assert dlg.error.text() == "Choose the port (or camera) the device is on."
    dlg.port.setEditText("/dev/ttyUSB0")
    dlg.protocol.setCurrentIndex(dlg.protocol.findData("modbus"))
    dlg.model.setEditText("generic-ph")
    dlg.unit.setValue(3)
    dlg.calibrated.setText("15/10/2026")
    dlg._accept()
    assert dlg.error.text() == "The calibration date is written YYYY-MM-DD."
    dlg.calibrated.setText("2026-10-15")
    dlg._accept()
    assert dlg.result() == 1
    cfg = dlg.config()
    assert (cfg.driver, cfg.protocol, cfg.port, cfg.model, cfg.unit, cfg.calibrated) == (
        "serial", "modbus", "/dev/ttyUSB0", "generic-ph", 3, "2026-10-15")
    hub.add(cfg)
    assert [c.name for c in DeviceConfigs(services.store.data_dir).load()] == ["水质"]
    dlg2 = DeviceDialog(runner, cfg)
    qtbot.addWidget(dlg2)
    assert dlg2.config() == cfg  # editing shows what was saved
    dlg2.kind.setCurrentIndex(dlg2.kind.findData("camera"))
    assert not dlg2.protocol.isEnabled() and not dlg2.baud.isEnabled()
    runner.wait()
