"""The central server and the kit's sync client, tried as an attacker would: hostile kit ids and
bodies, a kit writing into another county's case, forged receipts, oversized bodies, stolen kits
and credentials, officers guessing passwords. Over real HTTP, on SQLite and PostgreSQL; after
every attack the server's chains and blobs still verify."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from central.db import Kit, Officer, Record, ServerMeta
from central.service import BlobStore, Central, CentralError, Feed, Push
from kit_app.db import Store, open_store
from kit_app.db.models import KitMeta
from kit_app.errors import AuthenticationError
from kit_app.evidence.custody import canonical
from kit_app.evidence.keys import KitKey
from kit_app.evidence.service import EvidenceService
from kit_app.ids import new_id
from kit_app.services.cases import CaseService
from kit_app.services.demo import DemoGenerator
from kit_app.services.officers import OfficerService
from kit_app.sync import client
from kit_app.sync.client import SyncError, auth_header, enrol, pull, push, status, sync, upload
from kit_app.sync.snapshot import snapshot
from kit_app.sync.trust import TrustError
from tests.helpers.forger import Forger

PW = "pass-word-1"
API = "/api/v1"


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def province(server) -> Central:  # type: ignore[no-untyped-def]
    c: Central = server.app.state.central
    for code, name in (("45", "广西壮族自治区生态环境厅"), ("4501", "南宁市生态环境局"),
                       ("450103", "南宁市生态环境局青秀区分局"), ("4502", "柳州市生态环境局"),
                       ("450202", "柳州市生态环境局城中区分局")):
        c.add_agency(code, name)
    for cert, name, roles, agency in (("GXADMIN001", "区管理员", "admin", "45"),
                                      ("45010000001", "吴科长", "reviewer,admin", "4501"),
                                      ("45010320231", "李明", "officer", "450103"),
                                      ("45020220001", "钱柳", "officer,admin", "450202")):
        c.add_officer(cert_no=cert, name=name, roles=roles, agency=agency, password=PW)
    return c


def new_kit(server, c: Central, data_dir: Path, agency: str) -> Store:  # type: ignore[no-untyped-def]
    store = open_store(data_dir)
    DemoGenerator(store, seed=1).ensure_officers()
    enrol(store, server.base, c.make_enrol_code(agency)["code"])
    return store


def case_with_item(store: Store, password: str = "demo1234") -> tuple[str, str]:
    """A case with a physical item (the kit's demo officer; after a pull, the server's password)."""
    li = OfficerService(store).login("45010320231", password)
    case = CaseService(store).create(party="南宁市绿源化工有限公司", title="超标排放", actor=li)
    item = EvidenceService(store).add_physical(case.id, li, seal_no="GXQX-001", description="废水样品")
    return case.id, item


def verified(server) -> None:  # type: ignore[no-untyped-def]
    res = Push(server.app.state.central).verify(server.app.state.blobs)
    assert res["ok"], res["problems"]


def received(server) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {k["kit_id"]: k for k in Push(server.app.state.central).received()}


def signed_event(store: Store, seq: int, prev_hash: str, evidence_id: str, case_id: str) -> dict[str, Any]:
    """A custody event as the kit would sign it, naming whatever ids the attacker likes."""
    key = KitKey.load_or_create(store.data_dir)
    eid = new_id()
    body = canonical({"seq": seq, "id": eid, "kit_id": store.kit_id, "prev_hash": prev_hash, "kind": "annotated",
                      "evidence_id": evidence_id, "case_id": case_id, "at": "2026-11-30T08:00:00+00:00"}).decode()
    h = hashlib.sha256(body.encode()).hexdigest()
    return {"seq": seq, "id": eid, "body": body, "hash": h, "signature": key.sign(h.encode("ascii"))}


# ---------------------------------------------------------------- 1. identifiers never become paths
def test_kit_ids_never_become_paths(server, province: Central, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = province
    key = KitKey.load_or_create(store.data_dir).public_pem()
    for hostile in ("../../../../x", "../objects/ab", "..", "a" * 36, store.kit_id.upper()):
        r = httpx.post(f"{server.base}{API}/enrol",
                       json={"code": c.make_enrol_code("450103")["code"], "kit_id": hostile, "public_key_pem": key})
        assert r.status_code == 422 and "kit_id" in r.json()["detail"], (hostile, r.text)
    with pytest.raises(CentralError, match="not an id"):
        c.enrol(c.make_enrol_code("450103")["code"], "../../x", key)
    # an id that got in before this check (an older server) still never becomes a path
    blobs: BlobStore = server.app.state.blobs
    sha = hashlib.sha256(b"x").hexdigest()
    for hostile in ("../../../../x", "../objects/ab"):
        with pytest.raises(CentralError):
            blobs.append(hostile, sha, 0, [b"x"])
    with pytest.raises(CentralError):
        blobs.path("../" + sha[3:])
    assert not list(tmp_path.glob("x")) and not list(tmp_path.parent.glob("x"))
    assert [p.name for p in (blobs.root / "incoming").iterdir()] == []
    verified(server)


# ---------------------------------------------------------------- 2. a kit writes only its own
def test_a_kit_writes_only_into_what_is_its_own(server, province: Central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = new_kit(server, province, tmp_path / "qingxiu", "450103")
    b = new_kit(server, province, tmp_path / "chengzhong", "450202")
    case_a, item_a = case_with_item(a)
    assert push(a)["custody_events"] == 2
    case_b, item_b = case_with_item(b)
    assert push(b)["custody_events"] == 2
    before = received(server)
    hb = auth_header(b)

    def attempt(records: list[dict[str, Any]], custody: list[dict[str, Any]] = ()) -> httpx.Response:  # type: ignore[assignment]
        return httpx.post(f"{server.base}{API}/push", headers=hb,
                          json={"batch_id": new_id(), "records": records, "custody": list(custody)})

    snap = json.loads(json.dumps(client._next_batch(a) or {}))  # nothing left: build records by hand
    assert snap == {}
    with a.session() as s:
        evidence_a = snapshot(s, "evidence", item_a)
        case_rec_a = snapshot(s, "case", case_a)
    # kit B names kit A's case: an evidence record, a rewritten case, a document, a custody event
    own_item = dict(evidence_a, id=new_id(), body=dict(evidence_a["body"]))
    own_item["body"]["id"] = own_item["id"]
    r = attempt([own_item])
    assert r.status_code == 403 and "not this kit's to write" in r.json()["detail"]
    r = attempt([dict(case_rec_a, body=dict(case_rec_a["body"], title="改掉"))])
    assert r.status_code == 403
    with b.session() as s:
        evidence_b = snapshot(s, "evidence", item_b)
    moved = dict(evidence_b, body=dict(evidence_b["body"], case_id=case_a))  # its own item into A's case
    assert attempt([moved]).status_code == 403
    with b.engine.connect() as conn:
        seq, prev = conn.exec_driver_sql("SELECT seq, hash FROM custody_events ORDER BY seq DESC LIMIT 1").one()
    r = attempt([], [signed_event(b, seq + 1, prev, item_a, case_a)])
    assert r.status_code == 403 and "evidence item this kit has not pushed" in r.json()["detail"]
    r = attempt([], [signed_event(b, seq + 1, prev, item_b, case_a)])  # its own item, another case
    assert r.status_code == 403
    assert received(server) == before  # nothing of any of it was stored
    # the county of Liuzhou sees nothing of Qingxiu, and Qingxiu's officers only Qingxiu's
    tok = httpx.post(f"{server.base}{API}/login", json={"cert_no": "45020220001", "password": PW}).json()["token"]
    seen = httpx.get(f"{server.base}{API}/cases", headers={"Authorization": f"Bearer {tok}"}).json()
    assert [x["id"] for x in seen] == [case_b]
    verified(server)


@pytest.mark.parametrize("field, value, says", [
    ("id", "x" * 65, "id"),
    ("id", "01a2\x00b", "id"),
    ("row_version", 2**70, "row_version"),
    ("row_version", True, "row_version"),
    ("agency_code", 450103, "agency_code"),
    ("agency_code", "45a103", "agency_code"),
    ("size", -1, "size"),
    ("size", 1e400, "size"),
    ("nested", [[[[[[[[[[["deep"]]]]]]]]]]], "deeper"),
    ("note", "a\x00b", "NUL"),
])
def test_record_bodies_are_typed(server, province: Central, tmp_path: Path, field: str, value: Any,  # type: ignore[no-untyped-def]
                                 says: str) -> None:
    a = new_kit(server, province, tmp_path / "qingxiu", "450103")
    case_id, item_id = case_with_item(a)
    batch = client._next_batch(a)
    assert batch is not None
    recs = json.loads(json.dumps(batch["records"]))
    target = next(r for r in recs if r["entity"] == ("case" if field == "agency_code" else "evidence"))
    if field in ("id", "row_version"):
        target[field] = value
    else:
        target["body"][field] = value
    content = json.dumps({"batch_id": new_id(), "records": recs, "custody": []}, allow_nan=True)
    if field == "size" and value == 1e400:
        content = content.replace("Infinity", "1e400")
    r = httpx.post(f"{server.base}{API}/push", headers={**auth_header(a), "content-type": "application/json"},
                   content=content.encode())
    assert r.status_code == 422 and says in r.json()["detail"], r.text
    assert received(server)[a.kit_id]["records"] == {}
    verified(server)


# ---------------------------------------------------------------- 3. the kit checks every receipt
def _forged_sig(receipt: dict[str, Any]) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    digest = hashlib.sha256(canonical(receipt)).hexdigest()
    return base64.b64encode(Ed25519PrivateKey.generate().sign(digest.encode("ascii"))).decode()


FORGERIES = {
    "signed by another key": lambda r: r | {"signature": _forged_sig({k: v for k, v in r.items()
                                                                       if k not in ("signature", "replayed")})},
    "another kit": lambda r: r | {"kit_id": new_id()},
    "another batch": lambda r: r | {"batch_id": new_id()},
    "other content": lambda r: r | {"content_sha256": "0" * 64},
    "fewer custody events": lambda r: r | {"custody": {"from": 1, "to": 1}},
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_push_receipt_fails_the_sync_loudly(server, province: Central, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                      forgery: str) -> None:
    a = new_kit(server, province, tmp_path / "qingxiu", "450103")
    case_with_item(a)

    def rewrite(method: str, path: str, body: Any) -> Any:
        return FORGERIES[forgery](body) if path == f"{API}/push" else body

    with Forger(server.base, rewrite) as mitm:
        with a.write_session() as s:
            s.merge(KitMeta(key="central_url", value=mitm.base))
        with pytest.raises(TrustError, match="fails its check"):
            push(a)
    st = status(a)
    assert not st["synced"] and st["records"] == 2 and st["custody_events"] == 2
    with a.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sync_receipts").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM sync_outbox").scalar() > 0
    with a.write_session() as s:
        s.merge(KitMeta(key="central_url", value=server.base))
    assert sync(a)["status"]["synced"]  # the real server: the same batch goes through
    verified(server)


def test_a_fake_server_that_stores_nothing_cannot_pass_for_the_real_one(server, province: Central,  # type: ignore[no-untyped-def]
                                                                        tmp_path: Path) -> None:
    a = new_kit(server, province, tmp_path / "qingxiu", "450103")
    case_with_item(a)
    replies: dict[str, Any] = {}

    def fake(method: str, path: str, body: Any) -> Any:
        if path == f"{API}/push":  # replays the real server's receipt of an earlier batch, or makes one up
            return replies.get("push") or {"batch_id": "?", "kit_id": a.kit_id, "server_seq": 1,
                                           "received_at": "2026-11-30T00:00:00+00:00", "records": {},
                                           "custody": {"from": None, "to": None}, "content_sha256": "0" * 64,
                                           "signature": "AAAA", "replayed": False}
        return body

    with Forger(server.base, fake) as mitm:
        mitm.forward = False
        with a.write_session() as s:
            s.merge(KitMeta(key="central_url", value=mitm.base))
        with pytest.raises(TrustError):
            push(a)
    assert not status(a)["synced"]
    # an earlier genuine receipt, replayed for a new batch, does not pass either
    with a.write_session() as s:
        s.merge(KitMeta(key="central_url", value=server.base))
    sync(a)
    with a.engine.connect() as conn:
        body, sig = conn.exec_driver_sql("SELECT body, signature FROM sync_receipts").first()
    replies["push"] = json.loads(body) | {"signature": sig, "replayed": True}
    case_with_item(a, PW)
    with Forger(server.base, fake) as mitm:
        mitm.forward = False
        with a.write_session() as s:
            s.merge(KitMeta(key="central_url", value=mitm.base))
        with pytest.raises(TrustError, match="another batch"):
            push(a)
    assert not status(a)["synced"]
    verified(server)


def test_a_forged_blob_receipt_is_not_kept(server, province: Central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = new_kit(server, province, tmp_path / "qingxiu", "450103")
    li = OfficerService(a).login("45010320231", "demo1234")
    case = CaseService(a).create(party="当事人", title="t", actor=li)
    photos = []
    for i in range(2):
        photos.append(tmp_path / f"p{i}.jpg")
        photos[-1].write_bytes(b"\xff\xd8\xff" + os.urandom(2000 + i))
    EvidenceService(a).ingest(case.id, li, photos, thumbnails=False)
    push(a)
    forge = {"how": "alter"}

    def rewrite(method: str, path: str, body: Any) -> Any:
        if path == f"{API}/blobs" and isinstance(body, dict):
            res = body["results"]
            if forge["how"] == "alter":  # the size changed: the server's signature no longer fits
                res[0]["receipt"]["size"] += 1
            else:  # genuine receipts, each handed out for the other file
                res[0]["receipt"], res[1]["receipt"] = res[1]["receipt"], res[0]["receipt"]
        return body

    with Forger(server.base, rewrite) as mitm:
        with a.write_session() as s:
            s.merge(KitMeta(key="central_url", value=mitm.base))
        with pytest.raises(TrustError, match="signature is not the server's"):
            upload(a)
        forge["how"] = "swap"
        with pytest.raises(TrustError, match="another file or size"):
            upload(a)
    with a.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sync_blobs").scalar() == 0
    assert status(a)["originals"] >= 1
    verified(server)


def test_enrolment_pins_the_key_the_administrator_named(server, province: Central, store: Store,  # type: ignore[no-untyped-def]
                                                        tmp_path: Path) -> None:
    signer = server.app.state.signer
    code = province.make_enrol_code("450103")["code"]
    with pytest.raises(TrustError, match="not the server the administrator meant"):
        enrol(store, server.base, code, fingerprint="0000 1111 2222 3333 4444 5555 6666 7777")
    assert not (store.data_dir / client.CREDENTIAL_FILE).exists()  # nothing kept, the code still unused
    res = enrol(store, server.base, code, fingerprint=signer.fingerprint().replace(" ", "-").upper())
    assert res["server_fingerprint"] == signer.fingerprint()
    assert client.enrolment(store)["server_fingerprint"] == signer.fingerprint()
    # the administrator's command names the same fingerprint with the code
    out = subprocess.run([str(Path(sys.executable).with_name("kit-central")), "--db", server.db_url, "--json",
                          "--signing-key", str(signer.path), "enrol-code", "--agency", "450103"],
                         capture_output=True, text=True)
    assert json.loads(out.stdout)["server_fingerprint"] == signer.fingerprint()


# ---------------------------------------------------------------- 4. TLS
def test_the_kit_speaks_plain_http_only_on_loopback(store: Store) -> None:
    for url in ("http://10.1.2.3:8700", "http://kit.sthjt.gxzf.gov.cn", "ftp://127.0.0.1", "https://"):
        with pytest.raises(TrustError):
            enrol(store, url, "AAAA-BBBB-CCCC-DDDD")
    assert client.enrolment(store) is None


def _tls_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("测试省厅 CA")).issuer_name(name("测试省厅 CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def test_sync_over_tls_with_the_certificate_verified(db_url: str, tmp_path: Path, store: Store) -> None:
    from tests.central.conftest import _free_port

    ca, cert, key = _tls_files(tmp_path)
    exe = Path(sys.executable).with_name("kit-central")
    subprocess.run([str(exe), "--db", db_url, "init"], check=True, capture_output=True)
    from central.db import make_engine, sessions

    engine = make_engine(db_url)
    c = Central(sessions(engine))
    c.add_agency("45", "广西")
    port = _free_port()
    proc = subprocess.Popen([str(exe), "--db", db_url, "--signing-key", str(tmp_path / "sk.pem"), "serve",
                             "--storage", str(tmp_path / "blobs"), "--port", str(port), "--tls-cert", str(cert),
                             "--tls-key", str(key)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"https://127.0.0.1:{port}"
        end = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}{API}/health", verify=False, timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < end, "the TLS server did not start"
                time.sleep(0.1)
        with pytest.raises(SyncError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            enrol(store, base, c.make_enrol_code("45")["code"])  # an unknown CA: refused
        res = enrol(store, base, c.make_enrol_code("45")["code"], ca_file=ca)
        assert res["server"] == base
        assert stat.S_IMODE((store.data_dir / client.CA_FILE).stat().st_mode) == 0o600
        DemoGenerator(store, seed=1).ensure_officers()
        case_with_item(store)
        assert sync(store)["status"]["synced"]  # every later request verifies against the kept CA
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}{API}/health", timeout=3)  # no plain HTTP on that port
    finally:
        proc.terminate()
        proc.wait(10)
        engine.dispose()


# ---------------------------------------------------------------- 5. body limits while streaming
@pytest.mark.slow
def test_bodies_are_limited_while_they_stream(tmp_path: Path) -> None:
    """The limit is the web layer's, whatever the database (SQLite here)."""
    from tests.central.conftest import _free_port

    db_url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    exe = Path(sys.executable).with_name("kit-central")
    port = _free_port()
    proc = subprocess.Popen([str(exe), "--db", db_url, "--signing-key", str(tmp_path / "sk.pem"), "serve",
                             "--storage", str(tmp_path / "blobs"), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def peak_mb() -> float:
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM")

    def stream(total: int, first: bytes = b'{"cert_no": "x", "password": "') -> Any:
        yield first
        sent = len(first)
        block = b"a" * (1024 * 1024)
        while sent < total:
            yield block
            sent += len(block)

    try:
        end = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}{API}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < end
                time.sleep(0.1)
        before = peak_mb()
        hundred = 100 * 1024 * 1024
        with httpx.Client(timeout=60) as h:
            # a declared 100 MB: refused before a byte is read
            r = h.post(f"{base}{API}/login", content=stream(hundred), headers={"Content-Length": str(hundred + 30)})
            assert r.status_code == 413
            # chunked (no length at all): refused once the limit is passed
            for path in (f"{API}/login", f"{API}/push", f"{API}/blobs", f"{API}/enrol"):
                try:
                    r = h.post(f"{base}{path}", content=stream(hundred), headers={"Content-Type": "application/json"})
                    assert r.status_code in (401, 413), (path, r.status_code)
                except httpx.HTTPError:
                    pass  # the server may close the connection on the rest of the body
        grew = peak_mb() - before
        print(f"server peak RSS {before:.0f} MB before, grew by {grew:.1f} MB through 5 × 100 MB bodies")
        assert grew < 60, f"the server grew by {grew:.0f} MB"
    finally:
        proc.terminate()
        proc.wait(10)


# ---------------------------------------------------------------- 6. no 500 (targeted; the fuzzing is test_fuzz_api)
def test_hostile_requests_get_a_refusal_not_a_crash(server, province: Central, store: Store) -> None:  # type: ignore[no-untyped-def]
    enrol(store, server.base, province.make_enrol_code("450103")["code"])
    h = auth_header(store)
    tries = [
        ("GET", f"{API}/pull", {"params": {"since": "9" * 20}}),
        ("GET", f"{API}/pull", {"params": {"limit": "0"}}),
        ("POST", f"{API}/login", {"json": {"cert_no": "4501\x00", "password": "x" * 10}}),
        ("POST", f"{API}/login", {"content": b"[" * 100_000 + b"]" * 100_000}),
        ("POST", f"{API}/blobs", {"content": b'[{"sha256": "' + b"a" * 64 + b'", "size": 1e400}]\nx'}),
        ("POST", f"{API}/blobs", {"content": b"[" * 100_000 + b"]" * 100_000 + b"\nx"}),
        ("POST", f"{API}/blobs", {"content": b'{"sha256": 1}\n'}),
        ("PUT", f"{API}/blobs/{'a' * 64}", {"params": {"offset": -1, "size": 3}, "content": b"abc"}),
        ("PUT", f"{API}/blobs/{'a' * 64}", {"params": {"offset": 0, "size": 2**70}, "content": b"abc"}),
        ("GET", f"{API}/blobs/..%2F..%2Fetc", {}),
        ("POST", f"{API}/push", {"json": {"batch_id": "x" * 500, "records": [], "custody": []}}),
        ("POST", f"{API}/push", {"json": {"batch_id": new_id(), "records": [{"entity": "case", "id": new_id(),
                                                                              "body": {"agency_code": 450103}}]}}),
        ("POST", f"{API}/push", {"json": {"batch_id": new_id(), "custody": [
            {"seq": 1, "id": new_id(), "body": "{" * 50_000, "hash": "0" * 64, "signature": "AAAA"}]}}),
        ("GET", f"{API}/cases/%00", {}),
    ]
    for method, path, kw in tries:
        r = httpx.request(method, server.base + path, headers=h, timeout=30, **kw)
        assert 400 <= r.status_code < 500 and isinstance(r.json().get("detail"), str), (path, kw, r.status_code, r.text)
    assert httpx.get(f"{server.base}{API}/pull", params={"since": 2**63 - 1}, headers=h).json()["items"] == []
    verified(server)


# ---------------------------------------------------------------- 7. officer accounts on the server
def _login(server, cert: str, pw: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.post(f"{server.base}{API}/login", json={"cert_no": cert, "password": pw})


def test_officer_accounts(server, province: Central) -> None:  # type: ignore[no-untyped-def]
    c = province
    with pytest.raises(CentralError, match="every officer belongs to an agency"):
        c.add_officer(cert_no="X1", name="无机构", roles="officer", agency="", password=PW)
    # five failures lock the account; while locked even the right password is refused, same words
    for _ in range(5):
        assert _login(server, "45010320231", "wrong-pass").status_code == 401
    r = _login(server, "45010320231", PW)
    assert r.status_code == 401 and r.json()["detail"] == _login(server, "nobody-at-all", PW).json()["detail"]
    with c.sessions.begin() as s:
        s.query(Officer).filter_by(cert_no="45010320231").one().locked_until = None
    tok = _login(server, "45010320231", PW).json()["token"]
    hdr = {"Authorization": f"Bearer {tok}"}
    assert httpx.get(f"{server.base}{API}/me", headers=hdr).status_code == 200
    # a new password ends the sessions; so does logging out
    c.set_officer("45010320231", password="new-pass-word")
    assert httpx.get(f"{server.base}{API}/me", headers=hdr).status_code == 401
    tok = _login(server, "45010320231", "new-pass-word").json()["token"]
    hdr = {"Authorization": f"Bearer {tok}"}
    assert httpx.post(f"{server.base}{API}/logout", headers=hdr).status_code == 200
    assert httpx.get(f"{server.base}{API}/me", headers=hdr).status_code == 401
    verified(server)


def test_an_unknown_certificate_number_costs_what_a_wrong_password_does(server, province: Central) -> None:  # type: ignore[no-untyped-def]
    def timed(cert: str) -> float:
        t = time.perf_counter()
        _login(server, cert, "wrong-pass")
        return time.perf_counter() - t

    known = sorted(timed("45010000001") for _ in range(3))[1]
    unknown = sorted(timed(f"NOBODY{i}") for i in range(3))[1]
    assert 0.5 < unknown / known < 2.0, (known, unknown)


def test_officers_without_an_agency_move_to_the_province(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from central.db import make_engine
    from central.migrate import config, upgrade

    command.upgrade(config(db_url), "c0003")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO agencies (code, name, created_at) VALUES ('45', '广西', :t)"),
                     {"t": "2026-01-01 00:00:00"})
        conn.execute(text("INSERT INTO officers (id, cert_no, name, roles, agency_code, password_hash, active, "
                          "created_at) VALUES (:id, 'OLD1', '旧管理员', 'admin', NULL, 'x', :a, :t)"),
                     {"id": new_id(), "a": True, "t": "2026-01-01 00:00:00"})
    engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT agency_code FROM officers WHERE cert_no = 'OLD1'")).scalar() == "45"
    engine.dispose()


# ---------------------------------------------------------------- 8. revocation and rotation
def test_a_revoked_kit_is_refused_at_once(server, province: Central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = new_kit(server, province, tmp_path / "qingxiu", "450103")
    b = new_kit(server, province, tmp_path / "chengzhong", "450202")
    assert sync(a)["status"]["synced"]

    def admin(cert: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {_login(server, cert, PW).json()['token']}"}

    # Liuzhou's administrator cannot see or revoke Qingxiu's kit; a plain officer revokes nothing
    assert [k["kit_id"] for k in httpx.get(f"{server.base}{API}/kits", headers=admin("45020220001")).json()] \
        == [b.kit_id]
    r = httpx.post(f"{server.base}{API}/kits/{a.kit_id}/revoke", headers=admin("45020220001"))
    assert r.status_code == 404
    assert httpx.post(f"{server.base}{API}/kits/{a.kit_id}/revoke",
                      headers=admin("45010320231")).status_code == 403
    # Nanning's administrator can
    r = httpx.post(f"{server.base}{API}/kits/{a.kit_id}/revoke", headers=admin("45010000001"))
    assert r.status_code == 200 and r.json()["revoked"]
    with pytest.raises(SyncError, match="revoked"):
        sync(a)
    # the command line too
    out = subprocess.run([str(Path(sys.executable).with_name("kit-central")), "--lang", "en", "--db",
                          server.db_url, "kits", "revoke", b.kit_id], capture_output=True, text=True)
    assert out.returncode == 0 and "revoked" in out.stdout
    assert httpx.get(f"{server.base}{API}/kit", headers=auth_header(b)).status_code == 401
    verified(server)


def test_credentials_expire_and_are_renewed_during_sync(server, province: Central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from kit_app.timeutil import utcnow

    a = new_kit(server, province, tmp_path / "qingxiu", "450103")
    first = auth_header(a)
    assert sync(a)["status"]["synced"]
    assert auth_header(a) == first  # 90 days left: nothing to renew yet
    cred = json.loads((a.data_dir / client.CREDENTIAL_FILE).read_text())
    cred["expires_at"] = (utcnow() + timedelta(days=10)).isoformat()  # as if 80 days had passed
    (a.data_dir / client.CREDENTIAL_FILE).write_text(json.dumps(cred))
    sync(a)
    second = auth_header(a)
    assert second != first
    # the old credential worked until the new one was used; now it is refused
    assert httpx.get(f"{server.base}{API}/kit", headers=first).status_code == 401
    assert httpx.get(f"{server.base}{API}/kit", headers=second).status_code == 200
    # a renewal whose answer is lost does not lock the kit out
    r = httpx.post(f"{server.base}{API}/kit/credential", headers=second)
    assert r.status_code == 200
    assert httpx.get(f"{server.base}{API}/kit", headers=second).status_code == 200
    # an expired credential is refused
    with province.sessions.begin() as s:
        s.get(Kit, a.kit_id).credential_expires_at = utcnow() - timedelta(seconds=1)
    assert httpx.get(f"{server.base}{API}/kit", headers=second).status_code == 401
    verified(server)


# ---------------------------------------------------------------- 9. a stolen kit gives away little
def test_a_kit_holds_only_its_own_officers_verifiers(server, province: Central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = province
    a = new_kit(server, province, tmp_path / "qingxiu", "450103")
    res = pull(a)
    assert res["kinds"].get("officer") == 1  # 李明 only: no administrator, no city or province staff
    everything = json.dumps(Feed(c).pull(a.kit_id, "450103", 0, 5000), ensure_ascii=False)
    with c.sessions() as s:
        hashes = [o.password_hash for o in s.query(Officer)]
    assert "password_hash" not in everything and not any(h in everything for h in hashes)
    assert OfficerService(a).login("45010320231", PW).name == "李明"
    with pytest.raises(AuthenticationError):
        OfficerService(a).login("GXADMIN001", PW)
    # a city reviewer explicitly allowed on Qingxiu's kits, then withdrawn
    c.set_officer("45010000001", kit_agencies=["450103"])
    pull(a)
    assert OfficerService(a).login("45010000001", PW).name == "吴科长"
    c.set_officer("45010000001", kit_agencies=[])
    pull(a)
    with pytest.raises(AuthenticationError):
        OfficerService(a).login("45010000001", PW)
    # the data dir is the user's alone, and the credential is not in the database
    if os.name == "posix":
        assert stat.S_IMODE(a.data_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((a.data_dir / "kit.sqlite3").stat().st_mode) == 0o600
        assert stat.S_IMODE((a.data_dir / client.CREDENTIAL_FILE).stat().st_mode) == 0o600
    token = auth_header(a)["Authorization"].removeprefix("Bearer ").encode()
    with a.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert token not in (a.data_dir / "kit.sqlite3").read_bytes()


def test_old_feed_items_with_password_hashes_are_replaced(server, province: Central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from central.migrate import upgrade
    from central.service import next_seq
    from kit_app.timeutil import utcnow

    c = province
    with c.sessions.begin() as s:  # as an older server published officers
        o = s.query(Officer).filter_by(cert_no="GXADMIN001").one()
        s.add(__import__("central.db", fromlist=["FeedItem"]).FeedItem(
            kind="officer", key="GXADMIN001", agency_code="45", body=json.dumps(
                {"id": o.id, "cert_no": o.cert_no, "name": o.name, "roles": o.roles, "agency_code": "450000",
                 "password_hash": o.password_hash, "active": True}), deleted=False, server_seq=next_seq(s),
            updated_at=utcnow()))
    a = new_kit(server, province, tmp_path / "qingxiu", "450103")
    upgrade(server.db_url)
    page = json.dumps(Feed(c).pull(a.kit_id, "450103", 0, 5000))
    assert "password_hash" not in page
    pull(a)
    with pytest.raises(AuthenticationError):
        OfficerService(a).login("GXADMIN001", PW)


# ---------------------------------------------------------------- 10. the receipt-signing key
def test_the_signing_key_is_a_private_file_not_a_database_row(server, province: Central, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from central.signing import KeyFileError, Signer

    signer: Signer = server.app.state.signer
    with province.sessions() as s:
        assert s.get(ServerMeta, "signing_key") is None
    if os.name == "posix":
        assert stat.S_IMODE(signer.path.stat().st_mode) == 0o600
    # a key an older server kept in the database moves out, the same key (kits keep trusting it)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    legacy = Ed25519PrivateKey.generate()
    with province.sessions.begin() as s:
        s.add(ServerMeta(key="signing_key", value=legacy.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()))
    moved = Signer.load_or_create(tmp_path / "moved.pem", province.sessions)
    assert moved.public_raw() == legacy.public_key().public_bytes(serialization.Encoding.Raw,
                                                                  serialization.PublicFormat.Raw)
    with province.sessions() as s:
        assert s.get(ServerMeta, "signing_key") is None
    # readable by others: refused; a passphrase from the environment encrypts it
    os.chmod(tmp_path / "moved.pem", 0o644)
    with pytest.raises(KeyFileError, match="readable by other users"):
        Signer.load_or_create(tmp_path / "moved.pem")
    monkeypatch.setenv("KIT_CENTRAL_KEY_PASSPHRASE", "省厅的口令")
    enc = Signer.load_or_create(tmp_path / "enc.pem")
    assert b"ENCRYPTED" in (tmp_path / "enc.pem").read_bytes()
    assert Signer.load_or_create(tmp_path / "enc.pem").public_raw() == enc.public_raw()
    monkeypatch.setenv("KIT_CENTRAL_KEY_PASSPHRASE", "wrong")
    with pytest.raises(KeyFileError):
        Signer.load_or_create(tmp_path / "enc.pem")


# ---------------------------------------------------------------- low
def test_a_chunk_longer_than_declared_is_refused_without_moving_the_offset(server, province: Central,  # type: ignore[no-untyped-def]
                                                                            store: Store) -> None:
    enrol(store, server.base, province.make_enrol_code("450103")["code"])
    h = auth_header(store)
    data = os.urandom(3000)
    sha = hashlib.sha256(data).hexdigest()
    ok = httpx.put(f"{server.base}{API}/blobs/{sha}", params={"offset": 0, "size": 3000}, content=data[:1000],
                   headers=h)
    assert ok.json()["offset"] == 1000
    r = httpx.put(f"{server.base}{API}/blobs/{sha}", params={"offset": 1000, "size": 3000}, content=data[1000:] + b"x",
                  headers=h)
    assert r.status_code == 413
    assert httpx.get(f"{server.base}{API}/blobs/{sha}", headers=h).json()["offset"] == 1000
    r = httpx.put(f"{server.base}{API}/blobs/{sha}", params={"offset": 1000, "size": 3000}, content=data[1000:],
                  headers=h)
    assert r.json()["stored"] and r.json()["receipt"]["size"] == 3000
    verified(server)


def test_stale_uploads_expire_and_a_kit_has_a_quota(server, province: Central, store: Store,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import central.service.blobs as svc

    enrol(store, server.base, province.make_enrol_code("450103")["code"])
    h = auth_header(store)
    data = os.urandom(5000)
    sha = hashlib.sha256(data).hexdigest()
    httpx.put(f"{server.base}{API}/blobs/{sha}", params={"offset": 0, "size": 5000}, content=data[:100], headers=h)
    blobs: BlobStore = server.app.state.blobs
    part = next((blobs.root / "incoming").glob("*/*.part"))
    old = time.time() - 8 * 86400
    os.utime(part, (old, old))
    assert blobs.expire() == 1 and not part.exists()
    monkeypatch.setattr(svc, "KIT_QUOTA", 4000)
    r = httpx.put(f"{server.base}{API}/blobs/{sha}", params={"offset": 0, "size": 5000}, content=data, headers=h)
    assert r.status_code == 413 and "quota" in r.json()["detail"]
    monkeypatch.setattr(svc, "KIT_QUOTA", 10_000)
    r = httpx.put(f"{server.base}{API}/blobs/{sha}", params={"offset": 0, "size": 5000}, content=data, headers=h)
    assert r.json()["stored"]
    with province.sessions() as s:
        assert s.get(Kit, store.kit_id).stored_bytes == 5000
    verified(server)


def test_a_receipt_only_for_a_kit_that_holds_the_bytes(server, province: Central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = new_kit(server, province, tmp_path / "qingxiu", "450103")
    b = new_kit(server, province, tmp_path / "qingxiu2", "450103")
    data = os.urandom(2 * 1024 * 1024)
    sha = hashlib.sha256(data).hexdigest()
    r = httpx.put(f"{server.base}{API}/blobs/{sha}", params={"offset": 0, "size": len(data)}, content=data,
                  headers=auth_header(a))
    assert r.json()["stored"]
    # kit B knows only the hash: no receipt, and nothing says the server holds the file
    state = httpx.get(f"{server.base}{API}/blobs/{sha}", headers=auth_header(b)).json()
    assert set(state) == {"sha256", "offset", "challenge"}
    guess = httpx.post(f"{server.base}{API}/blobs/{sha}/proof", headers=auth_header(b),
                       json={"challenge": state["challenge"], "proof": hashlib.sha256(sha.encode()).hexdigest(),
                             "size": len(data)}).json()
    assert guess == {"sha256": sha, "stored": False}
    stolen = httpx.post(f"{server.base}{API}/blobs/{sha}/proof", headers=auth_header(b),  # A's challenge
                        json={"challenge": httpx.get(f"{server.base}{API}/blobs/{sha}", headers=auth_header(a))
                              .json()["challenge"], "proof": "0" * 64, "size": len(data)}).json()
    assert stolen["stored"] is False
    # with the bytes, it proves it without sending them
    proof = hashlib.sha256(bytes.fromhex(state["challenge"]) + data).hexdigest()
    got = httpx.post(f"{server.base}{API}/blobs/{sha}/proof", headers=auth_header(b),
                     json={"challenge": state["challenge"], "proof": proof, "size": len(data)}).json()
    assert got["stored"] and got["receipt"]["kit_id"] == b.kit_id and got["receipt"]["size"] == len(data)
    verified(server)


def test_a_batch_id_reused_for_other_content_is_refused(server, province: Central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = new_kit(server, province, tmp_path / "qingxiu", "450103")
    b = new_kit(server, province, tmp_path / "chengzhong", "450202")
    case_with_item(a)
    batch = client._next_batch(a)
    assert batch is not None
    body = {k: batch[k] for k in ("batch_id", "records", "custody")}
    assert httpx.post(f"{server.base}{API}/push", json=body, headers=auth_header(a)).status_code == 200
    other = dict(body, records=body["records"][:1], custody=[])
    r = httpx.post(f"{server.base}{API}/push", json=other, headers=auth_header(a))
    assert r.status_code == 409 and "used for another batch" in r.json()["detail"]
    # another kit naming that batch id hears the same sentence: nothing says whose it is
    r2 = httpx.post(f"{server.base}{API}/push", json={"batch_id": batch["batch_id"], "records": [], "custody": []},
                    headers=auth_header(b))
    assert r2.status_code == 409 and r2.json()["detail"] == r.json()["detail"]
    verified(server)


def test_an_assigned_case_is_open_to_the_kits_of_its_agency_only(server, province: Central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = new_kit(server, province, tmp_path / "qingxiu1", "450103")
    b = new_kit(server, province, tmp_path / "qingxiu2", "450103")
    far = new_kit(server, province, tmp_path / "chengzhong", "450202")
    task = province.assign_case(agency="450103", title="群众举报", party_name="青秀区绿源化工有限公司",
                                officers=["45010320231"])
    for kit in (a, b):
        assert sync(kit)["status"]["synced"]  # both opened the task as a case and pushed it
    li = OfficerService(b).login("45010320231", PW)
    EvidenceService(b).add_physical(task["id"], li, seal_no="QX-7", description="雨水排口水样")
    assert sync(b)["status"]["synced"]  # the second kit of the agency adds its own item to the task
    with province.sessions() as s:
        items = s.query(Record).filter_by(entity="evidence", case_id=task["id"]).all()
        assert [i.kit_id for i in items] == [b.kit_id]
        assert s.get(Record, ("case", task["id"])).kit_id == a.kit_id  # the first to push holds the case
    # a kit of another county cannot write into it
    with b.session() as s:
        snap = snapshot(s, "evidence", items[0].id)
    snap = dict(snap, id=new_id(), body=dict(snap["body"]))
    snap["body"]["id"] = snap["id"]
    r = httpx.post(f"{server.base}{API}/push", headers=auth_header(far),
                   json={"batch_id": new_id(), "records": [snap], "custody": []})
    assert r.status_code == 403
    verified(server)


def test_concurrent_requests_never_share_a_number_or_a_code(server, province: Central) -> None:  # type: ignore[no-untyped-def]
    """SQLite has no row locks: a read-then-write would let two requests draw the same sequence
    number, use a one-time code twice or lose failed sign-in counts."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.helpers.kits import synthetic_kit

    kits = [synthetic_kit(i) for i in range(24)]
    codes = [province.make_enrol_code("450103")["code"] for _ in kits]
    with ThreadPoolExecutor(12) as pool:
        enrolled = list(pool.map(lambda kc: httpx.post(f"{server.base}{API}/enrol", timeout=60, json={
            "code": kc[1], "kit_id": kc[0]["kit_id"], "public_key_pem": kc[0]["pem"]}), zip(kits, codes, strict=True)))
        assert [r.status_code for r in enrolled] == [201] * len(kits)
        pushed = list(pool.map(lambda kr: httpx.post(f"{server.base}{API}/push", json=kr[0]["batch"], timeout=60,
                                                     headers={"Authorization": f"Bearer {kr[1].json()['credential']}"}),
                               zip(kits, enrolled, strict=True)))
        assert [r.status_code for r in pushed] == [200] * len(kits)
        assert len({r.json()["server_seq"] for r in pushed}) == len(kits)
        one = province.make_enrol_code("450103")["code"]
        spare = [synthetic_kit(100 + i) for i in range(8)]
        raced = list(pool.map(lambda k: httpx.post(f"{server.base}{API}/enrol", timeout=60, json={
            "code": one, "kit_id": k["kit_id"], "public_key_pem": k["pem"]}).status_code, spare))
        assert sorted(raced) == [201] + [403] * 7
        list(pool.map(lambda _i: _login(server, "45010320231", "wrong-pass"), range(10)))
    with province.sessions() as s:
        assert s.query(Officer).filter_by(cert_no="45010320231").one().locked_until is not None
    verified(server)
