import base64
import hashlib
import json
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit_app.db import Store
from kit_app.errors import PermissionDenied, ValidationError
from kit_app.evidence.service import EvidenceService
from kit_app.services.cases import CaseService
from kit_app.services.officers import OfficerService
from tests.helpers.photos import make_jpeg

LAT, LON = 22.8, 108.37


@pytest.fixture
def env(demo_store: Store):  # type: ignore[no-untyped-def]
    officers = OfficerService(demo_store)
    li = officers.login("45010320231", "demo1234")
    wf = officers.login("45010320232", "demo1234")
    # a case for a listed source placed at LAT, LON
    with demo_store.engine.begin() as c:
        sid = c.exec_driver_sql("SELECT id FROM sources LIMIT 1").scalar()
        c.exec_driver_sql("UPDATE sources SET latitude = ?, longitude = ? WHERE id = ?", (LAT, LON, sid))
    case = CaseService(demo_store).create(party=sid, title="涉嫌超标排放", actor=li)
    return demo_store, EvidenceService(demo_store), case, li, wf


def now_local() -> datetime:
    return datetime.now(timezone(timedelta(hours=8))).replace(tzinfo=None, microsecond=0)


def test_ingest_photo_with_exif(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, ev, case, li, _wf = env
    taken = now_local() - timedelta(hours=1)
    p = make_jpeg(tmp_path / "现场 照片 01.jpg", taken=taken, lat=LAT + 0.001, lon=LON,
                  gps_time=(taken - timedelta(hours=8)), orientation=6)
    [r] = ev.ingest(case.id, li, [p])
    assert r.status == "ok" and r.warnings == [] and r.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    item = ev.show(r.evidence_id)
    assert item["kind"] == "photo" and item["media_type"] == "image/jpeg"
    assert item["original_name"] == "现场 照片 01.jpg" and item["size"] == p.stat().st_size
    assert item["captured_at"] == (taken - timedelta(hours=8)).replace(tzinfo=UTC).isoformat()
    assert item["captured_offset_min"] == 480
    assert abs(item["latitude"] - (LAT + 0.001)) < 1e-6 and abs(item["longitude"] - LON) < 1e-6
    assert item["altitude"] == 80.5 and item["device"] == "Canon EOS 90D #0123456789"
    assert item["metadata"]["photo"]["orientation"] == 6
    assert [o["name"] for o in item["officers"]] == ["李明"]
    stored = Path(item["stored_path"])
    assert stored.read_bytes() == p.read_bytes()
    assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), "originals are read-only"
    [event] = item["custody"]
    assert event["kind"] == "imported" and event["seq"] >= 1 and event["item_sha256"] == r.sha256
    assert event["actors"] == [{"id": li.id, "name": "李明", "cert_no": "45010320231"}]
    assert event["at"].endswith("+00:00") and event["clock"] == "kit"
    thumb = ev.blobs.thumb_path(r.sha256)
    from PIL import Image

    with Image.open(thumb) as im:  # orientation 6 applied: the 640×480 photo stands upright
        assert im.size == (192, 256)


def test_warnings(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, ev, case, li, _wf = env
    old = make_jpeg(tmp_path / "old.jpg", taken=datetime(2019, 5, 1, 10, 0), seed=1)
    far = make_jpeg(tmp_path / "far.jpg", taken=now_local(), lat=24.3, lon=109.4, seed=2)
    skew = make_jpeg(tmp_path / "skew.jpg", taken=now_local(), lat=LAT, lon=LON,
                     gps_time=datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=3), seed=3)
    bare = tmp_path / "bare.png"
    from PIL import Image

    Image.new("RGB", (10, 10)).save(bare)
    res = {Path(r.path).name: r for r in ev.ingest(case.id, li, [old, far, skew, bare])}
    assert any("outside the case's inspection window" in w for w in res["old.jpg"].warnings)
    assert any("km from the party's registered location" in w for w in res["far.jpg"].warnings)
    assert any("differs from GPS time by 180 minutes" in w for w in res["skew.jpg"].warnings)
    assert res["bare.png"].warnings == ["no EXIF data: the photo records neither when nor where it was taken",
                                        "the capture time is the file's modification time (the photo records "
                                        "none): copying or editing the file changes it"]
    assert ev.show(res["far.jpg"].evidence_id)["warnings"] == res["far.jpg"].warnings


def test_duplicates_and_sharing(env, tmp_path: Path, demo_store: Store) -> None:  # type: ignore[no-untyped-def]
    store, ev, case, li, _wf = env
    p = make_jpeg(tmp_path / "a.jpg", taken=now_local())
    first, again = ev.ingest(case.id, li, [p, p])
    assert again.status == "duplicate" and again.evidence_id == first.evidence_id
    other = CaseService(store).create(party="另一当事人", title="t", actor=li)
    [r] = ev.ingest(other.id, li, [p])
    assert r.status == "ok" and r.sha256 == first.sha256 and r.evidence_id != first.evidence_id


