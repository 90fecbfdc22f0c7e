from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kit_app import i18n  # noqa: E402
from kit_app.db import Store, open_store  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Never touch the real user data dir or preferences; messages in English unless a test asks otherwise."""
    monkeypatch.setenv("KIT_DATA_DIR", str(tmp_path / "default-data"))
    monkeypatch.setenv("KIT_CONFIG_DIR", str(tmp_path / "config"))
    # kit-central run by a test keeps its signing key here, never in the checkout's central-data/
    monkeypatch.setenv("KIT_CENTRAL_SIGNING_KEY", str(tmp_path / "signing-key.pem"))
    monkeypatch.delenv("KIT_LANG", raising=False)
    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    s = open_store(data_dir)
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with 3,000 generated sources and 400 projects, made once per session."""
    from kit_app.services.demo import DemoGenerator

    d = tmp_path_factory.mktemp("demo")
    s = open_store(d)
    DemoGenerator(s, seed=7).generate(3000, 400)
    s.close()
    return d


@pytest.fixture
def demo_store(demo_dir: Path, tmp_path: Path) -> Iterator[Store]:
    """A private copy of the demo data dir (tests may write to it)."""
    import shutil

    d = tmp_path / "demo-copy"
    src = open_store(demo_dir)
    src.engine.dispose()
    # checkpoint the WAL so a file copy is complete
    import sqlite3

    con = sqlite3.connect(demo_dir / "kit.sqlite3")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.copytree(demo_dir, d)
    s = open_store(d)
    yield s
    s.close()
