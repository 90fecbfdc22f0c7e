"""The court pack, checked as a court's expert would: with the verifier inside it, run by a bare Python
from the pack's own folder — then with each kind of tampering, which it must name."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kit_app.db.models import KitMeta, SyncBlob
from kit_app.services.courtpack import CourtPackService
from tests.unit.test_casefile import case  # noqa: F401 - the fixture: a case with papers and evidence


def verify(pack: Path, tmp_path: Path) -> tuple[int, str]:
    """The pack's own verifier, taken out of it, run isolated (no kit on its path) from an empty folder."""
    here = tmp_path / f"check-{len(list(tmp_path.iterdir()))}"
    here.mkdir()
    if pack.is_dir():
        shutil.copy(pack / "verify_pack.py", here / "verify_pack.py")
    else:
        with zipfile.ZipFile(pack) as z:
            (here / "verify_pack.py").write_bytes(z.read("verify_pack.py"))
    out = subprocess.run([sys.executable, "-I", str(here / "verify_pack.py"), str(pack)], cwd=here,
                         capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout + out.stderr


def rewrite(pack: Path, dest: Path, change: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> Path:
    """A copy of the pack with entries replaced (bytes) or removed (None), and entries added."""
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(dest, "w") as out:
        for info in src.infolist():
            if info.filename in change:
                if change[info.filename] is not None:
                    out.writestr(info.filename, change[info.filename])  # type: ignore[arg-type]
                continue
            out.writestr(info, src.read(info.filename))
        for name, data in (add or {}).items():
            out.writestr(name, data)
    return dest


def with_receipts(store: Any, shas: list[str], *, forged: str | None = None) -> None:
    """The kit as if synced: the server's pinned key and its signed receipts for these originals."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kit_app.evidence.custody import canonical

    server = Ed25519PrivateKey.generate()
    pem = server.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with store.session() as s:
        s.merge(KitMeta(key="central_server_key", value=pem))
        for sha in shas:
            body = {"kind": "blob", "kit_id": store.kit_id, "sha256": sha, "size": 1, "server_seq": 7,
                    "received_at": "2026-11-30T10:00:00+00:00"}
            signed = server.sign(hashlib.sha256(canonical(body)).hexdigest().encode("ascii"))
            if sha == forged:
                signed = Ed25519PrivateKey.generate().sign(b"something else")
            s.add(SyncBlob(sha256=sha, size=1, received_at=body["received_at"], body=json.dumps(body),
                           signature=base64.b64encode(signed).decode()))
        s.commit()


def test_a_court_pack_verifies_anywhere_and_names_every_tampering(case: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    store, li = case["store"], case["li"]
    ev = CourtPackService(store).evidence
    items = [i for i in ev.list_for_case(case["case"].id) if i["sha256"]]
    with_receipts(store, [i["sha256"] for i in items[:2]])
    pack = CourtPackService(store).export(case["case"].id, tmp_path / "pack.zip", li)
    assert pack.originals == len(items) and not pack.archived and pack.case_file_pages > 10
    rc, out = verify(pack.path, tmp_path)
    assert rc == 0 and "THE PACK VERIFIES." in out, out
    assert "2 receipts of the central server" in out and f"kit {store.kit_id}" in out
    with zipfile.ZipFile(pack.path) as z:
        names = z.namelist()
        manifest = json.loads(z.read("manifest.json"))
        source = z.read("verify_pack.py").decode()
        assert z.read("case-file.pdf").startswith(b"%PDF") and z.read("verification.pdf").startswith(b"%PDF")
        photo = next(f for f in manifest["files"] if f.get("original_name") == "DSC_0000.jpg")
        assert z.read(photo["path"]) == Path(ev.show(photo["evidence_id"])["stored_path"]).read_bytes()  # bit-exact
        custody = z.read("custody.jsonl")
    assert "kit_app" not in source  # stand-alone: the standard library and cryptography only
    assert {f["path"] for f in manifest["files"]} | {"manifest.json", "manifest.sig"} == set(names)
    assert next(f for f in manifest["files"] if f.get("original_name") == "DSC_0003.jpg")["excluded"]
    # every original's custody now says it went into this pack
    last = ev.show(photo["evidence_id"])["custody"][-1]
    assert last["kind"] == "exported" and last["details"]["manifest_sha256"] == pack.manifest_sha256
    # the same, unpacked to a folder
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(pack.path) as z:
        z.extractall(folder)
    assert verify(folder, tmp_path)[0] == 0

    # tampering, each kind named
    altered = bytearray(zipfile.ZipFile(pack.path).read(photo["path"]))
    altered[-100] ^= 0xFF
    cases = {
        "an original altered": ({photo["path"]: bytes(altered)}, None, f"{photo['path']}: altered"),
        "an original removed": ({photo["path"]: None}, None, f"{photo['path']}: missing from the pack"),
        "a file slipped in": ({}, {"originals/999-extra.jpg": b"x"}, "originals/999-extra.jpg: not listed"),
        "a custody event rewritten": ({"custody.jsonl": custody.replace(b'imported', b'importeD', 1)}, None,
                                      "custody.jsonl: altered"),
        "the manifest forged to match": ({"manifest.json": json.dumps(manifest | {"files": [
            f | {"sha256": hashlib.sha256(bytes(altered)).hexdigest()} if f is photo else f
            for f in manifest["files"]]}).encode(), photo["path"]: bytes(altered)}, None,
                                         "its signature (manifest.sig) is not the kit key's"),
    }
    for what, (change, add, named) in cases.items():
        bad = rewrite(pack.path, tmp_path / f"{what}.zip", change, add)
        rc, out = verify(bad, tmp_path)
        assert rc == 1 and named in out and "THE PACK DOES NOT VERIFY" in out, (what, out)


def test_a_forged_receipt_is_named(case: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    store, li = case["store"], case["li"]
    items = [i for i in CourtPackService(store).evidence.list_for_case(case["case"].id) if i["sha256"]]
    with_receipts(store, [i["sha256"] for i in items[:2]], forged=items[1]["sha256"])
    pack = CourtPackService(store).export(case["case"].id, tmp_path / "pack.zip", li)
    rc, out = verify(pack.path, tmp_path)
    assert rc == 1 and f"receipt for {items[1]['sha256'][:16]}: not signed by the server key" in out, out


def test_the_command_line_exports(case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    from kit_app.cli import main

    out = tmp_path / "证据包.zip"
    assert main(["--data-dir", str(case["store"].data_dir), "export", "--case", case["case"].number, "-o", str(out),
                 "--officer", "45010320231", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["originals"] >= 7 and out.exists() and not Path(str(out) + ".part").exists()
    assert verify(out, tmp_path)[0] == 0
