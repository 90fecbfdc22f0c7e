"""Cold start to the main window shown (target ≤ 1.5 s), against a bare PySide6 window.

Each run is a fresh interpreter: the parent starts the clock before spawning the child and
stops it when the child reports its window exposed. The child opens a demo data dir (23,000
sources), checks the officer's password (as the login dialog does) and shows the main window
with the first page of sources loaded.
Usage: python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit, summary_ms, workdir  # noqa: E402

TARGET_S = 1.5
ROOT = Path(__file__).resolve().parents[1]

APP_CHILD = r"""
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from ui.app import Application, load_fonts, make_qapplication
from kit_app import i18n
from kit_app.db import open_store
from ui.services import Services
from ui.main_window import MainWindow

app = make_qapplication()
i18n.set_language("zh_CN")
load_fonts(app)
kit = Application(app, Path(sys.argv[1]), False, "zh_CN")
store = open_store(Path(sys.argv[1]))
kit.store, kit.services = store, Services.build(store)
officer = kit.services.officers.login("45010320231", "demo1234")
w = kit.show_main(officer)

def check():
    if w.isVisible() and w.sources.model.rowCount() > 0:
        print("SHOWN", flush=True)
        app.quit()
    else:
        QTimer.singleShot(1, check)

QTimer.singleShot(0, check)
app.exec()
kit.shutdown()
"""

BARE_CHILD = r"""
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication([])
w = QMainWindow(); w.setCentralWidget(QLabel("hello")); w.resize(1280, 780); w.show()
def check():
    if w.isVisible():
        print("SHOWN", flush=True); app.quit()
    else:
        QTimer.singleShot(1, check)
QTimer.singleShot(0, check)
app.exec()
"""


def time_child(code: str, *args: str) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, env=env, cwd=str(ROOT))
    assert p.stdout is not None
    for line in p.stdout:
        if line.strip() == "SHOWN":
            elapsed = time.perf_counter() - t
            break
    else:
        raise RuntimeError("the child never showed its window")
    p.wait(timeout=60)
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    data = workdir("startup")
    subprocess.run([sys.executable, "-m", "kit_app", "--data-dir", str(data), "demo-data", "--json"],
                   check=True, capture_output=True, cwd=str(ROOT))
    time_child(APP_CHILD, str(data))  # first run warms the OS file cache, as on a used laptop
    ours = [time_child(APP_CHILD, str(data)) for _ in range(a.runs)]
    bare = [time_child(BARE_CHILD) for _ in range(a.runs)]
    s = summary_ms(ours)
    emit({
        "benchmark": "startup",
        "main_window_shown": s,
        "baseline_bare_pyside6_window": summary_ms(bare),
        "target_s": TARGET_S,
        "meets_target": s["p95_ms"] <= TARGET_S * 1000,
    })
    return 0 if s["p95_ms"] <= TARGET_S * 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
