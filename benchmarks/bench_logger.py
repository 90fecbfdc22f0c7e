"""Reading a data logger's minute history as the platform would, from the shipped logger simulator:
30 days (43,200 minute records, each carrying every pollutant) over TCP, and a stretch of it through
a pseudo-terminal paced as a 9,600-baud RS-485 line (half duplex: the kit's 9014 answers take the
line's time too), projected to 30 days.

Baselines in the same run: the line's limit (every byte both ways at 10 bits a byte — what no
reader can beat) for the serial line; for TCP, the simulator making the same records in-process
(what the data source itself costs). Target: the serial read within 1.1× the line's limit, the TCP
read well under the 9,600-baud line (so the officer waits on the line, never on the kit).
Usage: python benchmarks/bench_logger.py [--days 30] [--serial-hours 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit  # noqa: E402

MN = "45010300000000000000A001"


def simulator(days: float, *where: str) -> tuple[subprocess.Popen[str], str]:
    p = subprocess.Popen([sys.executable, "-m", "devices.sim", "logger", "--days", str(days), "--seed", "7",
                          "--exit-with-parent", *where], stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    assert p.stdout is not None
    return p, p.stdout.readline().strip()


def read(url: str, begin: datetime, end: datetime) -> dict:  # type: ignore[type-arg]
    from devices.logger import decode, read_logger

    t0, c0 = time.perf_counter(), time.process_time()
    exchange, summary = read_logger(url, ["minute"], begin, end, mn=MN, overtime=10)
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    records = decode([e.record() for e in exchange.entries])["minute"]
    decode_s = time.perf_counter() - t1
    if summary.get("error"):
        raise SystemExit(summary["error"])
    return {"records": len(records), "values_per_record": len(records[0]["values"]) if records else 0,
            "bytes_received": summary["bytes_received"], "bytes_sent": summary["bytes_sent"],
            "seconds": round(took, 2), "kit_cpu_s": round(cpu, 2), "records_per_s": round(len(records) / took, 1),
            "decode_again_s": round(decode_s, 2)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--serial-hours", type=float, default=2.0, help="minutes read through the 9,600-baud line")
    ap.add_argument("--baud", type=int, default=9600)
    args = ap.parse_args()
    from devices.logger import endpoint_url
    from devices.sim.logger import History, Settings

    now = datetime.now(UTC)
    begin = now - timedelta(days=args.days)
    out: dict = {"days": args.days}  # type: ignore[type-arg]

    t0 = time.perf_counter()
    made = History(Settings(seed=7, days=args.days)).records("2051", begin, now)
    out["baseline_simulator_makes_records_s"] = round(time.perf_counter() - t0, 2)

    sim, where = simulator(args.days, "--tcp", "0")
    try:
        out["tcp"] = read(endpoint_url(tcp=where), begin, now)
    finally:
        sim.kill()
    out["tcp"]["expected_records"] = len(made)

    sim, port = simulator(args.days, "--pty", "--baud", str(args.baud))
    try:
        s = read(port, now - timedelta(hours=args.serial_hours), now)
    finally:
        sim.kill()
    line_s = (s["bytes_received"] + s["bytes_sent"]) * 10 / args.baud
    per_record = s["seconds"] / max(1, s["records"])
    s |= {"baud": args.baud, "line_limit_s": round(line_s, 2), "vs_line_limit": round(s["seconds"] / line_s, 3),
          "projected_30_days_h": round(per_record * 43_200 / 3600, 2),
          "line_limit_30_days_h": round(line_s / max(1, s["records"]) * 43_200 / 3600, 2)}
    out["serial"] = s
    out["tcp"]["vs_9600_baud_line"] = round(out["tcp"]["seconds"] / (s["line_limit_30_days_h"] * 3600 * args.days / 30),
                                            4)
    emit(out)
    # the simulator's last whole minute may have turned since the baseline was made: one more record
    ok = abs(out["tcp"]["records"] - len(made)) <= 1 and s["vs_line_limit"] <= 1.1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
