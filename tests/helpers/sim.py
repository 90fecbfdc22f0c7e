"""Start the shipped device simulators on pseudo-terminals for tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def simulator(*args: str) -> Iterator[str]:
    """``python -m devices.sim ARGS --pty``; yields the port, kills the simulator at the end."""
    p = subprocess.Popen([sys.executable, "-m", "devices.sim", *args, "--pty"], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        port = p.stdout.readline().strip()
        assert port.startswith("/dev/"), port
        yield port
    finally:
        p.kill()
        p.wait()
        if p.stdout is not None:
            p.stdout.close()
