"""Camera preview frame rate at 1280×720 and the largest GUI stall while previewing and capturing
(targets: ≥ 15 fps shown; stall ≤ 100 ms).

The simulated camera delivers 1280×720 frames at 30 fps into the devices pane of the main window
(offscreen); a 5 ms heartbeat timer on the GUI thread measures the longest gap between beats.
Phases: preview only; preview while taking 5 photos and recording a 5-second clip into a case.
Baseline in the same run: the bare simulated camera's frame rate (no GUI), and the heartbeat idle.
Usage: python benchmarks/bench_camera.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_gui_stall import Heartbeat  # noqa: E402
from benchmarks.common import emit, workdir  # noqa: E402

PORT = "sim:1280x720@30"


def bare_fps(seconds: float = 3.0) -> float:
    from devices.sim.camera import SyntheticCamera

    cam = SyntheticCamera.from_port(PORT)
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        cam.read()
        n += 1
    return n / (time.monotonic() - t0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args()
    from PySide6.QtCore import QEventLoop, QTimer

    from devices.registry import DeviceConfig, DeviceConfigs
    from kit_app.db import open_store
    from kit_app.services.demo import DemoGenerator
    from ui.app import load_fonts, make_qapplication
    from ui.device_hub import DeviceHub
    from ui.main_window import MainWindow
    from ui.services import Services
    from ui.tasks import TaskRunner

    baseline = bare_fps()
    app = make_qapplication()
    load_fonts(app)
    store = open_store(workdir("camera"))
    DemoGenerator(store, seed=1).generate(200, 10)
    services = Services.build(store)
    runner = TaskRunner()
    officer = services.officers.login("45010320231", "demo1234")
    case = services.cases.create(party="基准测试", title="camera", actor=officer)
    DeviceConfigs(store.data_dir).save([DeviceConfig(name="cam", driver="camera", port=PORT,
                                                     options={"autostart": True})])
    hub = DeviceHub(store.data_dir)
    w = MainWindow(services, runner, officer, hub=hub)
    w.resize(1400, 860)
    w.show()
    w.nav.setCurrentRow(3)
    pane = w.devices
    loop = QEventLoop()

    def spin(ms: int) -> None:
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    hb = Heartbeat()
    hb.start()
    spin(2000)
    idle = hb.stop()
    hub.autostart()
    pane.table.selectRow(0)
    pane.select_case(case.id)
    spin(1500)  # warm up
    p0, t0 = pane.camera.preview.painted, time.monotonic()
    hb.start()
    spin(int(a.seconds * 1000))
    preview_stall = hb.stop()
    preview_fps = (pane.camera.preview.painted - p0) / (time.monotonic() - t0)
    shown = pane.camera.preview.image
    shown_size = (shown.width(), shown.height()) if shown else None

    # capturing: 5 photos, one a second, then a 5-second clip
    p0, t0 = pane.camera.preview.painted, time.monotonic()
    hb.start()
    for _ in range(5):
        pane.camera.take_photo()
        spin(1000)
    pane.camera.toggle_clip()
    spin(5000)
    pane.camera.toggle_clip()
    spin(2000)
    runner.wait()
    capture_stall = hb.stop()
    capture_fps = (pane.camera.preview.painted - p0) / (time.monotonic() - t0)
    items = services.evidence.list_for_case(case.id)
    ok = preview_fps >= 15 and capture_fps >= 15 and max(preview_stall, capture_stall) <= 100
    emit({
        "benchmark": "camera_preview",
        "camera": PORT,
        "preview_shown_size": shown_size,
        "preview_fps": round(preview_fps, 1),
        "preview_max_stall_ms": round(preview_stall, 1),
        "capturing_fps": round(capture_fps, 1),
        "capturing_max_stall_ms": round(capture_stall, 1),
        "captured": {"photos": sum(1 for i in items if i["kind"] == "photo"),
                     "clips": sum(1 for i in items if i["kind"] == "video")},
        "frames_dropped_for_preview": hub.workers["cam"].preview_dropped,
        "baseline_bare_camera_fps": round(baseline, 1),
        "baseline_idle_max_gap_ms": round(idle, 1),
        "target": "≥ 15 fps, stall ≤ 100 ms",
        "meets_target": ok,
    })
    hub.shutdown()
    w.close()
    store.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
