"""Pushing a kit's cases, evidence, documents and custody chain: idempotent batches, signed
receipts, the chain checked on the server, and a push cut off half-way finished later."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import forms
from central.service import Central
from kit_app.db import Store
from kit_app.evidence.service import EvidenceService
from kit_app.ids import new_id
from kit_app.services.cases import CaseService
from kit_app.services.documents import DocumentService
from kit_app.services.officers import OfficerService
from kit_app.sync.client import SyncError, enrol, push


@pytest.fixture
def kit(server, demo_store: Store):  # type: ignore[no-untyped-def]
    c: Central = server.app.state.central
    c.add_agency("45", "广西壮族自治区生态环境厅")
    c.add_agency("4501", "南宁市生态环境局")
    c.add_agency("450103", "南宁市生态环境局青秀区分局")
    enrol(demo_store, server.base, c.make_enrol_code("450103")["code"], name="青秀一号")
    li = OfficerService(demo_store).login("45010320231", "demo1234")
    case = CaseService(demo_store).create(party="南宁市绿源化工有限公司", title="超标排放", actor=li)
    ev = EvidenceService(demo_store)
    ev.add_physical(case.id, li, seal_no="GXQX-001", description="废水样品 500 mL", place="总排口")
    DocumentService(demo_store, ev).issue(case.id, li, "service_receipt", forms.get("service_receipt").example)
    return demo_store, case, li, ev


def central_cli(server, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run([str(Path(sys.executable).with_name("kit-central")), "--db", server.db_url, "--json", *args],
                          capture_output=True, text=True)


def kit_events(store: Store) -> int:
    with store.engine.connect() as c:
        return int(c.exec_driver_sql("SELECT count(*) FROM custody_events").scalar())


def test_push_everything_once_with_receipts(server, kit) -> None:  # type: ignore[no-untyped-def]
    store, case, li, ev = kit
    res = push(store)
    assert res["custody_events"] == kit_events(store) == 3 and res["records"] >= 4
    got = json.loads(central_cli(server, "received").stdout)
    [k] = got
    assert k["kit_id"] == store.kit_id and k["custody_events"] == 3
    assert k["records"] == {"case": 1, "evidence": 2, "document": 1}
    pdf = next(e for e in k["evidence"] if e["sha256"])
    assert len(pdf["sha256"]) == 64 and pdf["size"] > 1000
    assert central_cli(server, "verify").returncode == 0
    # nothing new: nothing sent; the receipts are kept and signed by the server's key
    assert push(store)["batches"] == 0
    with store.engine.connect() as c:
        receipts = c.exec_driver_sql("SELECT body, signature FROM sync_receipts").all()
        assert c.exec_driver_sql("SELECT count(*) FROM sync_outbox").scalar() == 0
    assert receipts
    import base64
    import hashlib

    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from kit_app.evidence.custody import canonical

    key = load_pem_public_key(httpx.get(f"{server.base}/api/v1/server-key").json()["public_key_pem"].encode())
    for body, sig in receipts:
        digest = hashlib.sha256(canonical(json.loads(body))).hexdigest()
        key.verify(base64.b64decode(sig), digest.encode("ascii"))  # raises if forged
    # a later change goes in the next batch
    item = ev.list_for_case(case.id)[0]
    ev.record(item["id"], "annotated", li, reason="标签已核对")
    assert push(store)["custody_events"] == 1
    assert json.loads(central_cli(server, "received").stdout)[0]["custody_events"] == 4


def test_a_replayed_batch_changes_nothing(server, kit) -> None:  # type: ignore[no-untyped-def]
    store, *_ = kit
    from kit_app.sync.client import _next_batch, auth_header

    batch = _next_batch(store)
    assert batch is not None
    body = {k: batch[k] for k in ("batch_id", "records", "custody")}
    headers = auth_header(store)
    first = httpx.post(f"{server.base}/api/v1/push", json=body, headers=headers).json()
    again = httpx.post(f"{server.base}/api/v1/push", json=body, headers=headers).json()
    assert not first["replayed"] and again["replayed"]
    assert again["server_seq"] == first["server_seq"] and again["signature"] == first["signature"]
    res = push(store)  # the kit still thinks the batch is unanswered: it resends it and gets the receipt
    assert res["replayed"] == 1
    k = json.loads(central_cli(server, "received").stdout)[0]
    assert k["custody_events"] == 3 and k["records"] == {"case": 1, "evidence": 2, "document": 1}


def test_the_case_history_travels_and_cannot_be_rewritten(server, kit) -> None:  # type: ignore[no-untyped-def]
    from kit_app.services.lifecycle import CaseLifecycle
    from kit_app.sync.client import auth_header
    from kit_app.sync.snapshot import snapshot as _snapshot

    store, case, _li, _ev = kit
    head = OfficerService(store).login("45010320001", "demo1234")
    CaseLifecycle(store).act(case.id, "approve_filing", head)
    push(store)
    c: Central = server.app.state.central
    from sqlalchemy import select

    from central.db import Record

    with c.sessions() as s:
        held = json.loads(s.scalar(select(Record.body).where(Record.id == case.id)))
    assert held["status"] == "investigating" and [h["action"] for h in held["history"]] == ["open", "approve_filing"]
    assert held["history"][1]["actor_cert"] == "45010320001"
    # a version whose history was rewritten (the filing dated earlier) is refused loudly
    with store.session() as s:
        forged = _snapshot(s, "case", case.id)
    assert forged is not None
    forged["row_version"] += 1
    forged["body"]["row_version"] = forged["row_version"]
    forged["body"]["history"][1]["at"] = "2026-01-01T00:00:00+00:00"
    r = httpx.post(f"{server.base}/api/v1/push", json={"batch_id": new_id(), "records": [forged], "custody": []},
                   headers=auth_header(store))
    assert r.status_code == 409 and "history" in r.json()["detail"]


def test_a_broken_chain_is_refused_loudly(server, kit) -> None:  # type: ignore[no-untyped-def]
    store, *_ = kit
    from kit_app.sync.client import _next_batch, auth_header

    batch = _next_batch(store)
    headers = auth_header(store)
    ev = dict(batch["custody"][1])
    assert "GXQX-001" in ev["body"]
    ev["body"] = ev["body"].replace("GXQX-001", "GXQX-999")  # altered after signing
    records = batch["records"]
    r = httpx.post(f"{server.base}/api/v1/push", headers=headers,
                   json={"batch_id": new_id(), "records": records, "custody": [batch["custody"][0], ev]})
    assert r.status_code == 409 and "broken at event 2: its hash does not match its content" in r.json()["detail"]
    r = httpx.post(f"{server.base}/api/v1/push", headers=headers,
                   json={"batch_id": new_id(), "records": records, "custody": [batch["custody"][1]]})
    assert r.status_code == 409 and "event 1 is missing" in r.json()["detail"]
    forged = dict(batch["custody"][0])
    forged["signature"] = batch["custody"][1]["signature"]
    r = httpx.post(f"{server.base}/api/v1/push", headers=headers,
                   json={"batch_id": new_id(), "records": records, "custody": [forged]})
    assert r.status_code == 409 and "signature is not the kit's" in r.json()["detail"]
    assert json.loads(central_cli(server, "received").stdout)[0]["custody_events"] == 0  # nothing half-taken
    assert push(store)["custody_events"] == 3  # the genuine chain goes through


def test_push_cut_off_is_finished_later(db_url: str, tmp_path: Path, demo_store: Store) -> None:
    from tests.central.conftest import Server

    with Server(db_url, tmp_path / "blobs") as srv:
        port = srv.port
        c: Central = srv.app.state.central
        c.add_agency("45", "广西")
        enrol(demo_store, srv.base, c.make_enrol_code("45")["code"])
        li = OfficerService(demo_store).login("45010320231", "demo1234")
        case = CaseService(demo_store).create(party="当事人", title="t", actor=li)
        EvidenceService(demo_store).add_physical(case.id, li, seal_no="S1", description="样品")
        from kit_app.sync.client import _next_batch

        _next_batch(demo_store)  # the batch is fixed, as if the connection dropped before the answer
    with pytest.raises(SyncError, match="cannot reach"):
        push(demo_store)  # the server is down
    with Server(db_url, tmp_path / "blobs", port=port):
        res = push(demo_store)
        assert res["batches"] == 1 and res["custody_events"] == 2
        k = json.loads(subprocess.run([str(Path(sys.executable).with_name("kit-central")), "--db", db_url, "--json",
                                       "received"], capture_output=True, text=True).stdout)[0]
        assert k["custody_events"] == 2 and k["records"] == {"case": 1, "evidence": 1}

