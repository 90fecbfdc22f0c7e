"""`verify` of 1,000,000 custody events (target ≤ 10 s).

The chain is built as the kit builds it: each event signed, its signature checked once with the
public key as it is appended, and the kit-signed checkpoint moved along. Measured: `verify` (every
hash, link and the signatures' digest recomputed; signatures the checkpoint vouches for are not
checked again); `verify` with the checkpoint deleted (every Ed25519 signature, on all cores); and
`verify --fast`. Baseline in the same run: only reading the events from SQLite.
Usage: python benchmarks/bench_verify.py [--events 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit, workdir  # noqa: E402

TARGET_S = 10.0


def build(n: int) -> Path:
    """A data dir whose kit chain has n events over 1,000 items (signed by the kit's key)."""
    from kit_app.db import open_store
    from kit_app.evidence.custody import GENESIS, canonical, chain_digest, write_checkpoint
    from kit_app.evidence.keys import verifier
    from kit_app.evidence.service import EvidenceService
    from kit_app.ids import new_id
    from kit_app.timeutil import utcnow

    d = workdir("verify")
    store = open_store(d)
    ev = EvidenceService(store)
    now = utcnow()
    at = now.isoformat()
    kit = store.kit_id
    items = [new_id() for _ in range(1000)]
    case = new_id()
    with store.engine.begin() as c:
        c.exec_driver_sql("PRAGMA foreign_keys=OFF")
        c.exec_driver_sql(
            "INSERT INTO cases (id, number, title, status, party_name, opened_at, created_at, updated_at, "
            "origin_kit, row_version) VALUES (?, 'B-1', 'bench', 'open', 'bench', ?, ?, ?, ?, 1)",
            (case, now.strftime("%Y-%m-%d %H:%M:%S.%f"), now.strftime("%Y-%m-%d %H:%M:%S.%f"),
             now.strftime("%Y-%m-%d %H:%M:%S.%f"), kit))
        c.exec_driver_sql("PRAGMA foreign_keys=ON")
    with store.engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO evidence_items (id, case_id, kind, seal_no, metadata_json, warnings_json, imported_at, "
            "created_at, updated_at, origin_kit, row_version) VALUES (?, ?, 'physical_sample', 'S', '{}', '[]', "
            "?, ?, ?, ?, 1)",
            [(i, case, now.strftime("%Y-%m-%d %H:%M:%S.%f"), now.strftime("%Y-%m-%d %H:%M:%S.%f"),
              now.strftime("%Y-%m-%d %H:%M:%S.%f"), kit) for i in items])
    prev = digest = GENESIS
    check = verifier(ev.key.public_raw)
    actors = [{"id": new_id(), "name": "李明", "cert_no": "45010320231"}]
    rows = []
    for seq in range(1, n + 1):
        eid = new_id()
        item = items[seq % len(items)]
        body = {"v": 1, "id": eid, "kit_id": kit, "seq": seq, "prev_hash": prev, "evidence_id": item,
                "case_id": case, "kind": "viewed", "at": at, "clock": "kit", "actors": actors, "place": None,
                "device": None, "reason": "", "item_sha256": None, "details": {}}
        raw = canonical(body)
        h = hashlib.sha256(raw).hexdigest()
        sig = ev.key.sign(h.encode("ascii"))
        assert check(h.encode("ascii"), sig)  # as CustodyLog.append does
        digest = chain_digest(digest, h, sig)
        rows.append((eid, kit, seq, item, case, "viewed", at, "kit", raw.decode(), None, prev, h, sig))
        prev = h
        if len(rows) == 50000 or seq == n:
            with store.engine.begin() as c:
                c.exec_driver_sql(
                    "INSERT INTO custody_events (id, kit_id, seq, evidence_id, case_id, kind, at, clock, body, "
                    "item_sha256, prev_hash, hash, signature) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            rows = []
    with store.engine.begin() as c:
        c.exec_driver_sql("INSERT OR REPLACE INTO kit_meta (key, value) VALUES ('custody_head', ?)", (f"{n}:{prev}",))
    with store.session() as s:
        write_checkpoint(s, ev.key, n, prev, digest)
    store.close()
    return d


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    a = ap.parse_args()
    from kit_app.db import open_store
    from kit_app.evidence.service import EvidenceService

    t = time.perf_counter()
    d = build(a.events)
    build_s = time.perf_counter() - t
    store = open_store(d)
    ev = EvidenceService(store)
    t = time.perf_counter()
    with store.engine.connect() as c:
        n = sum(1 for _ in c.exec_driver_sql("SELECT body, hash, signature FROM custody_events ORDER BY seq"))
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    again = ev.verify()
    again_s = time.perf_counter() - t
    t = time.perf_counter()
    fast = ev.verify(all_signatures=False)
    fast_s = time.perf_counter() - t
    with store.engine.begin() as c:
        c.exec_driver_sql("DELETE FROM kit_meta WHERE key = 'custody_verified'")
    t = time.perf_counter()
    full = ev.verify()
    full_s = time.perf_counter() - t
    assert fast.ok and full.ok and again.ok and full.events_checked == n == a.events, (
        fast.as_dict(), full.as_dict())
    emit({
        "benchmark": "verify",
        "events": n,
        "build_s": round(build_s, 1),
        "baseline_read_events_s": round(read_s, 2),
        "verify_s": round(again_s, 2),
        "verify_fast_s": round(fast_s, 2),
        "verify_without_checkpoint_s": round(full_s, 2),
        "target_s": TARGET_S,
        "meets_target": again_s <= TARGET_S,
        "note": "without the checkpoint every Ed25519 signature is checked again (about 110 us each here)",
    })
    return 0 if again_s <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
