"""Storage faults on real file systems (a small tmpfs filled to the byte, a read-only remount, a
loop device shrunk under a file being read): no original is ever stored unless every byte reached
the disk, a full disk is an ordinary named condition, a read-only store is browsed and verified,
the log never breaks the program, a source failing mid-read fails that file alone."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC
from pathlib import Path

import pytest

from kit_app.db import Store, open_store
from kit_app.errors import KitError
from kit_app.evidence.service import EvidenceService
from kit_app.services.cases import CaseService
from kit_app.services.demo import DemoGenerator
from kit_app.services.officers import OfficerService
from kit_app.storage import RESERVE, DiskFull, ReadOnlyStore, human
from tests.helpers import fs

MB = 1024 * 1024
KIT_APP = Path(sys.executable).with_name("kit-app")


def photos(where: Path, n: int, size: int = int(1.5 * MB)) -> list[Path]:
    """Files a camera card could hold (JPEG-marked, random content: they do not compress)."""
    where.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = where / f"IMG_{i:04d}.JPG"
        p.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(size))
        out.append(p)
    return out


def new_store(data_dir: Path) -> tuple[Store, str]:
    store = open_store(data_dir)
    DemoGenerator(store, seed=1).ensure_officers()
    li = OfficerService(store).login("45010320231", "demo1234")
    case = CaseService(store).create(party="南宁市绿源化工有限公司", title="超标排放", actor=li)
    return store, case.id


def consistent(store: Store) -> int:
    """Everything recorded is whole: each item's original hashes to its name, each has its custody
    event, the chain verifies, no temporary or unreferenced file is left, the database is intact."""
    ev = EvidenceService(store)
    rep = ev.verify()
    assert rep.ok, [p.as_dict() for p in rep.problems]
    objects = ev.blobs.objects
    stored = {p.name for p in objects.glob("*/*")} if objects.exists() else set()
    for name in stored:
        assert hashlib.sha256((objects / name[:2] / name).read_bytes()).hexdigest() == name
    with store.engine.connect() as c:
        items = {r[0] for r in c.exec_driver_sql("SELECT sha256 FROM evidence_items WHERE sha256 IS NOT NULL")}
        events = c.exec_driver_sql("SELECT count(DISTINCT evidence_id) FROM custody_events").scalar()
        total = c.exec_driver_sql("SELECT count(*) FROM evidence_items").scalar()
    assert stored == items, "an original without its record, or a record without its original"
    assert events == total
    assert not any(ev.blobs.tmp.glob("*")) if ev.blobs.tmp.exists() else True
    con = sqlite3.connect(store.db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    return total


@pytest.mark.slow
@pytest.mark.parametrize("leave", [0, 300 * 1024])  # nothing left at all (the database cannot grow either); a little
def test_the_disk_fills_at_every_tenth_of_an_import(tmp_path: Path, leave: int) -> None:
    cards = photos(tmp_path / "card", 20)
    for tenth in range(1, 10):
        at = 2 * tenth  # files imported when the disk fills
        with fs.tmpfs(tmp_path / f"disk{tenth}", 96 * MB) as disk:
            store, case_id = new_store(disk / "kit")
            li = OfficerService(store).login("45010320231", "demo1234")
            filler: list[Path] = []

            def progress(done: int, _total: int, at: int = at) -> None:
                if done == at:  # a video recording elsewhere eats the disk
                    filler.append(fs.fill(disk, leave))  # noqa: B023

            res = EvidenceService(store).ingest(case_id, li, cards, progress=progress, thumbnails=True)
            ok = [r for r in res if r.status == "ok"]
            failed = [r for r in res if r.status == "error"]
            assert len(ok) + len(failed) == len(cards)
            assert len(ok) == at  # every file before is recorded whole (the ballast gave the database room)
            assert all("full" in r.error for r in failed), [r.error for r in failed]
            # each names the reason and the free space all the files not imported need
            needed = sum(Path(r.path).stat().st_size for r in failed) + RESERVE
            assert all(r.error.startswith("not imported") and f"{human(needed)} are needed" in r.error
                       and r.space_needed == needed for r in failed), failed[0].error
            assert [r.path for r in ok] == [str(p) for p in cards[:len(ok)]]
            assert consistent(store) == len(ok)
            # room again (the video moved off): the same card is imported again, nothing twice
            filler[0].unlink()
            again = EvidenceService(store).ingest(case_id, li, cards, thumbnails=False)
            assert [r.status for r in again] == ["duplicate"] * len(ok) + ["ok"] * (len(cards) - len(ok))
            assert consistent(store) == len(cards)
            store.close()


def test_an_import_that_cannot_fit_is_refused_before_it_starts(tmp_path: Path) -> None:
    with fs.tmpfs(tmp_path / "disk", 48 * MB) as disk:
        store, case_id = new_store(disk / "kit")
        li = OfficerService(store).login("45010320231", "demo1234")
        card = photos(tmp_path / "card", 24)  # 36 MB, with the reserve more than is free
        with pytest.raises(DiskFull) as err:
            EvidenceService(store).ingest(case_id, li, card)
        assert "needed" in str(err.value) and "free" in str(err.value)
        assert consistent(store) == 0


def test_previews_give_way_to_an_original(tmp_path: Path) -> None:
    from tests.helpers.photos import make_jpeg

    with fs.tmpfs(tmp_path / "disk", 48 * MB) as disk:
        store, case_id = new_store(disk / "kit")
        li = OfficerService(store).login("45010320231", "demo1234")
        ev = EvidenceService(store)
        shots = [make_jpeg(tmp_path / f"p{i}.jpg", size=(1600, 1200), seed=i) for i in range(4)]
        ev.ingest(case_id, li, shots)
        previews = list(ev.blobs.derived.rglob("*.jpg"))
        assert len(previews) == 4
        (ev.blobs.derived / "cache.bin").write_bytes(os.urandom(2 * MB))  # a large derived file too
        small, big = photos(tmp_path / "card", 2, size=3 * MB)

        def progress(done: int, _total: int) -> None:
            if done == 1:
                fs.fill(disk, 3 * MB - 512 * 1024)  # the next original fits only if the previews go

        res = ev.ingest(case_id, li, [small, big], progress=progress, thumbnails=False)
        assert [r.status for r in res] == ["ok", "ok"], [r.error for r in res]
        assert not any(ev.blobs.derived.rglob("*.jpg"))  # the previews went; they can be made again
        assert consistent(store) == 6


def test_a_source_pulled_out_mid_file_fails_that_file_alone(tmp_path: Path) -> None:
    store, case_id = new_store(tmp_path / "kit")
    li = OfficerService(store).login("45010320231", "demo1234")
    ev = EvidenceService(store)
    before = consistent(store)
    with fs.pullable(tmp_path / "card", tmp_path / "card.img") as (card, pull):
        video = card / "DCIM" / "MVI_0001.MP4"
        video.parent.mkdir()
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(12 * MB))
        os.sync()
        with video.open("rb") as fh:  # the first megabyte is in the page cache, the rest is not
            fh.read(MB)
            os.posix_fadvise(fh.fileno(), MB, 0, os.POSIX_FADV_DONTNEED)
        pull()
        later = photos(tmp_path / "other", 1)[0]
        res = ev.ingest(case_id, li, [video, later], thumbnails=False)
    assert res[0].status == "error" and str(video) in res[0].error and "byte" in res[0].error, res[0].error
    assert res[1].status == "ok"
    assert consistent(store) == before + 1  # nothing of the pulled file kept, the next one whole


def test_a_read_only_store_is_browsed_and_verified(tmp_path: Path) -> None:
    with fs.tmpfs(tmp_path / "disk", 64 * MB) as disk:
        store, case_id = new_store(disk / "kit")
        li = OfficerService(store).login("45010320231", "demo1234")
        [res] = EvidenceService(store).ingest(case_id, li, photos(tmp_path / "card", 1))
        store.close()
        fs.remount_read_only(disk)
        try:
            ro = open_store(disk / "kit")
            assert ro.read_only and ro.kit_id
            assert OfficerService(ro).login("45010320231", "demo1234").name == "李明"
            rep = EvidenceService(ro).verify()
            assert rep.ok and not rep.checkpoint_saved
            with pytest.raises(ReadOnlyStore):  # refused by name in the core, not as a database error
                CaseService(ro).create(party="x", title="y", actor=li)
            ro.close()

            def kit(*args: str) -> subprocess.CompletedProcess[str]:
                return subprocess.run([str(KIT_APP), "--lang", "en", "--data-dir", str(disk / "kit"), *args],
                                      capture_output=True, text=True, timeout=120)

            for args in (["status", "--json"], ["case", "list", "--json"], ["case", "show", case_id, "--json"],
                         ["evidence", "list", "--case", case_id, "--json"], ["evidence", "show", res.evidence_id,
                                                                              "--json"],
                         ["custody", "export", "--case", case_id, "-o", str(tmp_path / "custody.jsonl")]):
                out = kit(*args)
                assert out.returncode == 0, (args, out.stderr)
                assert "Traceback" not in out.stderr
            assert json.loads(kit("status", "--json").stdout)["storage"] == "read_only"
            out = kit("verify", "--json")
            assert out.returncode == 0 and json.loads(out.stdout)["read_only"] is True
            assert "checkpoint" in kit("verify").stdout
            for args in (["case", "new", "--party", "x", "--title", "y", "--officer", "45010320231"],
                         ["ingest", "--case", case_id, "--officer", "45010320231", str(tmp_path / "card")]):
                out = kit(*args)
                assert out.returncode == 1 and "read-only" in out.stderr and "Traceback" not in out.stderr, out.stderr
        finally:
            fs.remount_read_write(disk)


def test_the_log_never_breaks_the_program(tmp_path: Path) -> None:
    with fs.tmpfs(tmp_path / "disk", 16 * MB) as disk:
        store, _case = new_store(disk / "kit")
        store.close()
        fs.fill(disk, 0)
        out = subprocess.run([str(KIT_APP), "--lang", "en", "--data-dir", str(disk / "kit"), "status", "--json"],
                             capture_output=True, text=True, timeout=120)
        assert "Logging error" not in out.stderr and "Traceback" not in out.stderr, out.stderr
        assert out.returncode == 0 and json.loads(out.stdout)["storage"] == "full", out.stdout
        out = subprocess.run([str(KIT_APP), "--lang", "en", "--data-dir", str(disk / "kit"), "case", "new",
                              "--party", "x", "--title", "y", "--officer", "45010320231"],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 1 and "full" in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_a_kit_made_original_never_stores_short(tmp_path: Path) -> None:
    """Camera stills and clips, recordings and issued PDFs go through the same writer."""
    with fs.tmpfs(tmp_path / "disk", 40 * MB) as disk:
        store, case_id = new_store(disk / "kit")
        li = OfficerService(store).login("45010320231", "demo1234")
        ev = EvidenceService(store)
        clip = disk / "kit" / "clip.mp4"
        clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(6 * MB))
        fs.fill(disk, 2 * MB)  # the clip is on the disk; its copy into the store does not fit
        from datetime import datetime

        with pytest.raises(KitError, match="full"):
            ev.add_capture(case_id, [li], clip, kind="video", captured_at=datetime.now(UTC),
                           device="cam", gps=None)
        assert consistent(store) == 0
        assert RESERVE > 0


def test_a_read_only_store_is_read_from_many_threads(tmp_path: Path) -> None:
    """The window's workers read at once: each thread gets a connection of its own for the time of
    its session (a pool that closed one thread's connection under another crashed the process)."""
    with fs.tmpfs(tmp_path / "disk", 32 * MB) as disk:
        store, case_id = new_store(disk / "kit")
        store.close()
        fs.remount_read_only(disk)
        try:
            ro = open_store(disk / "kit")
            errors: list[BaseException] = []

            def read() -> None:
                try:
                    for _ in range(40):
                        assert [c.id for c in CaseService(ro).find()] == [case_id]
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=read) for _ in range(12)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert errors == []
            ro.close()
        finally:
            fs.remount_read_write(disk)
