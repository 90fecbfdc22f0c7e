"""A full sync of a kit holding 1,000 cases with 10 evidence items each (files of a few KB to
tens of KB, every item with its custody events, 11,000 events in all) to an empty central server
on loopback (``kit-central serve`` in its own process): push, pull, upload, measured end to end
with ``kit-app sync``. Baseline in the same run: ``curl`` posting the same number of requests'
worth of the same bytes? No — the honest floor is the server's own cost, so the baseline is the
same sync to a server that already holds everything (a second, no-op sync).

Target: ≤ 30 s for the full sync.
Usage: python benchmarks/bench_full_sync.py [--cases 1000] [--items 10]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import central_server, emit, enrolled_kit, workdir


def build_kit(data_dir: Path, files: Path, cases: int, items: int) -> int:
    from kit_app.db import open_store
    from kit_app.evidence.service import EvidenceService
    from kit_app.services.cases import CaseService
    from kit_app.services.demo import DemoGenerator
    from kit_app.services.officers import OfficerService

    store = open_store(data_dir)
    DemoGenerator(store, seed=7).generate(200, 20)
    li = OfficerService(store).login("45010320231", "demo1234")
    ev, cs = EvidenceService(store), CaseService(store)
    rng = random.Random(1)
    total = 0
    for i in range(cases):
        case = cs.create(party="南宁市绿源化工有限公司", title=f"检查 {i}", actor=li)
        paths = []
        for j in range(items):
            p = files / f"{i:04d}-{j}.jpg"
            data = b"\xff\xd8\xff\xe0" + rng.randbytes(rng.randrange(2_000, 40_000))
            p.write_bytes(data)
            total += len(data)
            paths.append(p)
        ev.ingest(case.id, li, paths, thumbnails=False)
    store.close()
    return total


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--items", type=int, default=10)
    args = ap.parse_args()
    from central.db import make_engine, sessions
    from central.migrate import upgrade
    from central.service import Central

    work = workdir("full-sync")
    (work / "files").mkdir()
    t0 = time.perf_counter()
    size = build_kit(work / "kit", work / "files", args.cases, args.items)
    build_s = time.perf_counter() - t0
    url = f"sqlite:///{work / 'central.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    c = Central(sessions(engine))
    for code, name in (("45", "广西"), ("4501", "南宁"), ("450103", "青秀")):
        c.add_agency(code, name)
    code = c.make_enrol_code("450103")["code"]
    engine.dispose()
    with central_server(url, work / "blobs") as (_server, port):
        kit = enrolled_kit(work / "kit", port, code)
        t0 = time.perf_counter()
        p = subprocess.run([*kit, "sync", "--json"], capture_output=True, text=True)
        full_s = time.perf_counter() - t0
        res = json.loads(p.stdout)
        t0 = time.perf_counter()
        q = subprocess.run([*kit, "sync", "--json"], capture_output=True, text=True)
        noop_s = time.perf_counter() - t0
    out = {
        "cases": args.cases, "items_per_case": args.items, "bytes": size,
        "build_kit_s": round(build_s, 1),
        "full_sync_s": round(full_s, 2),
        "exit_code": p.returncode,
        "pushed": res.get("pushed"), "uploaded": res.get("uploaded"), "seconds": res.get("seconds"),
        "synced": res.get("status", {}).get("synced"),
        "baseline_noop_sync_s": round(noop_s, 2), "noop_exit_code": q.returncode,
        "target_s": 30, "cpus": os.cpu_count(),
    }
    emit(out)
    return 0 if p.returncode == 0 and full_s <= 30 else 1


if __name__ == "__main__":
    sys.exit(main())
