"""What the central server vouches for at each sync: the head of the kit's custody chain, countersigned
and kept on both sides (history rewritten after a sync is then detected, even re-signed with the
kit's own key), the kit clock's offset measured against the server's time, and the access log."""

from __future__ import annotations

import hashlib
import json

import pytest

from central.service import Central
from kit_app.db import Store
from kit_app.errors import AuthenticationError
from kit_app.evidence import custody as C
from kit_app.evidence.service import EvidenceService
from kit_app.services.cases import CaseService
from kit_app.services.officers import OfficerService
from kit_app.sync import client as sync_client
from kit_app.sync.client import SyncError, enrol, status, sync
from tests.central.test_push import kit  # noqa: F401 - the fixture: an enrolled kit with a case, evidence, a paper


def _events(store: Store) -> list[tuple[int, str]]:
    with store.engine.connect() as c:
        return [(int(s), str(b)) for s, b in c.exec_driver_sql("SELECT seq, body FROM custody_events ORDER BY seq")]


def test_sync_countersigns_the_head_and_measures_the_clock(server, kit) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    store, case, li, ev = kit
    n = len(_events(store))
    got = sync(store)
    head = got["countersigned"]
    assert head["seq"] == n and abs(head["clock_offset_s"]) < 2 and head["round_trip_s"] >= 0
    rep = ev.verify()
    assert rep.ok and rep.countersigned is not None and rep.countersigned["seq"] == n
    # the server keeps it too
    [kept] = server.app.state.witness.heads(store.kit_id)
    assert kept["seq"] == n and kept["previous"] is None
    # an event recorded after the sync carries the offset measured then, and the kit's own reading
    item = ev.list_for_case(case.id)[0]
    ev.record(item["id"], C.ANNOTATED, li, reason="标签已核对")
    seq, body = _events(store)[-1]
    time = json.loads(body)["time"]
    assert json.loads(body)["clock"] == "kit" and time["kit"] == json.loads(body)["at"]
    assert time["server_offset_s"] == head["clock_offset_s"] and "server_offset_measured_at" in time
    # the next sync countersigns the new head, naming the one before
    again = sync(store)["countersigned"]
    assert again["seq"] == seq
    with store.engine.connect() as c:
        bodies = [json.loads(b) for (b,) in c.exec_driver_sql("SELECT body FROM custody_heads ORDER BY seq")]
    assert [b["seq"] for b in bodies] == [n, seq] and bodies[1]["previous"] == {"seq": n, "hash": bodies[0]["hash"]}


def _rewrite(store: Store, ev: EvidenceService, seq: int, reason: str) -> None:
    """What someone holding the kit's key could do: change event ``seq`` and re-sign the chain after it."""
    with store.engine.begin() as c:
        c.exec_driver_sql("DROP TRIGGER custody_events_no_update")
        rows = c.exec_driver_sql("SELECT id, seq, body FROM custody_events WHERE seq >= ? ORDER BY seq", (seq,)).all()
        prev = c.exec_driver_sql("SELECT hash FROM custody_events WHERE seq = ?", (seq - 1,)).scalar() or C.GENESIS
        for eid, s, raw in rows:
            body = json.loads(raw)
            body["prev_hash"] = prev
            if s == seq:
                body["reason"] = reason
            new = C.canonical(body)
            h = hashlib.sha256(new).hexdigest()
            c.exec_driver_sql("UPDATE custody_events SET body = ?, hash = ?, prev_hash = ?, signature = ? WHERE id = ?",
                              (new.decode(), h, prev, ev.key.sign(h.encode("ascii")), eid))
            prev = h
        c.exec_driver_sql("UPDATE kit_meta SET value = ? WHERE key = ?", (f"{rows[-1][1]}:{prev}", C.HEAD_KEY))
        c.exec_driver_sql("DELETE FROM kit_meta WHERE key = ?", (C.CHECKPOINT_KEY,))


def test_history_rewritten_after_a_sync_is_detected(server, kit) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    store, case, li, ev = kit
    sync(store)
    n = len(_events(store))
    _rewrite(store, ev, 2, "改写的记录")
    rep = ev.verify()
    # the kit's own signatures all verify: only the countersigned head tells
    assert [p.kind for p in rep.problems] == ["history_rewritten"]
    assert rep.problems[0].seq == n and "rewritten" in rep.problems[0].detail
    # and the server refuses to countersign a chain that no longer holds what it countersigned
    with sync_client._client(store) as client, pytest.raises(SyncError, match="rewritten"):
        sync_client.countersign(store, client, sync_client._pinned(store, client))