def test_bad_inputs_each_get_a_clear_error_and_the_rest_goes_on(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, ev, case, li, _wf = env
    good = make_jpeg(tmp_path / "good.jpg", taken=now_local())
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    trunc = tmp_path / "truncated.jpg"
    trunc.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    text = tmp_path / "readme.txt"
    text.write_text("hello")
    dangling = tmp_path / "gone.jpg"
    dangling.symlink_to(tmp_path / "nowhere.jpg")
    folder = tmp_path / "SD卡" / "DCIM"
    folder.mkdir(parents=True)
    for i in range(30):
        make_jpeg(folder / f"IMG_{i:04d}.JPG", taken=now_local(), seed=i + 10, size=(64, 48))
    (folder / ".hidden.jpg").write_bytes(b"junk")
    res = ev.ingest(case.id, li, [empty, trunc, text, dangling, good, folder.parent])
    by = {Path(r.path).name: r for r in res}
    assert by["empty.jpg"].status == "error" and "empty" in by["empty.jpg"].error
    assert by["readme.txt"].status == "error" and "unsupported file type (.txt)" in by["readme.txt"].error
    assert by["gone.jpg"].status == "error" and "no such file" in by["gone.jpg"].error
    assert by["truncated.jpg"].status == "ok"
    assert any("cannot be decoded" in w for w in by["truncated.jpg"].warnings)
    assert by["good.jpg"].status == "ok"
    assert sum(1 for r in res if r.path.endswith(".JPG") and r.status == "ok") == 30
    assert by[".hidden.jpg"].status == "skipped"  # not imported, and said so
    assert ev.verify().ok


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=400))
def test_hostile_exif_never_breaks_an_ingest(env, tmp_path: Path, blob: bytes) -> None:  # type: ignore[no-untyped-def]
    _store, ev, case, li, _wf = env
    # a JPEG start, an APP1 "Exif" segment of arbitrary content, then garbage
    seg = b"Exif\x00\x00" + blob
    data = b"\xff\xd8\xff\xe1" + (len(seg) + 2).to_bytes(2, "big") + seg + b"\xff\xd9"
    p = tmp_path / f"h{hashlib.md5(data).hexdigest()}.jpg"
    p.write_bytes(data)
    [r] = ev.ingest(case.id, li, [p], thumbnails=True)
    assert r.status in ("ok", "duplicate")


def test_physical_item_transfer_and_rules(env) -> None:  # type: ignore[no-untyped-def]
    _store, ev, case, li, wf = env
    pid = ev.add_physical(case.id, li, seal_no="GXQX-2026-001", description="废水样品 500 mL × 2 瓶", place="总排口")
    body = ev.transfer(pid, li, wf, "移交送检")
    assert body["kind"] == "transferred" and body["details"]["to"]["name"] == "韦芳"
    assert [a["name"] for a in body["actors"]] == ["李明", "韦芳"]
    item = ev.show(pid)
    assert item["kind"] == "physical_sample" and item["seal_no"] == "GXQX-2026-001" and item["sha256"] is None
    assert [e["kind"] for e in item["custody"]] == ["collected", "sealed", "transferred"]
    with pytest.raises(ValidationError):
        ev.transfer(pid, li, li, "x")
    with pytest.raises(ValidationError):
        ev.transfer(pid, li, wf, "  ")
    with pytest.raises(ValidationError):
        ev.add_physical(case.id, li, seal_no="", description="x")
    reviewer = OfficerService(_store).login("45010020105", "demo1234")
    with pytest.raises(PermissionDenied):
        ev.add_physical(case.id, reviewer, seal_no="S", description="x")
    with pytest.raises(PermissionDenied):
        ev.ingest(case.id, reviewer, [])


