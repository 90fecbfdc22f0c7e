"""Evidence upload throughput: ``kit-app sync`` uploading one large original (default 1 GiB;
``--mb 2048`` for the 2 GB video of the issue) to ``kit-central serve`` on loopback, against
``curl`` uploading the same file to the same server in the same run (same 4 MB chunks, one
keep-alive connection, the same endpoint). Both processes' peak memory is reported (VmHWM):
the upload streams in bounded memory on both sides.

Target: kit throughput ≥ 0.5× curl's.
Usage: python benchmarks/bench_upload.py [--mb 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import central_server, emit, enrolled_kit, workdir

CHUNK = 4 * 1024 * 1024


def hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=1024)
    args = ap.parse_args()
    from central.db import make_engine, sessions
    from central.migrate import upgrade
    from central.service import Central
    from kit_app.db import open_store
    from kit_app.evidence.service import EvidenceService
    from kit_app.services.cases import CaseService
    from kit_app.services.demo import DemoGenerator
    from kit_app.services.officers import OfficerService
    from kit_app.sync.client import auth_header

    work = workdir("upload")
    video = work / "video.mp4"
    block = os.urandom(CHUNK)
    with video.open("wb") as fh:
        fh.write(b"\x00\x00\x00\x18ftypmp42")
        for i in range(args.mb // 4):
            fh.write(block[:-8] + i.to_bytes(8, "big"))  # distinct chunks, cheap to make
    size = video.stat().st_size
    store = open_store(work / "kit")
    DemoGenerator(store, seed=7).generate(50, 5)
    li = OfficerService(store).login("45010320231", "demo1234")
    case = CaseService(store).create(party="当事人", title="视频", actor=li)
    [res] = EvidenceService(store).ingest(case.id, li, [video], thumbnails=False)
    sha = res.sha256
    store.close()

    url = f"sqlite:///{work / 'central.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    c = Central(sessions(engine))
    c.add_agency("45", "广西")
    code = c.make_enrol_code("45")["code"]
    engine.dispose()
    blobs = work / "blobs"
    with central_server(url, blobs) as (server, port):
        kit = enrolled_kit(work / "kit", port, code)
        cred = auth_header(open_store(work / "kit"))["Authorization"].removeprefix("Bearer ")
        # the kit
        t0 = time.perf_counter()
        p = subprocess.Popen([*kit, "sync", "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        kit_s = time.perf_counter() - t0
        kit_rss = round(usage.ru_maxrss / 1024, 1)
        stored = blobs / "objects" / sha[:2] / sha
        ok_kit = stored.exists() and stored.stat().st_size == size
        # curl: the same file, the same chunks, the same endpoint (after removing the server's copy)
        stored.chmod(0o644)
        stored.unlink()
        parts = work / "parts"
        parts.mkdir()
        subprocess.run(["split", "-b", str(CHUNK), "-d", "-a", "4", str(video), str(parts / "p")], check=True)
        cmd = ["curl", "-s", "-f", "-H", f"Authorization: Bearer {cred}"]
        for i, part in enumerate(sorted(parts.iterdir())):
            url = f"http://127.0.0.1:{port}/api/v1/blobs/{sha}?offset={i * CHUNK}&size={size}"
            cmd += ["-o", "/dev/null", "-T", str(part), url]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        curl_s = time.perf_counter() - t0
        ok_curl = stored.exists() and stored.stat().st_size == size
        server_rss = hwm_mb(server.pid)
    h = hashlib.sha256()
    with stored.open("rb") as fh:
        for b in iter(lambda: fh.read(1 << 20), b""):
            h.update(b)
    mb = size / 1e6
    out = {
        "bytes": size,
        "kit": {"seconds": round(kit_s, 2), "mb_per_s": round(mb / kit_s, 1), "exit_code": p.returncode,
                "stored": ok_kit, "peak_rss_mb": kit_rss},
        "curl": {"seconds": round(curl_s, 2), "mb_per_s": round(mb / curl_s, 1), "stored": ok_curl},
        "ratio_kit_to_curl": round(curl_s / kit_s, 2),
        "server_peak_rss_mb": server_rss,
        "server_copy_sha256_ok": h.hexdigest() == sha,
        "target_ratio": 0.5,
    }
    emit(out)
    return 0 if ok_kit and ok_curl and out["ratio_kit_to_curl"] >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
