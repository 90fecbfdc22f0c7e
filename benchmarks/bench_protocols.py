"""HJ 212 and NMEA 0183 parse throughput on one core (target ≥ 50,000 messages/s each).

Baselines in the same run: checking only the HJ 212 CRC, and only splitting an NMEA sentence and
computing its checksum — the floor under any parser that validates its input.
Usage: python benchmarks/bench_protocols.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit  # noqa: E402
from devices import hj212, nmea  # noqa: E402

TARGET = 50000
UPLOAD = ("QN=20261129093000123;ST=32;CN=2011;PW=123456;MN=88888880000001;Flag=5;CP=&&DataTime=20261129093000;"
          "w01018-Rtd=48.5,w01018-Flag=N;w21003-Rtd=3.21,w21003-Flag=N;w00000-Rtd=12.7,w00000-Flag=N&&")
GGA = nmea.sentence("GPGGA,013000.00,2248.7220,N,10822.2100,E,1,12,0.8,85.3,M,-5.1,M,,")
RMC = nmea.sentence("GNRMC,013000.00,A,2248.7220,N,10822.2100,E,0.02,,291126,,,A")


def rate(fn, items, seconds: float = 1.5) -> float:  # type: ignore[no-untyped-def]
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for x in items:
            fn(x)
        n += len(items)
    return n / (time.perf_counter() - t0)


def main() -> int:
    frames = [hj212.frame(UPLOAD.replace("48.5", f"{40 + i / 10:.1f}")) for i in range(100)]
    lines = [GGA, RMC] * 50
    hj = rate(hj212.parse, frames)
    hj_base = rate(lambda f: hj212.crc16_fast(f[6:-6]), frames)
    nm = rate(nmea.parse, lines)
    nm_base = rate(lambda s: (s.split(","), nmea.checksum(s[1:s.rfind("*")])), lines)
    emit({
        "benchmark": "protocols",
        "hj212_per_s": round(hj),
        "hj212_baseline_crc_only_per_s": round(hj_base),
        "nmea_per_s": round(nm),
        "nmea_baseline_split_and_checksum_per_s": round(nm_base),
        "target_per_s": TARGET,
        "meets_target": hj >= TARGET and nm >= TARGET,
    })
    return 0 if hj >= TARGET and nm >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
