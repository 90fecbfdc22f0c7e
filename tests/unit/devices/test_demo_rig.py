"""The demo kit's simulators live exactly as long as the application that started them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devices.demo import DemoRig

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals")

CHILD = r"""
import json, sys, time
from pathlib import Path
from devices.demo import DemoRig
rig = DemoRig(Path(sys.argv[1]))
rig.start()
print(json.dumps([p.pid for p in rig.procs]), flush=True)
time.sleep(600)
"""


def gone(pid: int) -> bool:
    """Ended (a zombie no one has reaped yet counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def test_stop_ends_every_simulator(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from devices.demo import demo_logger
    from devices.logger import decode, read_logger

    rig = DemoRig(tmp_path)
    configs = rig.start()
    procs = list(rig.procs)
    assert len(procs) == 5 and all(Path(c.port).exists() for c in configs if c.driver == "serial")
    # the enterprise's logger to read, for training: it reports sulphur dioxide just under its limit
    found = demo_logger(tmp_path)
    assert found is not None
    now = datetime.now(UTC)
    exchange, summary = read_logger(found["port"], ["minute"], now - timedelta(minutes=30), now, mn=found["mn"],
                                    overtime=3)
    rows = decode([e.record() for e in exchange.entries])["minute"]
    assert "error" not in summary and len(rows) >= 28
    assert all(r["values"]["a21026"]["Avg"] < 50 for r in rows)
    rig.stop()
    assert all(p.poll() is not None for p in procs) and rig.procs == []
    assert demo_logger(tmp_path) is None


def test_simulators_end_when_the_application_is_killed(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[3])
    assert child.stdout is not None
    pids = json.loads(child.stdout.readline())
    assert len(pids) == 5 and not any(gone(p) for p in pids)
    child.send_signal(signal.SIGKILL)  # a crash: nothing of the application runs any more
    child.wait()
    child.stdout.close()
    deadline = time.monotonic() + 10
    while not all(gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in pids if not gone(p)]
    for pid in left:  # do not leave them running after a failure
        os.kill(pid, signal.SIGKILL)
    assert not left, f"simulators still running after the application was killed: {left}"
