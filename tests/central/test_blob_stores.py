"""The evidence stores — the filesystem's and S3-compatible object storage's (against a real S3
server on loopback: moto in server mode) — keep the same promises: resumable chunked uploads whose
position survives the server, bytes kept only when they hash to their name, bundles, proofs of
possession, quotas, expiry of abandoned uploads, and a verify that finds a changed original."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from central.service import Central, CentralError
from central.service.blobs import BlobBackend, BlobStore
from central.service.blobs_s3 import MIN_PART, S3BlobStore
from tests.central.conftest import S3Server

MB = 1024 * 1024
KIT = "0190aaaa-0000-7000-8000-000000000001"


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobBackend]:
    if request.param == "filesystem":
        yield BlobStore(tmp_path / "blobs")
    else:
        s3: S3Server = request.getfixturevalue("s3_server")
        yield S3BlobStore(s3.bucket(), s3.endpoint)


def _upload(store: BlobBackend, data: bytes, chunk: int, kit: str = KIT) -> bool:
    sha = hashlib.sha256(data).hexdigest()
    off = store.offset(kit, sha)
    while off < len(data):
        off = store.append(kit, sha, off, [data[off:off + chunk]], len(data))
        assert store.offset(kit, sha) == off  # read back from the store, not remembered
    return store.finish(None, kit, sha, len(data))


def test_chunked_upload_in_parts_and_the_last_one_smaller(store: BlobBackend) -> None:
    data = os.urandom(12 * MB + 321)  # 1 MiB chunks: parts of 5 MiB, 5 MiB, then the rest
    sha = hashlib.sha256(data).hexdigest()
    assert not store.has(sha) and store.size(sha) is None
    assert _upload(store, data, MB)
    assert store.has(sha) and store.size(sha) == len(data)
    assert b"".join(store.read(sha)) == data
    assert store.offset(KIT, sha) == 0 and store.in_progress(KIT) == 0  # nothing left behind
    if isinstance(store, S3BlobStore):
        assert not list(store._list(f"{store.prefix}incoming/"))
        assert not store.s3.list_multipart_uploads(Bucket=store.bucket).get("Uploads")
    res = store.verify()
    assert res["blobs_checked"] == 1 and res["bytes_checked"] == len(data) and not res["problems"]


def test_small_file_and_a_wrong_offset(store: BlobBackend) -> None:
    data = os.urandom(3 * MB)
    sha = hashlib.sha256(data).hexdigest()
    assert store.append(KIT, sha, 0, [data[:MB]], len(data)) == MB
    with pytest.raises(CentralError) as e:
        store.append(KIT, sha, 2 * MB, [data[2 * MB:]], len(data))
    assert e.value.status == 409 and f"continues at byte {MB}" in str(e.value)
    assert store.in_progress(KIT) == MB  # counted against the kit's quota
    assert store.append(KIT, sha, MB, [data[MB:]], len(data)) == len(data)
    assert store.finish(None, KIT, sha, len(data)) and b"".join(store.read(sha)) == data


def test_bytes_that_do_not_hash_to_the_name_are_not_kept(store: BlobBackend) -> None:
    data = os.urandom(6 * MB)
    sha = hashlib.sha256(b"something else").hexdigest()
    off = 0
    while off < len(data):
        off = store.append(KIT, sha, off, [data[off:off + 2 * MB]], len(data))
    assert not store.finish(None, KIT, sha, len(data))
    assert not store.has(sha) and store.offset(KIT, sha) == 0 and store.in_progress(KIT) == 0
    assert _upload(store, b"something else", MB)  # and the right bytes are taken afterwards


def test_bundles_proofs_and_accounting(store: BlobBackend, tmp_path: Path) -> None:
    from central.db import Kit, make_engine, sessions
    from central.migrate import upgrade
    from central.signing import Signer

    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    upgrade(url)
    central = Central(sessions(make_engine(url)))
    central.add_agency("45", "广西")
    kit = central.enrol(central.make_enrol_code("45")["code"], KIT, _pem(), None)["kit_id"]
    a, b = os.urandom(1000), os.urandom(2000)
    sha_a, sha_b = hashlib.sha256(a).hexdigest(), hashlib.sha256(b).hexdigest()
    res = store.put_many([(sha_a, a), (sha_b, b"tampered"), (sha_a, a)], central, kit)
    assert res[0] is None and res[2] is None and "do not have the SHA-256" in str(res[1])
    assert store.has(sha_a) and not store.has(sha_b)
    with central.sessions() as s:
        assert s.get(Kit, kit).stored_bytes == 1000  # once, though sent twice
    signer = Signer.load_or_create(tmp_path / "key.pem", central.sessions)
    ch = store.challenge(signer, kit, sha_a)
    proof = hashlib.sha256(bytes.fromhex(ch) + a).hexdigest()
    assert store.check_proof(signer, kit, sha_a, ch, proof, len(a))
    assert not store.check_proof(signer, kit, sha_a, ch, hashlib.sha256(a).hexdigest(), len(a))
    assert not store.check_proof(signer, kit, sha_b, store.challenge(signer, kit, sha_b),
                                 hashlib.sha256(bytes.fromhex(store.challenge(signer, kit, sha_b)) + b).hexdigest(),
                                 len(b))  # not held: no receipt without an upload
    store.check_quota(central, kit, 10 * MB)
    import central.service.blobs as blobs_mod

    quota = blobs_mod.KIT_QUOTA
    blobs_mod.KIT_QUOTA = 1500
    try:
        with pytest.raises(CentralError) as e:
            store.check_quota(central, kit, 600)
        assert e.value.status == 413
    finally:
        blobs_mod.KIT_QUOTA = quota


def test_abandoned_uploads_expire(store: BlobBackend) -> None:
    big, small = os.urandom(7 * MB), os.urandom(MB)
    for data in (big, small):  # one with a part written, one only a tail
        store.append(KIT, hashlib.sha256(data).hexdigest(), 0, [data[:6 * MB]], len(data))
    assert store.in_progress(KIT) == 7 * MB
    assert store.expire(timedelta(days=7)) == 0 and store.in_progress(KIT) == 7 * MB
    assert store.expire(timedelta(seconds=-60)) >= 2
    assert store.in_progress(KIT) == 0 and store.offset(KIT, hashlib.sha256(big).hexdigest()) == 0


def test_verify_names_an_original_changed_in_the_store(store: BlobBackend) -> None:
    data = os.urandom(1000)
    sha = hashlib.sha256(data).hexdigest()
    store.put_many([(sha, data)])
    if isinstance(store, S3BlobStore):  # someone with the bucket's keys overwrites it
        store.s3.put_object(Bucket=store.bucket, Key=store._key(sha), Body=b"x" + data[1:])
    else:
        p = store.path(sha)
        p.chmod(0o644)
        p.write_bytes(b"x" + data[1:])
    res = store.verify()
    assert [p["sha256"] for p in res["problems"]] == [sha]


def test_s3_a_crash_between_a_part_and_its_tail_loses_nothing(s3_server: S3Server) -> None:
    """The server died after writing a part and before removing the tail it came from: the
    stale tail is recognised by its offset, the position is right, the file completes."""
    store = S3BlobStore(s3_server.bucket(), s3_server.endpoint)
    data = os.urandom(MIN_PART + 2 * MB)
    sha = hashlib.sha256(data).hexdigest()
    assert store.append(KIT, sha, 0, [data[:3 * MB]], len(data)) == 3 * MB  # a tail
    tail = f"{store._incoming(KIT, sha)}tail-0"
    kept = store.s3.get_object(Bucket=store.bucket, Key=tail)["Body"].read()
    assert store.append(KIT, sha, 3 * MB, [data[3 * MB:6 * MB]], len(data)) == 6 * MB  # a part; the tail went
    store.s3.put_object(Bucket=store.bucket, Key=tail, Body=kept)  # … as if its removal never happened
    assert store.offset(KIT, sha) == 6 * MB
    assert store.append(KIT, sha, 6 * MB, [data[6 * MB:]], len(data)) == len(data)
    assert store.finish(None, KIT, sha, len(data)) and b"".join(store.read(sha)) == data


def test_s3_unreachable_is_a_named_refusal() -> None:
    store = S3BlobStore("s3://nowhere/evidence", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(CentralError) as e:
        store.offset(KIT, "a" * 64)
    assert e.value.status == 503 and "sends the originals at a later sync" in str(e.value)
    with pytest.raises(CentralError):
        S3BlobStore("/not/a/bucket")


def _pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
