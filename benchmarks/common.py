"""Helpers shared by the benchmark scripts (each prints JSON figures on stdout)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary_ms(samples: list[float]) -> dict[str, float]:
    ms = [x * 1000 for x in samples]
    return {
        "p50_ms": round(percentile(ms, 0.5), 3),
        "p95_ms": round(percentile(ms, 0.95), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "n": len(ms),
    }


def emit(result: dict[str, Any]) -> None:
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    sys.stdout.flush()


def workdir(name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"kit-bench-{name}-"))


@contextmanager
def central_server(url: str, storage: Path, workers: int = 1) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``kit-central serve [--workers N]`` in its own process on a free loopback port, up and
    answering (with N workers: each of them)."""
    import httpx

    from tests.central.conftest import _free_port

    port = _free_port()
    exe = Path(sys.executable).with_name("kit-central")
    log = open(os.environ.get("KIT_BENCH_SERVER_LOG") or os.devnull, "wb")  # the server's log, if asked for
    server = subprocess.Popen([str(exe), "--db", url, "--signing-key", str(storage.parent / "signing-key.pem"),
                               "serve", "--storage", str(storage), "--port", str(port), "--workers", str(workers)],
                              stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    try:
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        time.sleep(1.0 if workers > 1 else 0)  # the other workers finish starting
        yield server, port
    finally:
        server.terminate()
        server.wait(30)


def enrolled_kit(data_dir: Path, port: int, code: str) -> list[str]:
    """Enrol the kit in ``data_dir`` with the server; the ``kit-app`` command line for it."""
    kit = [str(Path(sys.executable).with_name("kit-app")), "--lang", "en", "--data-dir", str(data_dir)]
    subprocess.run([*kit, "enrol", "--server", f"http://127.0.0.1:{port}", "--code", code], check=True,
                   capture_output=True)
    return kit
