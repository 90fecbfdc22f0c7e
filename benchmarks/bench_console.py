"""The command centre's pages at a province's scale: a year of records as the kits push them —
3,000 cases and 6,000 inspections across Guangxi's 14 cities, 30,000 evidence items with their GPS
positions, 20,000 issued documents — and the pages a provincial supervisor opens (overview with the
map, cases, the map, statistics), each fetched repeatedly over HTTP from ``kit-central serve``.
Baseline in the same run: ``/api/v1/health``.

Target: each page under 2 s at p95 (a supervisor waits for none of them).
Usage: python benchmarks/bench_console.py [--cases 3000] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import central_server, emit, summary_ms, workdir

CITIES = [f"45{n:02d}" for n in range(1, 15)]


def populate(url: str, cases: int) -> None:
    """Records as pushed by kits (their bodies as the kits' snapshots make them), written directly."""
    from central.db import Kit, Record, make_engine, sessions
    from central.service import Central
    from kit_app.ids import new_id
    from kit_app.timeutil import utcnow

    engine = make_engine(url)
    c = Central(sessions(engine))
    c.add_agency("45", "广西壮族自治区生态环境厅")
    for city in CITIES:
        c.add_agency(city, f"市局 {city}", "45")
        for county in range(1, 4):
            c.add_agency(f"{city}{county:02d}", f"县局 {city}{county:02d}", city)
    c.add_officer(cert_no="45000000001", name="黄省", roles="admin", agency="45", password="demo1234")
    rng = random.Random(3)
    now = utcnow()
    with c.sessions.begin() as s:
        kits = []
        for city in CITIES:
            for county in range(1, 4):
                k = Kit(id=new_id(), agency_code=f"{city}{county:02d}", public_key_pem="-", credential_hash=new_id(),
                        name=f"kit {city}{county:02d}", last_seen_at=now)
                s.add(k)
                kits.append(k)
        s.flush()
        seq = 0
        for i in range(cases * 3):  # a third cases, two thirds inspections
            k = rng.choice(kits)
            kind = "case" if i % 3 == 0 else "inspection"
            opened = now - timedelta(days=rng.uniform(0, 365))
            cid = new_id()
            status = rng.choice(("filing", "investigating", "review", "decided", "closed")) if kind == "case" \
                else "inspecting"
            body = {"id": cid, "number": f"{k.agency_code}-2026-{i:06d}", "title": "涉嫌超标排放", "kind": kind,
                    "status": status, "party_name": f"企业 {i}", "opened_at": opened.isoformat(),
                    "discovered_on": (opened - timedelta(days=2)).date().isoformat(),
                    "closed_at": (opened + timedelta(days=60)).isoformat() if status == "closed" else None,
                    "history": [{"id": new_id(), "seq": 1, "action": "open", "from_state": None,
                                 "to_state": "filing" if kind == "case" else "inspecting",
                                 "at": opened.isoformat(), "details": {}}],
                    "inspection": ({"findings": [{"id": new_id()}] * rng.randint(0, 2)} if kind == "inspection"
                                   else None)}
            seq += 1
            s.add(Record(entity="case", id=cid, kit_id=k.id, agency_code=k.agency_code, case_id=cid, row_version=1,
                         body=json.dumps(body, ensure_ascii=False), received_at=now, server_seq=seq))
            lat, lon = 21.5 + rng.random() * 4, 105 + rng.random() * 6.5
            for _e in range(rng.randint(2, 5) if kind == "case" else rng.randint(0, 4)):
                eid = new_id()
                seq += 1
                s.add(Record(entity="evidence", id=eid, kit_id=k.id, agency_code=k.agency_code, case_id=cid,
                             row_version=1, body=json.dumps({"id": eid, "case_id": cid, "latitude": lat,
                                                             "longitude": lon}),
                             received_at=now, server_seq=seq, latitude=lat, longitude=lon))
            for _d in range(rng.randint(1, 4) if kind == "case" else rng.randint(1, 2)):
                did = new_id()
                seq += 1
                s.add(Record(entity="document", id=did, kit_id=k.id, agency_code=k.agency_code, case_id=cid,
                             row_version=1, body=json.dumps({"id": did, "case_id": cid, "issued_at": opened.isoformat(),
                                                             "doc_type": rng.choice(("inspection_record",
                                                                                     "interview_record",
                                                                                     "order_to_correct"))}),
                             received_at=now, server_seq=seq))
    engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--db", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    import httpx

    from central.migrate import upgrade

    work = workdir("console")
    url = args.db or f"sqlite:///{work / 'central.sqlite3'}"
    upgrade(url)
    t0 = time.perf_counter()
    populate(url, args.cases)
    made = time.perf_counter() - t0
    out: dict[str, object] = {"cases": args.cases, "inspections": 2 * args.cases, "populate_s": round(made, 1),
                              "database": "postgresql" if args.db else "sqlite"}
    with central_server(url, work / "blobs") as (_server, port):
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=120) as h:
            r = h.post("/console/login", content="cert_no=45000000001&password=demo1234&next=/console/",
                       headers={"content-type": "application/x-www-form-urlencoded"})
            h.cookies.set("kit_console", r.cookies["kit_console"], path="/console")
            pages = {"health (baseline)": "/api/v1/health", "overview": "/console/", "cases": "/console/cases",
                     "map": "/console/map", "stats": "/console/stats"}
            figures = {}
            for name, path in pages.items():
                times, size = [], 0
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    resp = h.get(path)
                    times.append(time.perf_counter() - t)
                    assert resp.status_code == 200, (path, resp.status_code)
                    size = len(resp.content)
                figures[name] = summary_ms(times) | {"bytes": size}
    out["pages"] = figures
    emit(out)
    worst = max(v["p95_ms"] for k, v in figures.items() if k != "health (baseline)")
    return 0 if worst <= 2000 else 1


if __name__ == "__main__":
    sys.exit(main())
