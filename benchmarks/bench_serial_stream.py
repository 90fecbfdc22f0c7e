"""A 60-second HJ 212 stream at 115,200 baud through a pseudo-terminal: zero packets dropped.

The shipped simulator writes real-time data packets (2011) back to back, paced as a 115,200-baud
8N1 line would carry them, and reports how many it sent. The app's own reading path (a device
session: pyserial, stream decoder, CRC check, per-message callback) receives them. Baseline in the
same run: a bare ``os.read`` loop on the same kind of stream, counting bytes only.
Usage: python benchmarks/bench_serial_stream.py [--seconds 60] [--baud 115200]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit  # noqa: E402


def start_sim(seconds: float, baud: int) -> tuple[subprocess.Popen[str], str]:
    p = subprocess.Popen([sys.executable, "-m", "devices.sim", "hj212", "--pty", "--rate", "0", "--baud", str(baud),
                          "--duration", str(seconds), "--wait", "1.0", "--report"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None
    return p, p.stdout.readline().strip()


def finish(p: subprocess.Popen[str], seconds: float) -> dict[str, float]:
    _out, err = p.communicate(timeout=seconds + 30)
    return json.loads(err.strip().splitlines()[-1])


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_session(seconds: float, baud: int) -> dict[str, object]:
    from devices.registry import DeviceConfig
    from devices.session import DeviceSession

    p, port = start_sim(seconds, baud)
    qns: list[str] = []
    sess = DeviceSession(DeviceConfig(name="bench", driver="serial", port=port, protocol="hj212", baud=baud),
                         on_item=lambda it: qns.append(it["qn"]) if it.get("valid") else None)
    c0, t0 = cpu(), time.monotonic()
    sess.start()
    sent = finish(p, seconds)
    time.sleep(0.5)
    sess.stop()
    used = cpu() - c0
    wall = time.monotonic() - t0
    dupes = len(qns) - len(set(qns))
    return {"sent": int(sent["sent"]), "sent_bytes": int(sent["bytes"]), "received_valid": len(qns),
            "dropped": int(sent["sent"]) - len(set(qns)), "duplicates": dupes,
            "damaged": sess.counters.invalid, "skipped_bytes": sess.counters.skipped_bytes,
            "in_order": qns == sorted(qns), "packets_per_s": round(len(qns) / float(sent["seconds"]), 1),
            "line_bytes_per_s": round(int(sent["bytes"]) / float(sent["seconds"])),
            "reader_cpu_pct": round(100 * used / wall, 1)}


def run_bare(seconds: float, baud: int) -> dict[str, object]:
    import select

    p, port = start_sim(seconds, baud)
    fd = os.open(port, os.O_RDONLY | os.O_NOCTTY)
    got = 0
    c0, t0 = cpu(), time.monotonic()
    try:
        while p.poll() is None or select.select([fd], [], [], 0.2)[0]:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                got += len(chunk)
    finally:
        os.close(fd)
    sent = finish(p, seconds)
    used = cpu() - c0
    return {"sent_bytes": int(sent["bytes"]), "received_bytes": got,
            "reader_cpu_pct": round(100 * used / (time.monotonic() - t0), 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--baud", type=int, default=115200)
    a = ap.parse_args()
    app = run_session(a.seconds, a.baud)
    bare = run_bare(min(a.seconds, 10.0), a.baud)
    ok = app["dropped"] == 0 and app["duplicates"] == 0 and app["in_order"]
    emit({"benchmark": "hj212_serial_stream", "seconds": a.seconds, "baud": a.baud, "kit_session": app,
          "baseline_bare_read": bare, "target": "zero dropped packets", "meets_target": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
