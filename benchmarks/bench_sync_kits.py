"""1,239 simulated kits (the seed's terminal count) syncing concurrently against one central
server on loopback (``kit-central serve``, its own process; SQLite, or PostgreSQL with --db).

Each kit has been enrolled beforehand (measured too) and then, all at once, pushes one batch (a
case, two evidence items and three custody events, signed with its own Ed25519 key, checked by
the server) and pulls what came down. Baseline in the same run: the same 1,239 clients hitting
``/api/v1/health`` at once (the server's and loopback's floor).

Targets: zero errors; every push receipted; p95 latency reported.
Usage: python benchmarks/bench_sync_kits.py [--kits 1239] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import central_server, emit, summary_ms, workdir
from tests.helpers.kits import synthetic_kit


class Conn:
    """One kit's keep-alive HTTP/1.1 connection over asyncio streams (httpx's async pool, not the
    server, was the bottleneck at this many connections)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: object = None,
                      token: str | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        data = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {len(data)}\r\n"
        if data:
            head += "content-type: application/json\r\n"
        if token:
            head += f"authorization: Bearer {token}\r\n"
        self.writer.write(head.encode() + b"\r\n" + data)
        await self.writer.drain()
        assert self.reader is not None
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            k, _, v = line.decode().partition(":")
            if k.lower() == "content-length":
                length = int(v)
        payload = await self.reader.readexactly(length)
        return status, json.loads(payload) if payload else {}

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def run(port: int, kits: list[dict], codes: list[str]) -> dict:  # type: ignore[type-arg]
    errors: list[str] = []
    conns = [Conn(port) for _ in kits]

    async def timed(conn: Conn, *args: object, ok: int = 200, **kw: object) -> tuple[dict | None, float]:  # type: ignore[type-arg]
        t = time.perf_counter()
        try:
            status, got = await conn.request(*args, **kw)  # type: ignore[arg-type]
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors.append(repr(exc))
            conn.writer = None
            return None, time.perf_counter() - t
        if status != ok:
            errors.append(f"{status} {str(got)[:100]}")
            return None, time.perf_counter() - t
        return got, time.perf_counter() - t

    # enrolment, all at once
    t0 = time.perf_counter()
    res = await asyncio.gather(*(timed(cn, "POST", "/api/v1/enrol", {"code": c, "kit_id": k["kit_id"],
                                                                      "public_key_pem": k["pem"]}, ok=201)
                                 for cn, k, c in zip(conns, kits, codes, strict=True)))
    enrol_s = time.perf_counter() - t0
    for k, (got, _t) in zip(kits, res, strict=True):
        k["cred"] = got["credential"] if got else ""

    # baseline: the same connections, the cheapest endpoint
    t0 = time.perf_counter()
    base_res = await asyncio.gather(*(timed(cn, "GET", "/api/v1/health") for cn in conns))
    base_s = time.perf_counter() - t0

    # the sync: push a batch (checked and receipted), then pull
    async def sync_one(cn: Conn, k: dict) -> tuple[float, float, bool]:  # type: ignore[type-arg]
        r1, t1 = await timed(cn, "POST", "/api/v1/push", k["batch"], token=k["cred"])
        r2, t2 = await timed(cn, "GET", "/api/v1/pull?since=0", token=k["cred"])
        return t1, t2, bool(r1 and r1.get("signature") and r2 is not None)

    t0 = time.perf_counter()
    sync_res = await asyncio.gather(*(sync_one(cn, k) for cn, k in zip(conns, kits, strict=True)))
    sync_s = time.perf_counter() - t0
    for cn in conns:
        await cn.close()
    n = len(kits)
    return {
        "kits": n,
        "errors": len(errors),
        "error_samples": errors[:5],
        "enrol": {"seconds": round(enrol_s, 2), "per_s": round(n / enrol_s, 1), **summary_ms([t for _r, t in res])},
        "sync": {"seconds": round(sync_s, 2), "kits_per_s": round(n / sync_s, 1),
                 "requests_per_s": round(2 * n / sync_s, 1), "receipted": sum(ok for _a, _b, ok in sync_res),
                 "push": summary_ms([a for a, _b, _ok in sync_res]),
                 "pull": summary_ms([b for _a, b, _ok in sync_res])},
        "baseline_health": {"seconds": round(base_s, 2), "requests_per_s": round(n / base_s, 1),
                            **summary_ms([t for _r, t in base_res])},
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kits", type=int, default=1239)
    ap.add_argument("--db", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    args = ap.parse_args()
    from central.db import make_engine, sessions
    from central.migrate import upgrade
    from central.service import Central

    work = workdir("sync-kits")
    url = args.db or f"sqlite:///{work / 'central.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    c = Central(sessions(engine))
    for code, name in (("45", "广西"), ("4501", "南宁"), ("450103", "青秀")):
        c.add_agency(code, name)
    codes = [c.make_enrol_code("450103")["code"] for _ in range(args.kits)]
    engine.dispose()
    kits = [synthetic_kit(i) for i in range(args.kits)]
    with central_server(url, work / "blobs") as (_server, port):
        out = asyncio.run(run(port, kits, codes))
    out["database"] = "postgresql" if url.startswith("postgresql") else "sqlite"
    out["cpus"] = os.cpu_count()
    out["note"] = "server, 1,239 clients and the database share these CPUs on one machine"
    emit(out)
    return 0 if out["errors"] == 0 and out["sync"]["receipted"] == args.kits else 1


if __name__ == "__main__":
    sys.exit(main())
