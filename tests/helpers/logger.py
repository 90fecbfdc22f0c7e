"""The shipped data logger simulator, and a portable analyzer at the same stack, for tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

MN = "45010300000000000000A001"


@contextmanager
def logger_sim(*args: str, tcp: bool = False) -> Iterator[str]:
    """``python -m devices.sim logger ARGS --pty|--tcp 0`` (seed 3); yields the pyserial URL
    (a pty path, or ``socket://127.0.0.1:PORT``)."""
    from devices.logger import endpoint_url

    where = ["--tcp", "0"] if tcp else ["--pty"]
    p = subprocess.Popen([sys.executable, "-m", "devices.sim", "logger", "--seed", "3", *args, *where],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        first = p.stdout.readline().strip()
        yield endpoint_url(tcp=first) if tcp else first
    finally:
        p.kill()
        p.wait()
        if p.stdout is not None:
            p.stdout.close()


def analyzer_readings(minutes: int = 15, caps: dict[str, float] | None = None,
                      codes: tuple[str, ...] = ("a21026", "a21002")) -> list[dict[str, Any]]:
    """A portable flue-gas analyzer's session at the simulated plant's stack (seed 3) over the last
    ``minutes``, a reading every 10 s, as ``EvidenceService.add_readings`` takes them."""
    from devices import hj212
    from devices.sim.logger import true_value

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    out = []
    for k in range(minutes * 6):
        t = now - timedelta(minutes=minutes + 1) + timedelta(seconds=10 * k)
        cp = f"DataTime={t.astimezone(hj212.LOCAL).strftime('%Y%m%d%H%M%S')};" + ";".join(
            f"{code}-Rtd={true_value(code, t, seed=3, caps=caps):.2f},{code}-Flag=N" for code in codes)
        p = hj212.parse(hj212.encode(st="31", cn="2011", mn="ANALYZER0000000000000001", cp=cp))
        out.append({"valid": True, **p.as_dict(), "received_at": t.isoformat(), "raw": p.raw.hex()})
    return out
