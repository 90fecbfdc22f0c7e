"""The device manager without Qt: devices opened from devices.json, what they receive routed (GNSS
sentences to the tracker, readings to a listener, stamped with the fix when recorded), closing
without waiting, and a damaged configuration said rather than fatal."""

from __future__ import annotations

import json
import time
from pathlib import Path

from devices import session as S
from devices.items import Frame, Reading
from devices.manager import CAMERA, GPS, INSTRUMENT, DeviceManager, OpenDevice, device_kind
from devices.registry import DeviceConfig
from tests.helpers.sim import simulator
from tests.unit.devices.test_session import wait_for


def test_routes_readings_and_stamps_recordings_with_the_fix(tmp_path: Path) -> None:
    states: list[tuple[str, str]] = []
    with simulator("nmea", "--rate", "5") as gnss_port, simulator("ascii", "--rate", "10") as meter_port:
        m = DeviceManager(tmp_path, on_state=lambda name, state, _detail: states.append((name, state)))
        m.add(DeviceConfig(name="gnss", driver="serial", port=gnss_port, protocol="nmea"))
        m.add(DeviceConfig(name="meter", driver="serial", port=meter_port, protocol="ascii"))
        assert [device_kind(c) for c in m.configs] == [GPS, INSTRUMENT]
        assert DeviceManager(tmp_path).configs == m.configs  # kept in devices.json
        heard: list[Reading | Frame] = []

        def attach(dev: OpenDevice) -> None:
            dev.listener = heard.append

        try:
            m.open("gnss")
            meter = m.open("meter", prepare=attach)
            assert m.open("meter") is meter  # opening an open device gives the same one
            assert wait_for(lambda: m.gps.current() is not None, 10)
            meter.session.start_recording()
            assert wait_for(lambda: meter.session.recorded_count() >= 3, 10)
            recorded = meter.session.stop_recording()
            assert all(r.gps is not None and 22.8 < r.gps["latitude"] < 22.84 for r in recorded)
            assert all(r.record()["gps"]["longitude"] == r.gps["longitude"] for r in recorded if r.gps)
            assert heard and all(isinstance(r, Reading) for r in heard)
            assert any(r.valid and r.get("name") == "LAeq" for r in heard if isinstance(r, Reading))
            assert wait_for(lambda: m.summary() == "Devices: 2 receiving", 5), m.summary()
            t0 = time.monotonic()
            assert m.close("meter") and not m.close("meter")
            assert time.monotonic() - t0 < 0.5  # the GUI never waits for a device's thread
            assert m.state("meter") == (S.STOPPED, "") and m.get("meter") is None
            assert ("meter", S.LIVE) in states and states[-1] == ("meter", S.STOPPED)
        finally:
            m.shutdown()
    assert m.open_devices == {}


def test_a_camera_feeds_its_tap_and_autostart_is_by_configuration(tmp_path: Path) -> None:
    m = DeviceManager(tmp_path)
    m.add(DeviceConfig(name="cam", driver="camera", port="sim:320x180@20", options={"autostart": True}))
    m.add(DeviceConfig(name="spare", driver="camera", port="sim:320x180@20"))
    assert m.autostart_names() == ["cam"]
    try:
        cam = m.open("cam")
        assert device_kind(cam.config) == CAMERA and cam.tap is not None
        assert wait_for(lambda: cam.tap is not None and cam.tap.latest() is not None, 10)
        assert isinstance(cam.session.latest, Frame) and cam.session.latest.image.shape == (180, 320, 3)
    finally:
        m.shutdown()


def test_a_damaged_configuration_is_said_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "devices.json").write_text("{not json", encoding="utf-8")
    m = DeviceManager(tmp_path)
    assert m.configs == [] and m.load_error and "devices.json" in m.load_error
    (tmp_path / "devices.json").write_text(json.dumps({"schema": 1, "devices": []}), encoding="utf-8")
    m.reload()
    assert m.configs == [] and m.load_error is None
