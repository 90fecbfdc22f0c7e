"""Largest GUI event-loop stall during a 600-photo evidence import (target ≤ 100 ms).

A 5 ms heartbeat timer runs on the GUI thread while the evidence panel imports 600 camera-size
JPEGs; the longest gap between two beats is the stall. Baseline in the same run: the same
heartbeat with the application idle.
Usage: python benchmarks/bench_gui_stall.py [--photos 600]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_ingest import make_photos  # noqa: E402
from benchmarks.common import emit, workdir  # noqa: E402

TARGET_MS = 100.0


class Heartbeat:
    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.beat)

    def beat(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        self.last = now

    def start(self) -> None:
        self.gaps.clear()
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return max(self.gaps) * 1000 if self.gaps else 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=600)
    a = ap.parse_args()
    from PySide6.QtCore import QEventLoop, QTimer

    from kit_app.db import open_store
    from kit_app.services.demo import DemoGenerator
    from ui.app import load_fonts, make_qapplication
    from ui.main_window import MainWindow
    from ui.services import Services
    from ui.tasks import TaskRunner

    folder = workdir("stall-photos")
    make_photos(folder, a.photos)
    app = make_qapplication()
    load_fonts(app)
    store = open_store(workdir("stall"))
    DemoGenerator(store, seed=1).generate(23000, 100)
    services = Services.build(store)
    runner = TaskRunner()
    officer = services.officers.login("45010320231", "demo1234")
    case = services.cases.create(party="基准测试", title="stall", actor=officer)
    w = MainWindow(services, runner, officer)
    w.resize(1280, 800)
    w.show()
    w.nav.setCurrentRow(2)
    loop = QEventLoop()
    QTimer.singleShot(1500, loop.quit)
    loop.exec()
    for i, r in enumerate(w.cases.model.rows):
        if r.id == case.id:
            w.cases.view.selectRow(i)
    hb = Heartbeat()
    hb.start()
    QTimer.singleShot(2000, loop.quit)
    loop.exec()
    idle = hb.stop()
    done: list[object] = []
    w.cases.evidence.imported.connect(done.append)
    hb.start()
    t = time.perf_counter()
    w.cases.evidence.import_paths([folder / "DCIM"])
    while not done:
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    elapsed = time.perf_counter() - t
    # let the grid fill with thumbnails too
    QTimer.singleShot(1500, loop.quit)
    loop.exec()
    stall = hb.stop()
    gaps = sorted(hb.gaps)
    runner.wait()
    ok = sum(1 for r in done[0] if r.status == "ok")  # type: ignore[attr-defined]
    emit({
        "benchmark": "gui_stall",
        "photos": a.photos,
        "imported": ok,
        "import_s": round(elapsed, 1),
        "max_stall_ms": round(stall, 1),
        "p99_gap_ms": round(gaps[int(len(gaps) * 0.99)] * 1000, 1) if gaps else None,
        "baseline_idle_max_gap_ms": round(idle, 1),
        "target_ms": TARGET_MS,
        "meets_target": stall <= TARGET_MS,
    })
    w.close()
    w.deleteLater()
    QTimer.singleShot(100, loop.quit)
    loop.exec()
    store.close()
    return 0 if stall <= TARGET_MS else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # PySide6 can crash while the interpreter tears down its last Qt objects; the figures are out
    os._exit(code)
