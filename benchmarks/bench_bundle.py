"""The installable bundle (PyInstaller one-folder, `make bundle`) against the development install
(`make run`): its size, cold start to the login window on the same data dir, and a headless command.

Usage: make bundle && python benchmarks/bench_bundle.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit, workdir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "kit-app" / "kit-app"


def size_mb(folder: Path) -> float:
    return round(sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6, 1)


def to_login(command: str, data_dir: Path, home: Path) -> float:
    """Seconds from starting the process to its login window shown (the launcher's remote control)."""
    os.environ["KIT_APP_COMMAND"] = command
    from tests.helpers.launcher import KitApp

    t = time.perf_counter()
    app = KitApp(home, ["--data-dir", str(data_dir)], None)
    try:
        app.wait_window("LoginDialog", timeout=120)
        return time.perf_counter() - t
    finally:
        app.close()


def headless(command: str) -> float:
    t = time.perf_counter()
    subprocess.run([command, "--version"], check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if not BUNDLE.exists():
        print("build the bundle first: make bundle", file=sys.stderr)
        return 2
    dev = str(Path(sys.executable).with_name("kit-app"))
    data = workdir("bundle-data")
    subprocess.run([dev, "--data-dir", str(data), "demo-data", "--sources", "23000", "--projects", "3000"],
                   check=True, capture_output=True)
    figures: dict[str, dict[str, float]] = {}
    for name, command in (("bundle", str(BUNDLE)), ("make_run", dev)):
        to_login(command, data, workdir("bundle-home"))  # once: the disk cache, as on a second start
        logins = [to_login(command, data, workdir("bundle-home")) for _ in range(a.runs)]
        heads = [headless(command) for _ in range(a.runs)]
        figures[name] = {"to_login_window_s": round(statistics.median(logins), 2),
                         "kit_app_version_s": round(statistics.median(heads), 2)}
    emit({"benchmark": "bundle", "bundle_mb": size_mb(BUNDLE.parent), "runs": a.runs} | figures)
    shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