def test_custody_events_refuse_update_and_delete(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, ev, case, li, _wf = env
    ev.ingest(case.id, li, [make_jpeg(tmp_path / "a.jpg", taken=now_local())])
    con = sqlite3.connect(store.db_path)
    for sql in ("UPDATE custody_events SET kind = 'viewed'", "DELETE FROM custody_events"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    con.close()


def _tamper(store: Store, *sql: str) -> None:
    con = sqlite3.connect(store.db_path)
    con.execute("DROP TRIGGER custody_events_no_update")
    con.execute("DROP TRIGGER custody_events_no_delete")
    for s in sql:
        con.execute(s)
    con.commit()
    con.close()


@pytest.fixture
def chain(env, tmp_path: Path):  # type: ignore[no-untyped-def]
    store, ev, case, li, wf = env
    ids = [r.evidence_id for r in ev.ingest(case.id, li, [make_jpeg(tmp_path / f"{i}.jpg", taken=now_local(), seed=i)
                                                         for i in range(4)])]
    ev.transfer(ids[0], li, wf, "交接")
    assert ev.verify().ok
    return store, ev, ids


def kinds(ev: EvidenceService) -> list[str]:
    rep = ev.verify()
    assert not rep.ok
    return sorted({p.kind for p in rep.problems})


def test_verify_file_modified_and_missing(chain) -> None:  # type: ignore[no-untyped-def]
    _store, ev, ids = chain
    a, b = (Path(ev.show(i)["stored_path"]) for i in ids[:2])
    os.chmod(a, 0o644)
    a.write_bytes(a.read_bytes()[:-1] + b"\x00")
    os.chmod(b, 0o644)
    b.unlink()
    rep = ev.verify()
    assert {(p.kind, p.evidence_id) for p in rep.problems} == {("file_modified", ids[0]), ("file_missing", ids[1])}


def test_verify_event_altered(chain) -> None:  # type: ignore[no-untyped-def]
    store, ev, _ids = chain
    _tamper(store, "UPDATE custody_events SET body = replace(body, '李明', '王五') WHERE seq = 2")
    rep = ev.verify()
    assert [(p.kind, p.seq) for p in rep.problems] == [("event_altered", 2)]


def test_verify_event_removed(chain) -> None:  # type: ignore[no-untyped-def]
    store, ev, _ids = chain
    _tamper(store, "DELETE FROM custody_events WHERE seq = 3")
    assert kinds(ev) == ["event_removed"]


def test_verify_tail_removed(chain) -> None:  # type: ignore[no-untyped-def]
    store, ev, _ids = chain
    _tamper(store, "DELETE FROM custody_events WHERE seq = (SELECT max(seq) FROM custody_events)")
    assert kinds(ev) == ["event_removed"]


def test_verify_events_reordered(chain) -> None:  # type: ignore[no-untyped-def]
    store, ev, _ids = chain
    _tamper(store, "UPDATE custody_events SET seq = -1 WHERE seq = 2",
            "UPDATE custody_events SET seq = 2 WHERE seq = 3",
            "UPDATE custody_events SET seq = 3 WHERE seq = -1")
    assert kinds(ev) == ["events_reordered"]


def test_verify_bad_signature(chain) -> None:  # type: ignore[no-untyped-def]
    store, ev, _ids = chain
    bogus = base64.b64encode(b"\x01" * 64).decode()
    _tamper(store, f"UPDATE custody_events SET signature = '{bogus}' WHERE seq = 4")
    rep = ev.verify()
    assert [(p.kind, p.seq) for p in rep.problems] == [("bad_signature", 4)]


def test_verify_forged_event_with_recomputed_hash(chain) -> None:  # type: ignore[no-untyped-def]
    """Someone rewrites an event and fixes its hash: the signature gives it away."""
    store, ev, _ids = chain
    con = sqlite3.connect(store.db_path)
    body, = con.execute("SELECT body FROM custody_events WHERE seq = 5").fetchone()
    con.close()
    forged = body.replace("交接", "从未交接")
    h = hashlib.sha256(forged.encode()).hexdigest()
    _tamper(store, f"UPDATE custody_events SET body = '{forged}', hash = '{h}' WHERE seq = 5")
    assert "bad_signature" in kinds(ev)


def test_export_verifies_with_a_few_lines_of_python(chain, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, ev, ids = chain
    case_id = ev.show(ids[0])["case_id"]
    out = tmp_path / "custody.jsonl"
    assert ev.export_case(case_id, out) == 5
    # --- the snippet documented in the README ---
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    header, events = lines[0], lines[1:]
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(header["public_key"]))
    prev = None
    for e in events:
        body = json.loads(e["body"])
        assert hashlib.sha256(e["body"].encode("utf-8")).hexdigest() == e["hash"]
        key.verify(base64.b64decode(e["signature"]), e["hash"].encode("ascii"))  # raises if forged
        assert prev is None or body["prev_hash"] == prev["hash"] or body["seq"] != json.loads(prev["body"])["seq"] + 1
        prev = e
    # ---
    assert header["kit_id"] == store.kit_id and len(events) == 5


def test_parallel_signature_check_finds_the_bad_one(chain, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import kit_app.evidence.custody as C

    store, ev, _ids = chain
    monkeypatch.setattr(C, "PARALLEL_FROM", 2)
    monkeypatch.setattr(C, "CHUNK", 2)
    assert ev.verify().ok
    bogus = base64.b64encode(b"\x02" * 64).decode()
    _tamper(store, f"UPDATE custody_events SET signature = '{bogus}' WHERE seq = 3")
    rep = ev.verify()
    assert [(p.kind, p.seq) for p in rep.problems] == [("bad_signature", 3)]
    assert rep.problems[0].event and rep.problems[0].evidence_id


def test_fast_verify_still_catches_a_forged_event(chain) -> None:  # type: ignore[no-untyped-def]
    store, ev, _ids = chain
    con = sqlite3.connect(store.db_path)
    body, = con.execute("SELECT body FROM custody_events WHERE seq = 2").fetchone()
    con.close()
    forged = body.replace("李明", "王五")
    h = hashlib.sha256(forged.encode()).hexdigest()
    _tamper(store, f"UPDATE custody_events SET body = '{forged}', hash = '{h}' WHERE seq = 2")
    rep = ev.verify(all_signatures=False)
    assert not rep.ok and rep.problems[0].seq == 3  # the next event no longer links to it


def test_video_gets_a_frame_grab_and_audio_document_kinds(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import wave

    import cv2
    import numpy as np

    _store, ev, case, li, _wf = env
    video = tmp_path / "执法记录仪 001.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (320, 240))
    for i in range(30):
        w.write(np.full((240, 320, 3), (i * 8, 100, 200 - i * 5), dtype=np.uint8))
    w.release()
    audio = tmp_path / "询问录音.wav"
    with wave.open(str(audio), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(8000)
        wf.writeframes(b"\x00\x00" * 800)
    pdf = tmp_path / "排污许可证.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    res = {Path(r.path).suffix: r for r in ev.ingest(case.id, li, [video, audio, pdf])}
    assert [ev.show(res[s].evidence_id)["kind"] for s in (".avi", ".wav", ".pdf")] == ["video", "audio", "document"]
    assert res[".avi"].warnings == [] and ev.blobs.thumb_path(res[".avi"].sha256).exists()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    [r] = ev.ingest(case.id, li, [broken])
    assert r.status == "ok" and any("cannot be decoded" in w for w in r.warnings)


def test_a_folder_of_thousands_of_files(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    _store, ev, case, li, _wf = env
    folder = tmp_path / "DCIM"
    folder.mkdir()
    for i in range(2000):
        Image.new("RGB", (2, 2), (i % 256, i // 256, 7)).save(folder / f"P{i:05d}.png")
    res = ev.ingest(case.id, li, [folder], thumbnails=False)
    assert len(res) == 2000 and all(r.status == "ok" for r in res)
    assert [Path(r.path).name for r in res[:2]] == ["P00000.png", "P00001.png"]


def test_a_correction_names_an_event_of_the_item(chain) -> None:  # type: ignore[no-untyped-def]
    _store, ev, ids = chain
    first = ev.show(ids[0])["custody"][0]
    body = ev.record(ids[0], "corrected", None, reason="采集人填写错误", details={"corrects": first["id"]})
    assert body["details"]["corrects"] == first["id"] and body["kind"] == "corrected"
    other = ev.show(ids[1])["custody"][0]
    with pytest.raises(ValidationError):
        ev.record(ids[0], "corrected", None, reason="x", details={"corrects": other["id"]})
    with pytest.raises(ValidationError):
        ev.record(ids[0], "corrected", None, reason="", details={"corrects": first["id"]})
    assert ev.verify().ok


def test_checkpoint_spares_rechecking_good_signatures_but_not_changed_ones(chain, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import kit_app.evidence.custody as C

    store, ev, ids = chain  # each event's signature was checked as it was appended: 1-5 are covered
    checked: list[int] = []
    real_add = C._Signatures.add
    monkeypatch.setattr(C._Signatures, "add", lambda self, row: (checked.append(row.seq), real_add(self, row)))
    ev.record(ids[1], "annotated", None, reason="补充说明")
    assert ev.verify().ok and checked == []  # so is 6, appended just now
    # without the checkpoint every signature is checked again
    con = sqlite3.connect(store.db_path)
    con.execute("DELETE FROM kit_meta WHERE key = 'custody_verified'")
    con.commit()
    con.close()
    assert ev.verify().ok and checked == [1, 2, 3, 4, 5, 6]
    checked.clear()
    assert ev.verify().ok and checked == []  # that verification wrote a new checkpoint
    # a changed signature inside the checkpoint's span: the span is checked again, one by one
    bogus = base64.b64encode(b"\x03" * 64).decode()
    _tamper(store, f"UPDATE custody_events SET signature = '{bogus}' WHERE seq = 2")
    rep = ev.verify()
    assert [(p.kind, p.seq) for p in rep.problems] == [("bad_signature", 2)]
    assert sorted(checked) == [1, 2, 3, 4, 5, 6]


def test_a_forged_checkpoint_is_ignored(chain, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import kit_app.evidence.custody as C

    store, ev, _ids = chain
    con = sqlite3.connect(store.db_path)
    value = json.loads(con.execute("SELECT value FROM kit_meta WHERE key = 'custody_verified'").fetchone()[0])
    value["checkpoint"]["seq"] = 99
    con.execute("UPDATE kit_meta SET value = ? WHERE key = 'custody_verified'", (json.dumps(value),))
    con.commit()
    con.close()
    checked: list[int] = []
    real_add = C._Signatures.add
    monkeypatch.setattr(C._Signatures, "add", lambda self, row: (checked.append(row.seq), real_add(self, row)))
    assert ev.verify().ok and checked == [1, 2, 3, 4, 5]


def test_appends_after_a_tampered_signature_do_not_hide_it(chain) -> None:  # type: ignore[no-untyped-def]
    store, ev, ids = chain
    bogus = base64.b64encode(b"\x04" * 64).decode()
    _tamper(store, f"UPDATE custody_events SET signature = '{bogus}' WHERE seq = 3")
    ev.record(ids[2], "annotated", None, reason="之后的事件")
    rep = ev.verify()
    assert [(p.kind, p.seq) for p in rep.problems] == [("bad_signature", 3)]


def test_cancel_stops_before_the_next_file(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _store, ev, case, li, _wf = env
    files = [make_jpeg(tmp_path / f"c{i}.jpg", taken=now_local(), seed=50 + i) for i in range(5)]
    seen: list[int] = []
    res = ev.ingest(case.id, li, files, progress=lambda done, total: seen.append(done),
                    cancelled=lambda: len(seen) >= 2)
    assert [r.status for r in res] == ["ok", "ok"]  # what was done before the cancel is kept, whole
    assert len(ev.list_for_case(case.id)) == 2 and ev.verify().ok


def test_where_a_capture_time_came_from(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every capture time says its source (original, digitized, last-saved) and is warned when it is not the
    original; an editor named in Software is warned; EXIF with no time is warned; the zone comes from the tag,
    else from the file's own GPS time (to the quarter hour: no more "clock differs by 60 minutes" for a camera
    set to another zone), else +08:00 is assumed."""
    _store, ev, case, li, _wf = env
    t = now_local() - timedelta(hours=1)
    utc = t - timedelta(hours=8)
    files = {
        "original.jpg": make_jpeg(tmp_path / "original.jpg", taken=t, seed=1),
        "digitized.jpg": make_jpeg(tmp_path / "digitized.jpg", digitized=t, seed=2),
        "saved.jpg": make_jpeg(tmp_path / "saved.jpg", modified=t, software="Adobe Photoshop 25.0 (Windows)",
                               seed=3),
        "notime.jpg": make_jpeg(tmp_path / "notime.jpg", orientation=1, seed=4),
        # a camera in Bangkok (+07:00) without an offset tag, its GPS time telling the zone
        "bangkok.jpg": make_jpeg(tmp_path / "bangkok.jpg", taken=t - timedelta(hours=1), offset=None,
                                 lat=LAT, lon=LON, gps_time=utc + timedelta(seconds=20), seed=5),
        # no tag and no GPS time: +08:00 is assumed, and said so in its metadata
        "assumed.jpg": make_jpeg(tmp_path / "assumed.jpg", taken=t, offset=None, seed=6),
        # no time of the camera's own: the GPS time stamp is the capture time, and says so
        "gpsonly.jpg": make_jpeg(tmp_path / "gpsonly.jpg", lat=LAT, lon=LON, gps_time=utc, seed=7),
    }
    mtime = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)  # as a camera card's file system had it
    os.utime(files["notime.jpg"], (mtime.timestamp(), mtime.timestamp()))
    res = {Path(r.path).name: r for r in ev.ingest(case.id, li, list(files.values()))}
    meta = {n: ev.show(r.evidence_id)["metadata"]["photo"] for n, r in res.items()}
    assert [meta[n]["time_source"] for n in ("original.jpg", "digitized.jpg", "saved.jpg", "notime.jpg")] == \
        ["original", "digitized", "modified", "file"]
    notime = ev.show(res["notime.jpg"].evidence_id)
    assert (notime["captured_at"], notime["captured_clock"]) == (mtime.isoformat(), "file")
    assert any("file's modification time" in w for w in res["notime.jpg"].warnings)
    assert res["original.jpg"].warnings == []
    assert any("DateTimeDigitized" in w for w in res["digitized.jpg"].warnings)
    assert any("last saved" in w for w in res["saved.jpg"].warnings)
    assert any("Adobe Photoshop" in w and "photo editor" in w for w in res["saved.jpg"].warnings)
    assert any("no capture time" in w for w in res["notime.jpg"].warnings)
    assert meta["bangkok.jpg"]["offset_source"] == "gps" and meta["bangkok.jpg"]["offset_min"] == 420
    assert ev.show(res["bangkok.jpg"].evidence_id)["captured_at"] == utc.replace(tzinfo=UTC).isoformat()
    assert not any("GPS time" in w for w in res["bangkok.jpg"].warnings)
    assert meta["assumed.jpg"]["offset_source"] == "assumed" and meta["original.jpg"]["offset_source"] == "tag"
    assert meta["gpsonly.jpg"]["time_source"] == "gps" and ev.show(res["gpsonly.jpg"].evidence_id)["captured_clock"] == "gnss"
    assert ev.show(res["gpsonly.jpg"].evidence_id)["captured_at"] == utc.replace(tzinfo=UTC).isoformat()
    assert any("GPS time stamp" in w for w in res["gpsonly.jpg"].warnings), res["gpsonly.jpg"].warnings


def _app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + len(payload + b"xx").to_bytes(2, "big") + payload


def test_exif_behind_xmp_and_a_gps_ifd_pointing_nowhere(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """XMP packets before the EXIF segment (as editors write them): the EXIF is still read (exifread alone
    reads nothing). A GPS IFD whose pointer leads outside the file is flagged as damaged EXIF."""
    import exifread

    _store, ev, case, li, _wf = env
    t = now_local() - timedelta(hours=1)
    plain = make_jpeg(tmp_path / "plain.jpg", taken=t, lat=LAT, lon=LON, seed=7).read_bytes()
    xmp = _app1(b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + b" " * 2000 +
                b"</x:xmpmeta>")
    adobe = tmp_path / "adobe.jpg"
    adobe.write_bytes(plain[:2] + xmp + xmp + plain[2:])  # two XMP packets before the EXIF segment
    with adobe.open("rb") as fh:
        assert exifread.process_file(fh, details=False) == {}  # the case this guards against
    # the GPS IFD pointer (tag 0x8825 in IFD0) set past the end of the file
    i = plain.index(b"Exif\x00\x00") + 6
    little = plain[i:i + 2] == b"II"
    order = "little" if little else "big"
    ifd0 = i + int.from_bytes(plain[i + 4:i + 8], order)
    count = int.from_bytes(plain[ifd0:ifd0 + 2], order)
    broken = bytearray(plain)
    for k in range(count):
        entry = ifd0 + 2 + 12 * k
        if int.from_bytes(plain[entry:entry + 2], order) == 0x8825:
            broken[entry + 8:entry + 12] = (0x7FFFFF).to_bytes(4, order)
    nowhere = tmp_path / "nowhere.jpg"
    nowhere.write_bytes(bytes(broken))
    res = {Path(r.path).name: r for r in ev.ingest(case.id, li, [adobe, nowhere])}
    item = ev.show(res["adobe.jpg"].evidence_id)
    assert item["captured_at"] is not None and abs(item["latitude"] - LAT) < 1e-6
    assert not any("no EXIF" in w for w in res["adobe.jpg"].warnings)
    assert any("damaged" in w and "GPS IFD" in w for w in res["nowhere.jpg"].warnings), res["nowhere.jpg"].warnings


def test_a_folders_hidden_entries_are_listed_not_silently_dropped(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A camera card's hidden thumbnails folder and an OS's .DS_Store are not imported — and each is listed."""
    _store, ev, case, li, _wf = env
    card = tmp_path / "DCIM"
    (card / ".thumbnails").mkdir(parents=True)
    make_jpeg(card / "IMG_0001.JPG", taken=now_local() - timedelta(hours=1), seed=8)
    (card / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    make_jpeg(card / ".thumbnails" / "IMG_0001.JPG", seed=9)
    res = ev.ingest(case.id, li, [card])
    assert [(Path(r.path).name, r.status) for r in res] == [("IMG_0001.JPG", "ok"), (".thumbnails", "skipped"),
                                                            (".DS_Store", "skipped")]
    assert all("hidden" in (r.error or "") for r in res if r.status == "skipped")


def test_heic_tiff_and_raw_photos_are_evidence_with_exif_and_a_preview(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A phone's HEIC, a TIFF and camera raw files (DNG, RAF) are kept as originals with their EXIF and a
    thumbnail (the raw files' from their embedded JPEG, not the lossless sensor data); a raw file the kit
    cannot show (CR3, a DNG without preview) is still kept, its warning saying there is no preview."""
    from PIL import Image

    from tests.helpers.photos import make_cr3, make_dng, make_heic, make_raf

    _store, ev, case, li, _wf = env
    t = now_local() - timedelta(hours=1)
    tiff = tmp_path / "scan.tif"
    make_jpeg(tmp_path / "src.jpg", taken=t, seed=3)
    with Image.open(tmp_path / "src.jpg") as im:
        im.save(tiff, "TIFF", exif=im.getexif())
    files = [make_heic(tmp_path / "IMG_0001.HEIC", taken=t), tiff, make_dng(tmp_path / "R5_0001.DNG", taken=t),
             make_raf(tmp_path / "DSCF0001.RAF", taken=t), make_cr3(tmp_path / "IMG_0002.CR3"),
             make_dng(tmp_path / "bare.dng", taken=t, preview=False)]
    res = {Path(r.path).name: r for r in ev.ingest(case.id, li, files)}
    assert {n: r.status for n, r in res.items()} == dict.fromkeys(res, "ok")
    taken = t.replace(tzinfo=timezone(timedelta(hours=8))).astimezone(UTC).isoformat()
    for name, media_type in (("IMG_0001.HEIC", "image/heic"), ("scan.tif", "image/tiff"),
                             ("R5_0001.DNG", "image/x-adobe-dng"), ("DSCF0001.RAF", "image/x-fuji-raf")):
        item = ev.show(res[name].evidence_id)
        assert (item["kind"], item["media_type"], item["captured_at"]) == ("photo", media_type, taken), name
        assert res[name].warnings == [], (name, res[name].warnings)
        with Image.open(ev.thumb_path(item["sha256"])) as thumb:
            assert max(thumb.size) == 256, name
        assert Path(item["stored_path"]).read_bytes() == next(f for f in files if f.name == name).read_bytes()
    with Image.open(ev.thumb_path(res["R5_0001.DNG"].sha256)) as thumb:  # the preview's colour, not the zeros
        assert thumb.convert("RGB").getpixel((10, 10))[1] > 100
    # the photo sheet prints them (the raw files' previews); the two the kit cannot show are not offered for it
    import forms
    from kit_app.services.documents import DocumentService
    from reports.pdf import render

    payload = DocumentService(_store).prefill(case.id, "photo_evidence", li)
    out = render(forms.get("photo_evidence"), payload)
    assert out.warnings == [] and len(payload["photos"]) == 4
    for name in ("IMG_0002.CR3", "bare.dng"):
        assert ev.show(res[name].evidence_id)["kind"] == "photo"
        assert any("no preview" in w and "original is kept" in w for w in res[name].warnings), res[name].warnings
        assert not ev.thumb_path(res[name].sha256).exists()


def test_a_heic_without_a_decoder_is_kept_and_says_why(env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from kit_app import imaging
    from tests.helpers.photos import make_heic

    _store, ev, case, li, _wf = env
    heic = make_heic(tmp_path / "IMG_0003.HEIC", taken=now_local() - timedelta(hours=1))
    monkeypatch.setattr(imaging, "_heif", False)
    (r,) = ev.ingest(case.id, li, [heic])
    assert r.status == "ok" and any("HEIF decoder" in w for w in r.warnings), r.warnings


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.sampled_from([b"II*\x00", b"MM\x00*", b"IIRO", b"IIU\x00", b"FUJIFILMCCD-RAW 0201"]),
       body=st.binary(max_size=600))
def test_raw_preview_never_fails_on_hostile_files(tmp_path: Path, head: bytes, body: bytes) -> None:
    from kit_app.imaging import raw_preview

    f = tmp_path / "x.raw"
    f.write_bytes(head + body)
    got = raw_preview(f)
    assert got is None or got.startswith(b"\xff\xd8")


def test_captures_in_one_second_get_names_of_their_own_and_a_caption(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Three stills in the same second: IMG-…-093000.jpg, -2, -3 (the name the officer sees and the custody
    records); a caption can be given at capture and changed later, the change an annotated custody event."""
    _store, ev, case, li, wf = env
    when = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0)
    names = []
    for k in range(3):
        shot = make_jpeg(tmp_path / f"shot{k}.jpg", seed=k)
        r = ev.add_capture(case.id, [li, wf], shot, kind="photo", captured_at=when, device="KIT-CAM",
                           gps=None, description="排污口" if k == 0 else None)
        names.append(r.path)
        assert ev.thumb_path(r.sha256).exists()  # a thumbnail at once, made before the item is committed
    stamp = when.strftime("%Y%m%d-%H%M%S")
    assert names == [f"IMG-{stamp}.jpg", f"IMG-{stamp}-2.jpg", f"IMG-{stamp}-3.jpg"]
    items = ev.list_for_case(case.id)
    assert [i["original_name"] for i in items] == names and items[0]["description"] == "排污口"
    first = ev.show(items[0]["id"])
    assert first["custody"][0]["details"]["original_name"] == names[0]
    ev.set_caption(items[1]["id"], li, "  雨水排口  旁路管  ")
    item = ev.show(items[1]["id"])
    assert item["description"] == "雨水排口 旁路管"
    assert item["custody"][-1]["kind"] == "annotated"
    assert item["custody"][-1]["details"] == {"caption": "雨水排口 旁路管", "previous": ""}
    with pytest.raises(ValidationError):
        ev.set_caption(items[1]["id"], li, "长" * 201)


def test_a_warning_is_explained_kept_or_the_item_excluded_never_deleted(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each action on an item's warnings is an annotated custody event; an excluded item stays (file, row,
    custody) but is left out of what documents list and print, and an exclusion can be withdrawn."""
    from kit_app.services.documents import DocumentService

    store, ev, case, li, _wf = env
    t = now_local() - timedelta(hours=1)
    edited = make_jpeg(tmp_path / "edited.jpg", modified=t, software="Adobe Photoshop 25.0", seed=1)
    plain = make_jpeg(tmp_path / "plain.jpg", taken=t, seed=2)
    far = make_jpeg(tmp_path / "far.jpg", taken=t, lat=LAT + 1, lon=LON, seed=3)
    res = {Path(r.path).name: r for r in ev.ingest(case.id, li, [edited, plain, far])}
    e, p, f = (res[n].evidence_id for n in ("edited.jpg", "plain.jpg", "far.jpg"))
    with pytest.raises(ValidationError):
        ev.dispose(e, li, "explained", "  ")  # an explanation says something
    with pytest.raises(ValidationError):
        ev.dispose(p, li, "kept")  # nothing to keep: no warnings
    ev.dispose(e, li, "explained", "企业提供的原始照片经压缩后发送，原图已另行提取")
    ev.dispose(f, li, "kept")
    got = ev.dispose(p, li, "excluded", "误拍，与案件无关")
    assert got["disposition"]["excluded"] and got["disposition"]["note"] == "误拍，与案件无关"
    with pytest.raises(ValidationError):
        ev.dispose(p, li, "excluded", "again")
    states = {i["original_name"]: i["disposition"] for i in ev.list_for_case(case.id)}
    assert states["edited.jpg"]["action"] == "explained" and states["far.jpg"]["action"] == "kept"
    assert states["plain.jpg"]["excluded"] and states["plain.jpg"]["by"] == li.name
    event = ev.show(e)["custody"][-1]
    assert (event["kind"], event["reason"]) == ("annotated", "企业提供的原始照片经压缩后发送，原图已另行提取")
    assert event["details"]["disposition"] == "explained" and any("Photoshop" in w for w in event["details"]["warnings"])
    # kept: the item, its original and its custody
    assert Path(ev.show(p)["stored_path"]).exists() and ev.verify(case.id).ok
    docs = DocumentService(store)
    for doc_type in ("evidence_list", "photo_evidence"):
        printed = json.dumps(docs.prefill(case.id, doc_type, li), ensure_ascii=False)
        assert "plain.jpg" not in printed and "edited.jpg" in printed, doc_type
    ev.dispose(p, li, "included", "经核实与本案有关")
    assert ev.show(p)["disposition"]["action"] == "included" and not ev.show(p)["disposition"]["excluded"]
    with pytest.raises(ValidationError):
        ev.dispose(p, li, "included", "again")


def test_the_command_line_captions_explains_and_excludes(env, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from kit_app.cli import main

    store, ev, case, li, _wf = env
    t = now_local() - timedelta(hours=1)
    (r,) = ev.ingest(case.id, li, [make_jpeg(tmp_path / "saved.jpg", modified=t, seed=5)])
    base = ["--data-dir", str(store.data_dir)]
    assert main([*base, "evidence", "caption", r.evidence_id, "--officer", "45010320231", "--text", "总排口"]) == 0
    assert "总排口" in capsys.readouterr().out
    assert main([*base, "evidence", "explain", r.evidence_id, "--officer", "45010320231", "--note", "相机时间未设置",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["disposition"]["action"] == "explained"
    assert main([*base, "evidence", "exclude", r.evidence_id, "--officer", "45010320231", "--note", " "]) == 1
    err = capsys.readouterr().err
    assert "Say why the item is excluded" in err and "Traceback" not in err
    assert ev.show(r.evidence_id)["description"] == "总排口"
