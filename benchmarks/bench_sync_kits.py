"""Kits syncing against one central server on loopback (``kit-central serve [--workers N]``, its
own processes; SQLite, or PostgreSQL with --db): 1,239 kits (the seed's terminal count) all at once,
and — with ``--spread`` — 12,390 kits (ten provinces' worth) spread over the 5-minute sync timer.

Each kit is enrolled beforehand (measured too) and then pushes one batch (a case, two evidence
items and three custody events, signed with its own Ed25519 key, checked by the server) and pulls
what came down. Baseline in the same run: the same clients hitting ``/api/v1/health`` at once (the
server's and loopback's floor).

Targets: zero errors; every push receipted; push p95 ≤ 2 s for 1,239 kits at once with N workers.
With ``--cost N`` (Linux), N more kits sync one after another against one worker first: the CPU each
kind of request costs the server, the database and the clients (what at-once latency is made of:
kits × cost ÷ CPUs).
Usage: python benchmarks/bench_sync_kits.py [--kits 1239] [--db URL] [--workers 1,2] [--spread 12390:300]
                                            [--cost 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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
            self.writer = None


class Clients:
    def __init__(self, port: int) -> None:
        self.port = port
        self.errors: list[str] = []

    async def timed(self, conn: Conn, *args: object, ok: int = 200,
                    **kw: object) -> tuple[dict | None, float]:  # type: ignore[type-arg]
        t = time.perf_counter()
        try:
            status, got = await conn.request(*args, **kw)  # type: ignore[arg-type]
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.errors.append(repr(exc))
            conn.writer = None
            return None, time.perf_counter() - t
        if status != ok:
            self.errors.append(f"{status} {str(got)[:100]}")
            return None, time.perf_counter() - t
        return got, time.perf_counter() - t

    async def enrol(self, kits: list[dict], codes: list[str], at_once: int) -> dict:  # type: ignore[type-arg]
        """Enrol every kit, ``at_once`` at a time; their credentials are kept on the kits."""
        gate = asyncio.Semaphore(at_once)

        async def one(k: dict, code: str) -> float:  # type: ignore[type-arg]
            async with gate:
                conn = Conn(self.port)
                got, t = await self.timed(conn, "POST", "/api/v1/enrol", {"code": code, "kit_id": k["kit_id"],
                                                                        "public_key_pem": k["pem"]}, ok=201)
                await conn.close()
                k["cred"] = got["credential"] if got else ""
                return t

        t0 = time.perf_counter()
        times = await asyncio.gather(*(one(k, c) for k, c in zip(kits, codes, strict=True)))
        took = time.perf_counter() - t0
        return {"seconds": round(took, 2), "per_s": round(len(kits) / took, 1), **summary_ms(list(times))}

    async def sync_one(self, k: dict) -> tuple[float, float, bool]:  # type: ignore[type-arg]
        """A kit's sync on a connection of its own: push a batch (checked, receipted), then pull."""
        conn = Conn(self.port)
        r1, t1 = await self.timed(conn, "POST", "/api/v1/push", k["batch"], token=k["cred"])
        r2, t2 = await self.timed(conn, "GET", "/api/v1/pull?since=0", token=k["cred"])
        await conn.close()
        return t1, t2, bool(r1 and r1.get("signature") and r2 is not None)


async def at_once(port: int, kits: list[dict]) -> dict:  # type: ignore[type-arg]
    """Every kit at the same moment (the worst case: all of a province's kits back on the network)."""
    c = Clients(port)
    conns = [Conn(port) for _ in kits]
    for cn in conns:  # connected first: what is measured is the server, not the client's connecting
        cn.reader, cn.writer = await asyncio.open_connection("127.0.0.1", port)
    t0 = time.perf_counter()
    base_res = await asyncio.gather(*(c.timed(cn, "GET", "/api/v1/health") for cn in conns))
    base_s = time.perf_counter() - t0

    async def one(cn: Conn, k: dict) -> tuple[float, float, bool]:  # type: ignore[type-arg]
        r1, t1 = await c.timed(cn, "POST", "/api/v1/push", k["batch"], token=k["cred"])
        r2, t2 = await c.timed(cn, "GET", "/api/v1/pull?since=0", token=k["cred"])
        return t1, t2, bool(r1 and r1.get("signature") and r2 is not None)

    t0 = time.perf_counter()
    res = await asyncio.gather(*(one(cn, k) for cn, k in zip(conns, kits, strict=True)))
    took = time.perf_counter() - t0
    for cn in conns:
        await cn.close()
    return _figures(c, kits, res, took) | {
        "baseline_health": {"seconds": round(base_s, 2), "requests_per_s": round(len(kits) / base_s, 1),
                            **summary_ms([t for _r, t in base_res])}}


async def spread(port: int, kits: list[dict], seconds: float) -> dict:  # type: ignore[type-arg]
    """Each kit at a random moment of the sync timer's period (how kits that are online arrive)."""
    c = Clients(port)
    rng = random.Random(5)
    starts = sorted(rng.uniform(0, seconds) for _ in kits)
    t0 = time.perf_counter()

    async def one(k: dict, at: float) -> tuple[float, float, bool]:  # type: ignore[type-arg]
        await asyncio.sleep(max(0.0, at - (time.perf_counter() - t0)))
        return await c.sync_one(k)

    res = await asyncio.gather(*(one(k, at) for k, at in zip(kits, starts, strict=True)))
    return _figures(c, kits, res, time.perf_counter() - t0) | {"period_s": seconds,
                                                               "arrivals_per_s": round(len(kits) / seconds, 1)}


