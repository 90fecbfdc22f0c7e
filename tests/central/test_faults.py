"""Sync through faults: a proxy cutting connections at random byte offsets, answering 500 or
stalling; the server killed mid-upload; the kit's sync process killed at random moments; the kit's
clock hours off. Afterwards the server holds exactly what the kit holds, byte for byte, and both
verify. The server runs as its own process (``kit-central serve``)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

import forms
from central.db import CustodyEvent as ServerEvent
from central.db import Record, make_engine, sessions
from central.migrate import upgrade
from central.service import Central, Push
from central.service.blobs_s3 import open_blob_store
from kit_app.db import Store
from kit_app.db.models import Case, CustodyEvent, Document, EvidenceItem, KitMeta
from kit_app.evidence.service import EvidenceService
from kit_app.services.cases import CaseService
from kit_app.services.documents import DocumentService
from kit_app.services.officers import OfficerService
from kit_app.sync import client
from kit_app.sync.client import SyncError, enrol, sync
from kit_app.sync.snapshot import snapshot as _snapshot
from tests.central.conftest import ServerProcess
from tests.helpers.faultproxy import Fault, FaultProxy

BIN = Path(sys.executable).parent


def running(db_url: str, sp: ServerProcess) -> Iterator[tuple[ServerProcess, Central]]:
    """A database with Qingxiu's agencies and an officer, served by ``sp`` (killed afterwards)."""
    upgrade(db_url)
    engine = make_engine(db_url)
    c = Central(sessions(engine))
    c.add_agency("45", "广西壮族自治区生态环境厅")
    c.add_agency("4501", "南宁市生态环境局")
    c.add_agency("450103", "南宁市生态环境局青秀区分局")
    c.add_officer(cert_no="45010320231", name="李明", roles="officer", agency="450103", password="demo1234")
    sp.start()
    yield sp, c
    sp.kill()
    engine.dispose()


@pytest.fixture
def central(db_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, Central]]:
    yield from running(db_url, ServerProcess(db_url, tmp_path / "blobs"))


HOURS_OFF = timedelta(hours=7, minutes=13)


def fill(store: Store, tmp_path: Path, cases: int = 4) -> None:
    """Cases with photos/videos (random bytes), a sealed sample and an issued document each."""
    rng = random.Random(7)
    li = OfficerService(store).login("45010320231", "demo1234")
    ev = EvidenceService(store)
    for i in range(cases):
        case = CaseService(store).create(party="南宁市绿源化工有限公司", title=f"超标排放 {i}", actor=li)
        files = []
        for j in range(2):
            p = tmp_path / f"c{i}-{j}.mp4"
            p.write_bytes(b"\x00\x00\x00\x18ftypmp42" + rng.randbytes(rng.randrange(300_000, 1_500_000)))
            files.append(p)
        assert all(r.status == "ok" for r in ev.ingest(case.id, li, files, thumbnails=False))
        ev.add_physical(case.id, li, seal_no=f"GXQX-{i:03d}", description="废水样品 500 mL", place="总排口")
        DocumentService(store, ev).issue(case.id, li, "service_receipt", forms.get("service_receipt").example)


def assert_same(central: Central, storage: Path | str, store: Store) -> None:
    """The server holds exactly the kit's records, custody chain and originals; both verify."""
    with store.session() as s:
        kit_records = {}
        for model, entity in ((Case, "case"), (EvidenceItem, "evidence"), (Document, "document")):
            for (rid,) in s.execute(s.query(model.id).statement):
                snap = _snapshot(s, entity, rid)
                kit_records[(entity, rid)] = snap["body"] | {"row_version": snap["row_version"]}
        kit_events = [(e.seq, e.body, e.hash, e.signature) for e in
                      s.query(CustodyEvent).filter(CustodyEvent.kit_id == store.kit_id).order_by(CustodyEvent.seq)]
        shas = {sha for (sha,) in s.query(EvidenceItem.sha256).filter(EvidenceItem.sha256.is_not(None))}
    with central.sessions() as s:
        server_records = {(r.entity, r.id): json.loads(r.body)
                          for r in s.query(Record).filter(Record.kit_id == store.kit_id)}
        server_events = [(e.seq, e.body, e.hash, e.signature) for e in
                         s.query(ServerEvent).filter(ServerEvent.kit_id == store.kit_id).order_by(ServerEvent.seq)]
    assert server_records == kit_records
    assert server_events == kit_events and len(kit_events) > 0
    blobs = open_blob_store(storage)
    kit_blobs = EvidenceService(store).blobs
    for sha in shas:
        assert b"".join(blobs.read(sha)) == kit_blobs.path_for(sha).read_bytes()
    report = Push(central).verify(blobs)
    assert report["ok"], report["problems"]
    assert report["blobs_checked"] == len(shas)
    assert EvidenceService(store).verify().ok


