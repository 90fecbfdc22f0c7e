"""Enrolment of a kit with a one-time code, over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from central.service import Central
from kit_app.db import Store
from kit_app.sync.client import SyncError, enrol, enrolment, whoami


def admin(server, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    exe = Path(sys.executable).with_name("kit-central")
    p = subprocess.run([str(exe), "--db", server.db_url, "--json", *args], capture_output=True, text=True,
                       input="pass-word-1\n")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_enrol_with_a_one_time_code(server, store: Store) -> None:  # type: ignore[no-untyped-def]
    assert admin(server, "agency", "add", "--code", "45", "--name", "广西壮族自治区生态环境厅")["parent"] is None
    assert admin(server, "agency", "add", "--code", "4501", "--name", "南宁市生态环境局")["parent"] == "45"
    assert admin(server, "agency", "add", "--code", "450103", "--name", "南宁市生态环境局青秀区分局")["parent"] == "4501"
    assert admin(server, "agency", "set", "--code", "450103", "--court", "南宁铁路运输法院")["court"] == "南宁铁路运输法院"
    admin(server, "officer", "add", "--name", "李明", "--cert", "45010320231", "--agency", "450103",
          "--password-stdin")
    code = admin(server, "enrol-code", "--agency", "450103")["code"]
    assert len(code) == 19 and code.count("-") == 3
    res = enrol(store, server.base, code.lower().replace("-", " "), name="青秀一号执法箱")  # typed loosely
    assert res["agency_code"] == "450103" and res["agency_name"] == "南宁市生态环境局青秀区分局"
    assert enrolment(store)["server"] == server.base
    me = whoami(store)
    assert me["kit_id"] == store.kit_id and me["name"] == "青秀一号执法箱"
    # the code works once only; a wrong credential is refused
    with pytest.raises(SyncError, match="used already"):
        enrol(store, server.base, code)
    r = httpx.get(f"{server.base}/api/v1/kit", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "unknown" in r.json()["detail"]
    assert httpx.get(f"{server.base}/api/v1/kit").status_code == 401
    kits = admin(server, "kits")
    assert [k["kit_id"] for k in kits] == [store.kit_id] and kits[0]["last_seen_at"]
    # the API is described
    spec = httpx.get(f"{server.base}/api/v1/openapi.json").json()
    assert {"/api/v1/enrol", "/api/v1/kit", "/api/v1/health"} <= set(spec["paths"])


def test_refusals_name_the_reason(server, store: Store) -> None:  # type: ignore[no-untyped-def]
    c: Central = server.app.state.central
    c.add_agency("45", "广西")
    with pytest.raises(SyncError, match="unknown enrolment code"):
        enrol(store, server.base, "AAAA-BBBB-CCCC-DDDD")
    r = httpx.post(f"{server.base}/api/v1/enrol", json={"code": c.make_enrol_code("45")["code"],
                                                       "kit_id": store.kit_id, "public_key_pem": "not a key"})
    assert r.status_code == 400 and "PEM" in r.json()["detail"]
    with pytest.raises(SyncError, match="cannot reach"):
        enrol(store, "http://127.0.0.1:9", "AAAA-BBBB-CCCC-DDDD")
    p = subprocess.run([str(Path(sys.executable).with_name("kit-central")), "--db", server.db_url, "agency", "add",
                        "--code", "450103", "--name", "x"], capture_output=True, text=True)
    assert p.returncode == 1 and "上级机构 4501 尚未登记" in p.stderr  # Chinese by default, the cause named
    p = subprocess.run([str(Path(sys.executable).with_name("kit-central")), "--lang", "en", "--db", server.db_url,
                        "agency", "add", "--code", "450103", "--name", "x"], capture_output=True, text=True)
    assert p.returncode == 1 and "parent agency 4501 is not known" in p.stderr


def test_cli_enrol(server, data_dir: Path, store: Store) -> None:  # type: ignore[no-untyped-def]
    c: Central = server.app.state.central
    c.add_agency("45", "广西")
    code = c.make_enrol_code("45")["code"]
    store.close()
    exe = Path(sys.executable).with_name("kit-app")
    p = subprocess.run([str(exe), "--lang", "en", "--data-dir", str(data_dir), "enrol", "--server", server.base,
                        "--code", code, "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["agency_code"] == "45"
    p = subprocess.run([str(exe), "--lang", "en", "--data-dir", str(data_dir), "enrol", "--server", server.base,
                        "--code", code], capture_output=True, text=True)
    assert p.returncode == 1 and "used already" in p.stderr