def _cpu_ms(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used, in ms (Linux /proc)."""
    tick = 1000 / os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone in between
        total += int(fields[11]) + int(fields[12])
    return total * tick


def _postgres_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
            and _comm(p) == "postgres"]


def _comm(p: Path) -> str:
    try:
        return (p / "comm").read_text().strip()
    except OSError:
        return ""


async def costs(port: int, server_pid: int, kits: list[dict]) -> dict:  # type: ignore[type-arg]
    """Each kind of request, kit after kit on one connection (nothing queues): CPU ms per request
    of the server, of PostgreSQL (all its processes; 0 on SQLite) and of this client."""
    conn = Conn(port)
    out: dict[str, dict[str, float]] = {}
    kinds = (("health", "GET", "/api/v1/health", False), ("push", "POST", "/api/v1/push", True),
             ("pull", "GET", "/api/v1/pull?since=0", False))
    for name, method, path, body in kinds:
        pg = _postgres_pids()
        s0, p0, c0, t0 = _cpu_ms([server_pid]), _cpu_ms(pg), time.process_time(), time.perf_counter()
        for k in kits:
            status, got = await conn.request(method, path, k["batch"] if body else None, token=k["cred"])
            if status != 200:
                raise SystemExit(f"{name}: {status} {str(got)[:200]}")
        n = len(kits)
        out[name] = {"server_cpu_ms": round((_cpu_ms([server_pid]) - s0) / n, 2),
                     "database_cpu_ms": round((_cpu_ms(pg) - p0) / n, 2),
                     "client_cpu_ms": round((time.process_time() - c0) * 1000 / n, 2),
                     "wall_ms": round((time.perf_counter() - t0) * 1000 / n, 2)}
    await conn.close()
    per_kit = sum(v["server_cpu_ms"] + v["database_cpu_ms"] + v["client_cpu_ms"]
                  for k, v in out.items() if k != "health")
    return {"kits": len(kits), "requests": out, "cpu_ms_per_kit_sync": round(per_kit, 2),
            "floor_s_for_1239_at_once": round(1239 * per_kit / 1000 / (os.cpu_count() or 1), 2)}


def _figures(c: Clients, kits: list[dict], res: list[tuple[float, float, bool]], took: float) -> dict:  # type: ignore[type-arg]
    n = len(kits)
    return {"kits": n, "errors": len(c.errors), "error_samples": c.errors[:5], "seconds": round(took, 2),
            "kits_per_s": round(n / took, 1), "receipted": sum(ok for _a, _b, ok in res),
            "push": summary_ms([a for a, _b, _ok in res]), "pull": summary_ms([b for _a, b, _ok in res])}


def _database(base_url: str | None, work: Path, name: str) -> str:
    """A new, empty database for one scenario: PostgreSQL (a new database on the server named
    by --db) or SQLite in the work directory."""
    if not base_url:
        return f"sqlite:///{work / name}.sqlite3"
    import psycopg

    admin = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + f"/{name}"


def scenario(base_url: str | None, work: Path, n: int, workers: int, period: float,
             cost: bool = False) -> dict:  # type: ignore[type-arg]
    from central.db import make_engine, sessions
    from central.migrate import upgrade
    from central.service import Central

    name = f"bench_{n}_{workers}w_{int(period)}s" + ("_cost" if cost else "")
    url = _database(base_url, work, name)
    upgrade(url)
    engine = make_engine(url)
    central = Central(sessions(engine))
    for code, label in (("45", "广西"), ("4501", "南宁"), ("450103", "青秀")):
        central.add_agency(code, label)
    codes = [central.make_enrol_code("450103")["code"] for _ in range(n)]
    engine.dispose()
    kits = [synthetic_kit(i) for i in range(n)]
    with central_server(url, work / name / "blobs", workers=workers) as (server, port):
        clients = Clients(port)
        enrol = asyncio.run(clients.enrol(kits, codes, at_once=min(n, 1239)))
        if cost:
            return asyncio.run(costs(port, server.pid, kits))
        out = asyncio.run(spread(port, kits, period) if period else at_once(port, kits))
    out["errors"] += len(clients.errors)
    return {"workers": workers, "enrol": enrol, **out}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kits", type=int, default=1239)
    ap.add_argument("--db", help="SQLAlchemy URL of a PostgreSQL server (a database is made per scenario); "
                                 "default: SQLite in a temporary directory")
    ap.add_argument("--workers", default=f"1,{os.cpu_count() or 2}", help="server processes, e.g. 1,2")
    ap.add_argument("--spread", help="also KITS:SECONDS spread over the sync timer, e.g. 12390:300")
    ap.add_argument("--cost", type=int, metavar="KITS", help="also measure each request's CPU cost with this many "
                                                               "kits syncing one after another (Linux)")
    args = ap.parse_args()
    work = workdir("sync-kits")
    workers = [int(w) for w in args.workers.split(",")]
    cost = scenario(args.db, work, args.cost, 1, 0, cost=True) if args.cost else None
    runs = [scenario(args.db, work, args.kits, w, 0) for w in workers]
    if args.spread:
        n, secs = (int(x) for x in args.spread.split(":"))
        runs += [scenario(args.db, work, n, w, secs) for w in workers]
    out = {"database": "postgresql" if args.db else "sqlite", "cpus": os.cpu_count(), "runs": runs,
           **({"cost_per_request": cost} if cost else {}),
           "note": "server, clients and the database share these CPUs on one machine"}
    emit(out)
    ok = all(r["errors"] == 0 and r["receipted"] == r["kits"] for r in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
