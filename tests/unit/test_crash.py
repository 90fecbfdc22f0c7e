"""A kill -9 at any instant of an import leaves the store consistent: the file's rows are either
all in (with their search index) or not at all, and the index trigger is in place."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kit_app.db import open_store
from kit_app.services.search import SearchService
from tests.helpers.data import SOURCE_HEADER_ZH, write_csv

ROWS = 6000


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kit_app import creditcode

    rng = random.Random(4)
    rows = [[f"南宁市第{i}号测试化工有限公司", creditcode.generate("450103", rng), f"青秀区测试路{i}号",
             "青秀区", "化学原料和化学制品制造业", "108.4", "22.8", ""] for i in range(ROWS)]
    return write_csv(tmp_path_factory.mktemp("crash") / "big.csv", SOURCE_HEADER_ZH, rows)


def _start(data: Path, csv: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "kit_app", "--data-dir", str(data), "import-sources", str(csv)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def span(tmp_path_factory: pytest.TempPathFactory, big_csv: Path) -> float:
    """How long one whole import takes here, start-up included: the kills land inside it."""
    data = tmp_path_factory.mktemp("span") / "data"
    open_store(data).close()
    t = time.monotonic()
    _start(data, big_csv).wait()
    return time.monotonic() - t


def test_kill_during_import(tmp_path: Path, big_csv: Path, span: float) -> None:
    outcomes: list[tuple[bool, int]] = []
    for fraction in (0.45, 0.6, 0.7, 0.8, 0.9, 1.3):
        outcomes.append(_kill_once(tmp_path / f"data{fraction}", big_csv, span, fraction))
    # the kills really cut imports short, and the last run finished: else the test proves little
    assert any(killed and n == 0 for killed, n in outcomes)
    assert any(n == ROWS for _k, n in outcomes)


def _kill_once(data: Path, big_csv: Path, span: float, fraction: float) -> tuple[bool, int]:
    open_store(data).close()  # migrations done: the kill hits the import itself
    p = _start(data, big_csv)
    time.sleep(fraction * span)
    if p.poll() is None:
        os.kill(p.pid, signal.SIGKILL)
    p.wait()
    con = sqlite3.connect(data / "kit.sqlite3")
    n = con.execute("SELECT count(*) FROM sources").fetchone()[0]
    assert n in (0, ROWS)
    outcome = (p.returncode == -signal.SIGKILL, n)
    con.execute("INSERT INTO sources_fts(sources_fts) VALUES('integrity-check')")
    assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sources_fts_ai'").fetchone()[0] == 1
    con.close()
    store = open_store(data)
    if n:
        assert SearchService(store).search("第5999号测试")[0].row.name == "南宁市第5999号测试化工有限公司"
    else:  # the import can simply be run again
        from kit_app.services.importer import ImportService

        assert ImportService(store).import_sources(big_csv).imported == ROWS
    store.close()

    return outcome
