"""The API fuzzed from its own OpenAPI document (schemathesis), against the live server on SQLite
and PostgreSQL, with no token, a kit's credential and an administrator's token: no 5xx, no status
the document does not declare, no response that breaks its schema. Bounded in examples and time."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from central.db import make_engine, sessions
from central.migrate import upgrade
from central.service import BlobStore, Central, Push
from kit_app.db import Store
from kit_app.services.cases import CaseService
from kit_app.services.officers import OfficerService
from kit_app.sync.client import auth_header, enrol, push
from tests.central.conftest import ServerProcess

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def fuzz(server, workdir: Path, token: str | None, *exclude: str) -> None:  # type: ignore[no-untyped-def]
    exe = Path(sys.executable).with_name("schemathesis")
    cmd = [str(exe), "run", f"{server.base}/api/v1/openapi.json", "--checks", CHECKS, "--max-examples", "15",
           "--max-time", "20", "--seed", "20261130", "--workers", "1", "--suppress-health-check", "all",
           "--no-shrink", "--request-timeout", "20"]
    for path in exclude:
        cmd += ["--exclude-path", path]
    if token:
        cmd += ["--header", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=workdir)  # its cache goes there
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, Central]]:
    """The server as it runs in production: its own process (nothing it does leaks into the test's)."""
    upgrade(db_url)
    engine = make_engine(db_url)
    sp = ServerProcess(db_url, tmp_path / "blobs")
    sp.start()
    yield sp, Central(sessions(engine))
    sp.kill()
    engine.dispose()


@pytest.mark.slow
def test_the_api_never_fails_and_keeps_its_word(live, demo_store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, c = live
    c.add_agency("45", "广西壮族自治区生态环境厅")
    c.add_agency("4501", "南宁市生态环境局")
    c.add_agency("450103", "南宁市生态环境局青秀区分局")
    c.add_officer(cert_no="GXADMIN001", name="管理员", roles="admin,reviewer", agency="45", password="pass-word-1")
    enrol(demo_store, server.base, c.make_enrol_code("450103")["code"], name="青秀一号")
    li = OfficerService(demo_store).login("45010320231", "demo1234")
    CaseService(demo_store).create(party="南宁市绿源化工有限公司", title="超标排放", actor=li)
    push(demo_store)
    kit_token = auth_header(demo_store)["Authorization"].removeprefix("Bearer ")
    officer_token = httpx.post(f"{server.base}/api/v1/login",
                               json={"cert_no": "GXADMIN001", "password": "pass-word-1"}).json()["token"]

    fuzz(server, tmp_path, None)
    fuzz(server, tmp_path, kit_token)
    fuzz(server, tmp_path, officer_token, "/api/v1/logout")  # signing out would end the session under test
    assert Push(c).verify(BlobStore(tmp_path / "blobs"))["ok"]
