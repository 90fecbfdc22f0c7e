"""Search latency at 23,000 and 230,000 pollution sources, against a plain LIKE '%q%' scan.

Targets: p95 ≤ 20 ms at 23,000 sources and ≤ 50 ms at 230,000.
Usage: python benchmarks/bench_search.py [--sizes 23000,230000] [--queries 300]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit, summary_ms, workdir  # noqa: E402
from kit_app.db import open_store  # noqa: E402
from kit_app.services.demo import DemoGenerator  # noqa: E402
from kit_app.services.search import SearchService  # noqa: E402

TARGET_P95_MS = {23000: 20.0, 230000: 50.0}


def make_queries(store, n: int, seed: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A realistic mix drawn from the data: what officers type in the field."""
    rng = random.Random(seed)
    with store.engine.connect() as c:
        rows = c.exec_driver_sql(
            "SELECT name, credit_code, permit_no, address, name_abbr, name_py FROM sources "
            "ORDER BY random() LIMIT 2000").all()
    kinds = ["fragment", "fragment", "fragment", "short", "initials", "initials", "pinyin",
             "credit_code", "permit_no", "address", "miss"]
    out = []
    for i in range(n):
        name, code, permit, address, abbr, py = rows[i % len(rows)]
        kind = kinds[i % len(kinds)]
        if kind == "fragment":  # a brand + trade, e.g. 宏达化工
            start = rng.randint(0, max(0, len(name) - 4))
            q = name[start:start + rng.randint(3, 5)]
        elif kind == "short":
            start = rng.randint(0, max(0, len(name) - 2))
            q = name[start:start + 2]
        elif kind == "initials":
            q = abbr[: rng.randint(3, 6)]
        elif kind == "pinyin":
            q = py[: rng.randint(5, 12)]
        elif kind == "credit_code":
            q = code
        elif kind == "permit_no":
            q = permit or code
        elif kind == "address":
            q = (address or name)[-8:-2]
        else:
            q = "没有这个企业名称"
        out.append((kind, q))
    return out


def like_baseline(store, q: str, limit: int) -> list[str]:  # type: ignore[no-untyped-def]
    like = f"%{q}%"
    with store.engine.connect() as c:
        return [r[0] for r in c.exec_driver_sql(
            "SELECT id FROM sources WHERE name LIKE ? OR address LIKE ? OR credit_code LIKE ? "
            "OR permit_no LIKE ? LIMIT ?", (like, like, like, like, limit))]


def run_size(size: int, nq: int) -> dict[str, object]:
    d = workdir(f"search{size}")
    store = open_store(d)
    t = time.perf_counter()
    DemoGenerator(store, seed=11).generate(size, 0, officers=False)
    gen_s = time.perf_counter() - t
    queries = make_queries(store, nq, seed=5)
    svc = SearchService(store)
    for _kind, q in queries[:20]:  # warm the page cache and the pinyin tables
        svc.search(q)
    ours, base = [], []
    by_kind: dict[str, list[float]] = {}
    for kind, q in queries:
        t0 = time.perf_counter()
        svc.search(q, limit=50)
        dt = time.perf_counter() - t0
        ours.append(dt)
        by_kind.setdefault(kind, []).append(dt)
        t0 = time.perf_counter()
        like_baseline(store, q, 50)
        base.append(time.perf_counter() - t0)
    store.close()
    s = summary_ms(ours)
    return {
        "sources": size,
        "generate_s": round(gen_s, 2),
        "search": s,
        "baseline_like": summary_ms(base),
        "by_kind_p95_ms": {k: summary_ms(v)["p95_ms"] for k, v in sorted(by_kind.items())},
        "target_p95_ms": TARGET_P95_MS.get(size),
        "meets_target": s["p95_ms"] <= TARGET_P95_MS.get(size, float("inf")),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="23000,230000")
    ap.add_argument("--queries", type=int, default=330)
    a = ap.parse_args()
    results = [run_size(int(s), a.queries) for s in a.sizes.split(",")]
    emit({"benchmark": "search", "results": results})
    return 0 if all(r["meets_target"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