def point_at(store: Store, url: str) -> None:
    with store.write_session() as s:
        s.get(KitMeta, "central_url").value = url


def test_sync_through_random_faults_with_the_clock_hours_off(central, demo_store: Store, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sp, c = central
    store = demo_store
    enrol(store, sp.base, c.make_enrol_code("450103")["code"])
    task = c.assign_case(agency="450103", title="群众举报", party_name="南宁市绿源化工有限公司",
                         officers=["45010320231"])
    monkeypatch.setattr(client, "TIMEOUT", 1.5)
    monkeypatch.setattr(client, "CHUNK", 256 * 1024)
    monkeypatch.setattr(client, "BATCH_RECORDS", 4)
    rng = random.Random(20261129)
    kinds = ("cut_up", "cut_down", "http500", "stall")

    def plan(n: int) -> Fault | None:
        if n == 0:
            return Fault("cut_down", 1)  # the first batch arrives but its receipt is lost: it is sent twice
        if n <= len(kinds):  # every kind of fault at least once, then at random
            kind = kinds[n - 1]
        elif rng.random() < 0.4:
            return None
        else:
            kind = rng.choice(kinds)
        return Fault(kind, {"cut_up": rng.randrange(1, 400_000), "cut_down": rng.randrange(1, 4_000),
                            "http500": 0, "stall": 2}[kind])

    # the kit's clock is hours ahead of the server's while it works and syncs
    with time_machine.travel(time.time() + HOURS_OFF.total_seconds(), tick=True):
        fill(store, tmp_path)
        with FaultProxy(sp.port, plan) as proxy:
            point_at(store, proxy.base)
            failures, replays = 0, [0]
            for _attempt in range(150):
                try:
                    res = sync(store, lambda t: replays.append(t.get("replayed", 0)))
                except SyncError:
                    failures += 1
                    continue
                if res["status"]["synced"]:
                    break
            else:
                pytest.fail(f"not synced after {failures} failed attempts")
    assert failures >= 5 and {f.kind for f in proxy.faults} == set(kinds), proxy.faults
    assert max(replays) >= 1  # the batch delivered twice was recognised, nothing duplicated
    assert_same(c, sp.storage, store)
    with store.session() as s:
        assert s.get(Case, task["id"]) is not None  # the assignment came down through the faults too
    # receipts carry the server's time, not the kit's
    with store.session() as s:
        from kit_app.db.models import SyncReceipt

        stamps = [r.received_at for r in s.query(SyncReceipt)]
    from datetime import UTC, datetime

    assert stamps and all(abs(datetime.fromisoformat(t) - datetime.now(UTC)) < timedelta(minutes=10) for t in stamps)


def test_server_killed_mid_upload(central, demo_store: Store, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sp, c = central
    store = demo_store
    enrol(store, sp.base, c.make_enrol_code("450103")["code"])
    fill(store, tmp_path, cases=2)
    monkeypatch.setattr(client, "CHUNK", 128 * 1024)
    killed = []

    def progress(totals: dict) -> None:  # type: ignore[type-arg]
        if totals.get("bytes", 0) >= 3 * 128 * 1024 and not killed:
            killed.append(totals["bytes"])
            sp.kill()  # SIGKILL: no chance to tidy up

    with pytest.raises(SyncError):
        sync(store, progress)
    assert killed
    sp.start()
    res = sync(store)
    assert res["status"]["synced"]
    total = sum(os.path.getsize(p) for p in tmp_path.glob("c*.mp4"))
    assert res["uploaded"]["bytes"] < total  # resumed: what the killed server had kept was not sent again
    assert_same(c, sp.storage, store)


def test_sync_process_killed_at_random_moments(central, demo_store: Store, tmp_path: Path) -> None:
    sp, c = central
    store = demo_store
    enrol(store, sp.base, c.make_enrol_code("450103")["code"])
    fill(store, tmp_path, cases=3)
    data_dir = store.data_dir
    store.close()
    rng = random.Random(11)
    cmd = [str(BIN / "kit-app"), "--lang", "en", "--data-dir", str(data_dir), "sync", "--json"]
    env = os.environ | {"KIT_SYNC_CHUNK": str(16 * 1024)}  # many small requests: more moments to die in
    kills = 0
    for _ in range(6):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(rng.uniform(0.4, 1.6))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait(10)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"]["synced"]
    assert kills >= 2
    from kit_app.db import open_store

    again = open_store(data_dir)
    try:
        assert_same(c, sp.storage, again)
    finally:
        again.close()
