"""``kit-central serve --workers N`` on an S3-compatible object store: several processes that keep
nothing of their own — a worker killed in the middle of a kit's sync is replaced, the kit's next
sync goes on where the last one stopped, and the server holds exactly what the kit holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from central.service import Central
from kit_app.db import Store
from kit_app.sync import client
from kit_app.sync.client import SyncError, enrol, sync
from tests.central.conftest import S3Server, ServerProcess
from tests.central.test_faults import assert_same, fill, running


def _workers(pid: int) -> set[int]:
    """The server's worker processes (children of its supervisor; not multiprocessing's helper)."""
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
                cmd = (d / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[1]) == pid and b"resource_tracker" not in cmd:
                out.add(int(d.name))
    return out


@pytest.fixture
def central(db_url: str, tmp_path: Path, s3_server: S3Server) -> Iterator[tuple[ServerProcess, Central]]:
    yield from running(db_url, ServerProcess(db_url, s3_server.bucket(), key=tmp_path / "signing-key.pem",
                                             extra=("--workers", "2")))


def test_workers_on_an_object_store_a_worker_killed_mid_sync(central, demo_store: Store, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    sp, c = central
    assert sp.proc is not None
    end = time.monotonic() + 20
    while len(_workers(sp.proc.pid)) < 2 and time.monotonic() < end:
        time.sleep(0.1)
    workers = _workers(sp.proc.pid)
    assert len(workers) == 2
    store = demo_store
    enrol(store, sp.base, c.make_enrol_code("450103")["code"])
    fill(store, tmp_path, cases=2)
    monkeypatch.setattr(client, "CHUNK", 128 * 1024)
    killed: list[int] = []

    def progress(totals: dict) -> None:  # type: ignore[type-arg]
        if totals.get("bytes", 0) >= 3 * 128 * 1024 and not killed:
            for pid in workers:  # both: whichever holds the kit's connection drops it
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    try:
        sync(store, progress)
    except SyncError:
        pass  # the connection broke under it (or another worker answered the retry)
    assert killed
    end = time.monotonic() + 30
    while (len(_workers(sp.proc.pid) - set(killed)) < 2) and time.monotonic() < end:
        time.sleep(0.2)
    assert len(_workers(sp.proc.pid) - set(killed)) == 2  # the supervisor replaced them
    res = sync(store)
    assert res["status"]["synced"]
    assert_same(c, sp.storage, store)
    p = subprocess.run([str(Path(sys.executable).with_name("kit-central")), "--db", sp.db_url, "--json", "verify",
                        "--storage", str(sp.storage)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