def test_a_forged_countersignature_is_named(server, kit) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    store, case, li, ev = kit
    sync(store)
    with store.engine.begin() as c:
        c.exec_driver_sql("DROP TRIGGER custody_heads_no_update")
        body = json.loads(c.exec_driver_sql("SELECT body FROM custody_heads").scalar())
        body["countersigned_at"] = "2020-01-01T00:00:00+00:00"
        c.exec_driver_sql("UPDATE custody_heads SET body = ?", (C.canonical(body).decode(),))
    rep = ev.verify()
    assert [p.kind for p in rep.problems] == ["bad_countersignature"] and rep.countersigned is None


def test_the_access_log_syncs_once_and_stays_append_only(server, kit) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    store, case, li, ev = kit
    officers = OfficerService(store)
    with pytest.raises(AuthenticationError):
        officers.login("45010320231", "wrong-password")
    with pytest.raises(AuthenticationError):
        officers.login("99999999999", "demo1234")
    assert status(store)["access_events"] >= 3 and not status(store)["synced"]
    got = sync(store)
    assert got["pushed"]["access_events"] >= 3 and status(store)["access_events"] == 0
    witness = server.app.state.witness
    held = witness.access_log(store.kit_id)
    kinds = {(e["action"], e["outcome"], e["target"]) for e in held}
    assert ("login.failed", "failed", "45010320231") in kinds and ("login.failed", "failed", "99999999999") in kinds
    assert ("login", "ok", "45010320231") in kinds
    assert all(e["kit_id"] == store.kit_id for e in held)
    # nothing new: nothing sent
    assert sync(store)["pushed"]["access_events"] == 0
    # an entry sent again with other content is refused
    one = held[0] | {"outcome": "ok" if held[0]["outcome"] != "ok" else "failed"}
    one.pop("kit_id")
    from central.service.common import CentralError

    with pytest.raises(CentralError, match="append-only"):
        witness.accept_access(store.kit_id, [one])


def test_the_court_pack_carries_the_countersigned_heads(server, kit, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from kit_app.services.courtpack import CourtPackService
    from tests.unit.test_courtpack import verify as run_verifier

    store, case, li, ev = kit
    sync(store)
    n = len(_events(store))
    pack = CourtPackService(store).export(case.id, tmp_path / "pack.zip", li)
    code, out = run_verifier(pack.path, tmp_path)
    assert code == 0 and f"countersigned the kit's custody chain up to event #{n}" in out
    assert f"{n} of this case's {n} events lie within it" in out
    # rewritten after the sync (and re-signed with the kit's key): the pack says so
    _rewrite(store, ev, 2, "改写的记录")
    pack = CourtPackService(store).export(case.id, tmp_path / "pack2.zip", li)
    code, out = run_verifier(pack.path, tmp_path)
    assert code == 1 and f"custody event #{n}: not the one the central server countersigned" in out


def test_an_encrypted_kit_sends_its_originals_as_they_are(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The kit's originals are sealed at rest; the server receives (and receipts) the plaintext, whose
    SHA-256 is the one custody names; the access log of the locked kit's failed unlock goes up too."""
    from datetime import datetime

    from kit_app.services.demo import DemoGenerator
    from kit_app.services.vault import Vault
    from tests.helpers.photos import make_jpeg

    c: Central = server.app.state.central
    c.add_agency("45", "广西壮族自治区生态环境厅")
    c.add_agency("4501", "南宁市生态环境局")
    c.add_agency("450103", "南宁市生态环境局青秀区分局")
    vault = Vault(tmp_path / "enc")
    store = vault.create_empty("GXADMIN001", "demo1234")
    DemoGenerator(store, seed=1).generate(20, 0)
    store.close()
    with pytest.raises(AuthenticationError):
        vault.open("GXADMIN001", "wrong-password")
    store = vault.open("45010320231", "demo1234")
    try:
        enrol(store, server.base, c.make_enrol_code("450103")["code"], name="加密一号")
        li = OfficerService(store).login("45010320231", "demo1234")
        case = CaseService(store).create(party="南宁市绿源化工有限公司", title="超标排放", actor=li)
        photo = make_jpeg(tmp_path / "IMG_0001.jpg", taken=datetime(2026, 11, 30, 9, 30))
        [res] = EvidenceService(store).ingest(case.id, li, [photo])
        got = sync(store)
        assert got["uploaded"]["blobs"] == 1 and status(store)["synced"]
        from central.service import Push

        checked = Push(c).verify(server.app.state.blobs)
        assert checked["ok"] and checked["blobs_checked"] == 1
        [k] = Push(c).received()
        assert [e["sha256"] for e in k["evidence"] if e["sha256"]] == [res.sha256]
        held = server.app.state.witness.access_log(store.kit_id, "login.failed")
        assert [(e["target"], e["details"].get("while")) for e in held] == [("GXADMIN001", "locked")]
    finally:
        store.close()
