"""Evidence encrypted at rest: a stolen data dir yields nothing readable — not the database, not an
original, not a thumbnail, not even which files it holds — while the kit itself works as before with
content hashes of the plaintext; the data key unlocks with an officer's password (kept up to date as
officers come, go and change passwords) or the agency's recovery key; failed attempts are kept."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from kit_app.cli import main
from kit_app.db import Store
from kit_app.errors import AuthenticationError
from kit_app.evidence.service import EvidenceService
from kit_app.keyring import Keyring, KeyringError, KitLocked, make_recovery_key
from kit_app.services.admin import AdminService
from kit_app.services.audit import AuditService
from kit_app.services.cases import CaseService
from kit_app.services.courtpack import CourtPackService
from kit_app.services.officers import OfficerService
from kit_app.services.vault import Vault
from tests.helpers.photos import make_jpeg

PARTY = "南宁市绿源化工有限公司"


@pytest.fixture
def vault_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    v = Vault(tmp_path / "kit")
    store = v.create(name="系统管理员", cert_no="GXADMIN001", password="admin-password")
    yield v, store
    store.close()


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def _officer_with_a_case(store: Store, title: str):  # type: ignore[no-untyped-def]
    """An officer the administrator adds (and who can then unlock the kit), and a case of theirs."""
    admin = OfficerService(store).login("GXADMIN001", "admin-password")
    OfficerService(store).add(name="李明", cert_no="45010320231", roles=["officer"], password="officer-password",
                              actor=admin)
    li = OfficerService(store).login("45010320231", "officer-password")
    return li, CaseService(store).create(party=PARTY, title=title, actor=li)


def test_nothing_readable_without_the_key(vault_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v, store = vault_store
    li, case = _officer_with_a_case(store, "超标排放")
    photo = make_jpeg(tmp_path / "IMG_0001.jpg", taken=datetime(2026, 11, 30, 9, 30), lat=22.8167, lon=108.3669)
    plain = photo.read_bytes()
    sha = hashlib.sha256(plain).hexdigest()
    ev = EvidenceService(store)
    [res] = ev.ingest(case.id, li, [photo])
    assert res.status == "ok" and res.sha256 == sha
    item = ev.show(res.evidence_id)
    # the kit reads the photo as before: EXIF, position, thumbnail, content hash of the plaintext
    assert item["latitude"] == pytest.approx(22.8167, abs=1e-4) and item["sha256"] == sha
    thumb = ev.blobs.thumb_bytes(sha)
    assert thumb is not None and thumb[:2] == b"\xff\xd8"
    assert ev.blobs.read_bytes(sha) == plain and ev.verify().ok
    store.engine.dispose()
    # what a thief gets
    root = store.data_dir
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(root / "kit.sqlite3").execute("SELECT * FROM officers").fetchall()
    everything = _all_bytes(root)
    for secret in (PARTY.encode(), "李明".encode(), "超标排放".encode(), plain[200:264], thumb[100:164], sha.encode()):
        assert secret not in everything, secret[:20]
    assert not [p for p in root.rglob("*") if p.is_file() and p.read_bytes()[:3] == b"\xff\xd8\xff"]  # no JPEG
    with pytest.raises(KitLocked):
        from kit_app.db import open_store

        open_store(root)


def test_a_sealed_original_altered_or_cut_short_is_named(vault_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v, store = vault_store
    li, case = _officer_with_a_case(store, "t")
    ev = EvidenceService(store)
    big = tmp_path / "scan.pdf"
    big.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * (5 * 4096 + 7))  # many 256 KiB chunks
    [res] = ev.ingest(case.id, li, [big])
    assert ev.blobs.read_bytes(res.sha256) == big.read_bytes()
    with ev.blobs.open(res.sha256) as fh:  # seek into a later chunk, as a resumed upload does
        fh.seek(4 * 1024 * 1024 + 5)
        assert fh.read(10) == big.read_bytes()[4 * 1024 * 1024 + 5:4 * 1024 * 1024 + 15]
    stored = ev.blobs.path_for(res.sha256)
    stored.chmod(0o600)
    raw = bytearray(stored.read_bytes())
    raw[100] ^= 1
    stored.write_bytes(bytes(raw))
    rep = ev.verify()
    assert [p.kind for p in rep.problems] == ["file_modified"]
    stored.write_bytes(bytes(raw[:-20]))  # cut short
    assert [p.kind for p in ev.verify().problems] == ["file_modified"]


def test_who_unlocks_follows_the_officers(vault_store) -> None:  # type: ignore[no-untyped-def]
    v, store = vault_store
    officers, admin_svc = OfficerService(store), AdminService(store)
    admin = officers.login("GXADMIN001", "admin-password")
    new = officers.add(name="韦芳", cert_no="45010320232", roles=["officer"], password="first-password", actor=admin)
    ring = Keyring.load(v.data_dir)
    assert ring.officers() == ["45010320232", "GXADMIN001"] and ring.opens_with("45010320232", "first-password")
    admin_svc.reset_password(admin, new.id, "second-password")
    ring = Keyring.load(v.data_dir)
    assert ring.opens_with("45010320232", "second-password") and not ring.opens_with("45010320232", "first-password")
    admin_svc.set_active(admin, new.id, False)
    assert Keyring.load(v.data_dir).officers() == ["GXADMIN001"]
    store.close()
    # a wrong password while locked: refused, kept, and in the access log once the kit is open
    with pytest.raises(AuthenticationError):
        v.open("GXADMIN001", "wrong")
    with pytest.raises(AuthenticationError, match="has not unlocked"):
        v.open("45010320232", "second-password")
    again = v.open("GXADMIN001", "admin-password")
    try:
        rows = AuditService(again).query(None, action="login.failed")
        assert [(r.target, r.details.get("while")) for r in rows] == [("45010320232", "locked"), ("GXADMIN001", "locked")]
        assert Keyring.load(v.data_dir).failures() == []
    finally:
        again.close()
    # five in a row lock the number out for a while, before the password is even tried
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            v.unlock("GXADMIN001", "wrong")
    with pytest.raises(AuthenticationError, match="locked"):
        v.unlock("GXADMIN001", "admin-password")


def test_the_recovery_key_when_every_password_is_forgotten(vault_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v, store = vault_store
    private, public = make_recovery_key("office-safe-passphrase")
    ring = Keyring.load(v.data_dir)
    fp = ring.set_recovery(store.key, public)
    ring.save()
    store.close()
    other_private, _public = make_recovery_key()
    with pytest.raises(KeyringError, match="does not open this kit"):
        v.open_recovery(other_private)
    with pytest.raises(KeyringError, match="passphrase"):  # wrong passphrase
        v.open_recovery(private, "wrong passphrase")
    opened = v.open_recovery(private, "office-safe-passphrase")
    try:
        AdminService(opened).reset_password(None, "GXADMIN001", "remembered-now")
    finally:
        opened.close()
    assert Keyring.load(v.data_dir).recovery() == fp
    v.open("GXADMIN001", "remembered-now").close()


def test_the_command_line_unlocks_and_the_court_pack_is_plaintext(vault_store, tmp_path: Path, monkeypatch,  # type: ignore[no-untyped-def]
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    v, store = vault_store
    li, case = _officer_with_a_case(store, "超标排放")
    photo = make_jpeg(tmp_path / "IMG_0002.jpg", taken=datetime(2026, 11, 30, 9, 31))
    [res] = EvidenceService(store).ingest(case.id, li, [photo])
    store.close()
    d = str(v.data_dir)
    assert main(["--data-dir", d, "verify", "--json"]) == 2
    assert "is encrypted" in capsys.readouterr().err
    monkeypatch.setenv("KIT_PASSWORD", "officer-password")
    assert main(["--data-dir", d, "--unlock", "45010320231", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    monkeypatch.setenv("KIT_PASSWORD", "admin-password")
    assert main(["--data-dir", d, "--unlock", "GXADMIN001", "vault", "status", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["encrypted"] is True and got["officers"] == ["45010320231", "GXADMIN001"] and got["recovery_key"] is None
    opened = v.open("45010320231", "officer-password")
    try:
        pack = CourtPackService(opened).export(case.id, tmp_path / "pack.zip", li)
    finally:
        opened.close()
    with zipfile.ZipFile(pack.path) as z:
        [name] = [n for n in z.namelist() if n.startswith("originals/")]
        assert z.read(name) == photo.read_bytes()
    assert res.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the sealed format, fuzzed
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kit_app.evidence import sealed as S  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(size=st.sampled_from([0, 1, S.CHUNK - 1, S.CHUNK, S.CHUNK + 1, 2 * S.CHUNK, 3 * S.CHUNK + 17]),
       pieces=st.integers(1, 7), seek=st.integers(0, 3 * S.CHUNK + 40), n=st.integers(0, S.CHUNK + 9),
       flip=st.integers(0, 10**9))
def test_sealed_files_read_back_exactly_and_refuse_any_change(tmp_path_factory, size: int, pieces: int, seek: int,  # type: ignore[no-untyped-def]
                                                              n: int, flip: int) -> None:
    import os

    d = tmp_path_factory.mktemp("sealed")
    key = os.urandom(32)
    plain = os.urandom(size)
    out = bytearray()
    w = S.SealWriter(key, out.extend)
    step = max(1, size // pieces)
    for i in range(0, size, step):  # written in uneven pieces, as a stream arrives
        w.write(plain[i:i + step])
    w.close()
    f = d / "blob"
    f.write_bytes(bytes(out))
    assert S.plain_size(len(out)) == size
    with S.SealedReader(f, key) as r:
        assert r.read() == plain
        r.seek(seek)
        assert r.read(n) == plain[seek:seek + n]
    # any byte changed, or the file cut short anywhere, and reading it all fails
    bad = bytearray(out)
    bad[flip % len(bad)] ^= 0x5A
    f.write_bytes(bytes(bad))
    with pytest.raises(S.SealBroken):
        with S.SealedReader(f, key) as r:
            r.read()
    cut = len(S.MAGIC) + 8 + (flip % max(1, len(out) - len(S.MAGIC) - 8))
    f.write_bytes(bytes(out[:cut]))
    with pytest.raises(S.SealBroken):
        with S.SealedReader(f, key) as r:
            r.read()


# ---------------------------------------------------------------- converting a data dir of an earlier version
def _plain_kit_with_evidence(demo_store: Store, tmp_path: Path) -> tuple[bytes, str, str]:
    li = OfficerService(demo_store).login("45010320231", "demo1234")
    case = CaseService(demo_store).create(party=PARTY, title="超标排放", actor=li)
    photo = make_jpeg(tmp_path / "IMG_0003.jpg", taken=datetime(2026, 11, 30, 9, 32), lat=22.8, lon=108.3)
    [res] = EvidenceService(demo_store).ingest(case.id, li, [photo])
    demo_store.close()
    return photo.read_bytes(), res.sha256 or "", case.id


def test_a_data_dir_of_an_earlier_version_is_encrypted_in_place(demo_store: Store, tmp_path: Path) -> None:
    from kit_app.services.preflight import PreflightService

    plain, sha, case_id = _plain_kit_with_evidence(demo_store, tmp_path)
    v = Vault(demo_store.data_dir)
    with pytest.raises(Exception, match="may not"):  # an officer may not: an administrator does it
        v.encrypt_existing("45010320231", "demo1234")
    store = v.encrypt_existing("GXADMIN001", "demo1234")
    try:
        ev = EvidenceService(store)
        assert store.key is not None and ev.verify().ok and ev.blobs.read_bytes(sha) == plain
        assert ev.blobs.thumb_bytes(sha)[:2] == b"\xff\xd8"  # type: ignore[index]
        assert len(ev.list_for_case(case_id)) == 1
        enc = {c.key: c for c in PreflightService(store).assess(PreflightService(store).collect(), [],
                                                                power=lambda: None).checks}["encryption"]
        assert enc.level != "red" and enc.figures["encrypted"]
        # another officer's own sign-in now unlocks it too
        OfficerService(store).login("45010320231", "demo1234")
    finally:
        store.close()
    root = demo_store.data_dir
    everything = _all_bytes(root)
    assert plain[200:264] not in everything and PARTY.encode() not in everything and sha.encode() not in everything
    assert not (root / "encrypting").exists()
    Vault(root).open("45010320231", "demo1234").close()


def test_a_conversion_cut_off_before_or_after_its_commit_point(demo_store: Store, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             monkeypatch) -> None:
    import kit_app.keyring as K
    from kit_app.db import open_store

    plain, sha, case_id = _plain_kit_with_evidence(demo_store, tmp_path)
    root = demo_store.data_dir

    def power_cut(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OSError("power cut")

    # before the journal: the staged files are thrown away, the data dir opens as it was
    monkeypatch.setattr(K, "write_journal", power_cut)
    with pytest.raises(OSError):
        Vault(root).encrypt_existing("GXADMIN001", "demo1234")
    monkeypatch.undo()
    assert (root / "encrypting").exists() and not Vault(root).encrypted
    store = open_store(root)
    assert store.key is None and EvidenceService(store).verify().ok and not (root / "encrypting").exists()
    store.close()
    # after the journal: the switch is carried through at the next opening
    monkeypatch.setattr(Vault, "open", power_cut)
    with pytest.raises(OSError):
        Vault(root).encrypt_existing("GXADMIN001", "demo1234")
    monkeypatch.undo()
    assert Vault(root).encrypted
    store = Vault(root).open("GXADMIN001", "demo1234")
    try:
        ev = EvidenceService(store)
        assert ev.verify().ok and ev.blobs.read_bytes(sha) == plain
    finally:
        store.close()
    assert plain[200:264] not in _all_bytes(root)
