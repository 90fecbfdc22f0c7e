"""Evidence originals: chunked, resumable upload; the server checks the SHA-256 before keeping one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest

from central.service import Central
from kit_app.db import Store
from kit_app.evidence.service import EvidenceService
from kit_app.services.cases import CaseService
from kit_app.services.officers import OfficerService
from kit_app.sync.client import auth_header, enrol, upload


@pytest.fixture
def kit(server, demo_store: Store, tmp_path: Path):  # type: ignore[no-untyped-def]
    c: Central = server.app.state.central
    c.add_agency("45", "广西")
    enrol(demo_store, server.base, c.make_enrol_code("45")["code"])
    li = OfficerService(demo_store).login("45010320231", "demo1234")
    case = CaseService(demo_store).create(party="当事人", title="t", actor=li)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(9 * 1024 * 1024 + 123))
    [res] = EvidenceService(demo_store).ingest(case.id, li, [video])
    assert res.status == "ok"
    return demo_store, res.sha256, video


def test_upload_in_chunks_and_resume_after_a_cut(server, kit) -> None:  # type: ignore[no-untyped-def]
    store, sha, video = kit
    data = video.read_bytes()
    headers = auth_header(store)
    mb = 1024 * 1024
    # the connection drops after two chunks: the server keeps what it acknowledged
    for off in (0, mb):
        r = httpx.put(f"{server.base}/api/v1/blobs/{sha}", params={"offset": off, "size": len(data)},
                      content=data[off:off + mb], headers=headers)
        assert r.status_code == 200 and r.json()["offset"] == off + mb
    r = httpx.put(f"{server.base}/api/v1/blobs/{sha}", params={"offset": 5 * mb, "size": len(data)},
                  content=data[:10], headers=headers)
    assert r.status_code == 409 and "continues at byte 2097152" in r.json()["detail"]
    res = upload(store, chunk=mb)
    assert res["blobs"] == 1 and res["bytes"] == len(data) - 2 * mb  # resumed, nothing sent twice
    held = server.app.state.blobs.path(sha)
    assert hashlib.sha256(held.read_bytes()).hexdigest() == sha
    assert upload(store)["blobs"] == 0  # receipted: nothing left
    with store.engine.connect() as c:
        assert c.exec_driver_sql("SELECT size FROM sync_blobs WHERE sha256 = ?", (sha,)).scalar() == len(data)


def test_wrong_bytes_are_not_kept(server, kit) -> None:  # type: ignore[no-untyped-def]
    store, sha, video = kit
    headers = auth_header(store)
    bad = b"not the evidence"
    r = httpx.put(f"{server.base}/api/v1/blobs/{sha}", params={"offset": 0, "size": len(bad)}, content=bad,
                  headers=headers)
    assert r.status_code == 422 and "SHA-256" in r.json()["detail"]
    assert not server.app.state.blobs.has(sha)
    state = httpx.get(f"{server.base}/api/v1/blobs/{sha}", headers=headers).json()
    assert state["offset"] == 0 and "stored" not in state  # the bad part was dropped
    assert httpx.get(f"{server.base}/api/v1/blobs/{sha}").status_code == 401
    assert upload(store)["blobs"] == 1


def test_a_blob_held_already_is_receipted_without_sending_it(server, kit) -> None:  # type: ignore[no-untyped-def]
    store, sha, video = kit
    assert upload(store)["blobs"] == 1
    with store.engine.connect() as c:
        c.exec_driver_sql("DELETE FROM sync_blobs")
        c.commit()
    res = upload(store)
    assert res == {"blobs": 0, "bytes": 0, "already_there": 1}
    with store.engine.connect() as c:
        assert c.exec_driver_sql("SELECT signature FROM sync_blobs").scalar()  # a signed receipt all the same


def test_small_originals_travel_in_bundles(server, kit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, _sha, _video = kit
    c: Central = server.app.state.central
    li = OfficerService(store).login("45010320231", "demo1234")
    case = CaseService(store).create(party="当事人", title="照片", actor=li)
    photos = []
    for i in range(30):
        p = tmp_path / f"p{i}.jpg"
        p.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(5_000 + i))
        photos.append(p)
    EvidenceService(store).ingest(case.id, li, photos, thumbnails=False)
    res = upload(store)
    assert res["blobs"] == 31  # the 30 photos in one bundle, the video in chunks
    blobs = server.app.state.blobs
    for p in photos:
        sha = hashlib.sha256(p.read_bytes()).hexdigest()
        assert blobs.path(sha).read_bytes() == p.read_bytes()
    # a bundle whose bytes do not match its manifest: refused per blob, nothing kept
    headers = auth_header(store)
    fake = "0" * 64
    r = httpx.post(f"{server.base}/api/v1/blobs", headers=headers,
                   content=b'[{"sha256": "%s", "size": 3}]\nabc' % fake.encode())
    assert r.status_code == 200 and r.json()["results"][0]["stored"] is False
    assert not blobs.has(fake)
    r = httpx.post(f"{server.base}/api/v1/blobs", headers=headers,
                   content=b'[{"sha256": "%s", "size": 5}]\nabc' % fake.encode())
    assert r.status_code == 422 and "5 bytes" in r.json()["detail"]
    assert c is not None
