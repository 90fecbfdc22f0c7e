import json
import time
from pathlib import Path

import pytest

from devices import registry
from devices.reader import PortError
from devices.registry import DeviceConfig, DeviceConfigs, drivers
from kit_app.errors import DeviceError


def test_builtin_drivers_and_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    class Plugin:
        name = "acme-dust"
        label = "ACME dust meter"

        def discover(self):  # type: ignore[no-untyped-def]
            return []

        def stream(self, config, stop):  # type: ignore[no-untyped-def]
            yield {"valid": True}

    class EP:
        def __init__(self, name: str, obj: object) -> None:
            self.name, self._obj = name, obj

        def load(self) -> object:
            if self._obj is None:
                raise ImportError("broken plug-in")
            return self._obj

    monkeypatch.setattr(registry, "entry_points", lambda group: [EP("acme", Plugin), EP("broken", None)]
                        if group == registry.ENTRY_POINT_GROUP else [])
    found = drivers()
    assert {"serial", "camera", "acme-dust"} <= set(found)  # a broken plug-in is skipped, not fatal


def test_configuration_round_trip(tmp_path: Path) -> None:
    c = DeviceConfigs(tmp_path)
    assert c.load() == []
    c.add(DeviceConfig(name="烟气分析仪", driver="serial", port="COM3", protocol="hj212", baud=115200))
    c.add(DeviceConfig(name="pH", driver="serial", port="COM4", protocol="modbus", model="generic-ph", unit=2))
    c.add(DeviceConfig(name="pH", driver="serial", port="COM5", protocol="modbus", model="generic-ph", unit=2))
    loaded = c.load()
    assert [(d.name, d.port) for d in loaded] == [("烟气分析仪", "COM3"), ("pH", "COM5")]
    assert c.remove("pH") and not c.remove("pH")
    with pytest.raises(DeviceError, match="unknown driver"):
        c.add(DeviceConfig(name="x", driver="no-such-driver", port="COM9"))
    saved = json.loads((tmp_path / "devices.json").read_text(encoding="utf-8"))
    assert [d["name"] for d in saved["devices"]] == ["烟气分析仪"]
    (tmp_path / "devices.json").write_text("{not json")
    with pytest.raises(DeviceError) as err:
        c.load()
    assert "damaged" in str(err.value) and "devices.json" in str(err.value)


def test_camera_driver_reads_a_video_source(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    video = tmp_path / "cam.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (160, 120))
    for i in range(5):
        w.write(np.full((120, 160, 3), i * 40, dtype=np.uint8))
    w.release()
    cam = drivers()["camera"]
    frames = []
    t0 = time.monotonic()
    for f in cam.stream(DeviceConfig(name="c", driver="camera", port=str(video)), stop=lambda: len(frames) >= 8):
        frames.append(f)
    took = time.monotonic() - t0
    assert len(frames) == 8 and frames[0].image.shape == (120, 160, 3)
    # played at its own speed (15 fps), and from the start again at its end
    assert 7 / 15 * 0.8 < took < 3
    assert int(frames[5].image.mean()) == int(frames[0].image.mean())
    assert int(frames[1].image.mean()) > int(frames[0].image.mean()) + 20
    with pytest.raises(PortError):
        next(cam.stream(DeviceConfig(name="c", driver="camera", port=str(tmp_path / "none.avi")), lambda: False))


def test_simulated_camera_moves_and_shows_the_time() -> None:
    import numpy as np

    cam = drivers()["camera"]
    frames = []
    t0 = time.monotonic()
    for f in cam.stream(DeviceConfig(name="sim", driver="camera", port="sim:640x360@20"),
                        stop=lambda: len(frames) >= 10):
        frames.append(f.image)
    took = time.monotonic() - t0
    assert frames[0].shape == (360, 640, 3)
    assert 9 / 20 * 0.8 < took < 3  # paced at 20 fps
    # the scene moves between frames (below the clock bar), and the clock bar holds white text
    assert np.abs(frames[9][60:].astype(int) - frames[0][60:].astype(int)).sum() > 0
    assert (frames[0][:35] == 255).all(axis=2).sum() > 100
