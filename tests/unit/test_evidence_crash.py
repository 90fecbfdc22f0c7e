"""kill -9 an ingesting process at random moments, many times: after each, start-up recovery
leaves every item fully in (original, row, custody event) or not there at all."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kit_app.db import open_store
from kit_app.evidence.blobs import sha256_file
from kit_app.evidence.service import EvidenceService
from kit_app.services.cases import CaseService
from kit_app.services.demo import DemoGenerator
from kit_app.services.officers import OfficerService
from tests.helpers.photos import make_jpeg

RUNS = 12


def check_store(data: Path) -> tuple[int, int]:
    store = open_store(data)
    ev = EvidenceService(store)
    recovered = ev.recover()
    assert not any((ev.blobs.tmp).iterdir())
    con = sqlite3.connect(data / "kit.sqlite3")
    items = con.execute("SELECT id, sha256 FROM evidence_items WHERE sha256 IS NOT NULL").fetchall()
    for eid, sha in items:
        p = ev.blobs.path_for(sha)
        assert p.exists() and sha256_file(p) == sha, eid
        n = con.execute("SELECT count(*) FROM custody_events WHERE evidence_id = ? AND kind = 'imported'",
                        (eid,)).fetchone()[0]
        assert n == 1, eid
    assert set(ev.blobs.all_blobs()) == {sha for _e, sha in items}, "no orphan originals"
    con.close()
    rep = ev.verify()
    assert rep.ok, rep.as_dict()
    store.close()
    return len(items), recovered["orphan_blobs"] + recovered["temporary_files"]


def test_kill_ingest_at_random_moments(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = open_store(data)
    DemoGenerator(store, seed=2).generate(50, 0)
    li = OfficerService(store).login("45010320231", "demo1234")
    case = CaseService(store).create(party="测试当事人", title="崩溃测试", actor=li)
    EvidenceService(store)  # creates the kit key before the first child runs
    store.close()
    rng = random.Random(8)
    cleaned = killed = 0

    def start(run: int) -> subprocess.Popen[bytes]:
        folder = tmp_path / f"sd{run}"
        folder.mkdir()
        for i in range(50):
            make_jpeg(folder / f"IMG_{i:04d}.JPG", size=(1200, 900), seed=run * 100 + i, quality=95)
        return subprocess.Popen(
            [sys.executable, "-m", "kit_app", "--data-dir", str(data), "ingest", "--case", case.id,
             "--officer", "45010320231", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # one uninterrupted run tells how long an ingest takes here; the kills land inside that span
    t0 = time.monotonic()
    start(RUNS).wait()
    span = time.monotonic() - t0
    check_store(data)
    for run in range(RUNS):
        p = start(run)
        time.sleep(rng.uniform(0.15, 0.95) * span)
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            killed += 1
        p.wait()
        _items, removed = check_store(data)
        cleaned += removed
    items, _ = check_store(data)
    assert killed >= RUNS // 2, "most runs must be cut short, or the test proves little"
    assert items > 0
