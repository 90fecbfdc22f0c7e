"""The kit's side of the central server: enrolment with a one-time code (the server's signing key
pinned), the credential (kept in a file of its own, apart from the database, renewed during sync),
push, pull and upload — every receipt checked (``kit_app.sync.trust``)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kit_app.db import Store
from kit_app.db.models import KitMeta
from kit_app.errors import KitError
from kit_app.evidence.custody import canonical
from kit_app.evidence.keys import KitKey
from kit_app.i18n import _
from kit_app.storage import write_private
from kit_app.sync import trust
from kit_app.sync.snapshot import snapshot
from kit_app.timeutil import utcnow

API = "/api/v1"
TIMEOUT = 20.0
CREDENTIAL_FILE = Path("keys") / "central-credential.json"
CA_FILE = Path("keys") / "central-ca.pem"
RENEW_BEFORE = timedelta(days=60)  # renew the credential at a sync once less than this is left


class SyncError(KitError):
    """The server cannot be reached or refused the request; the message says which."""


def _get(store: Store, key: str) -> str | None:
    with store.session() as s:
        row = s.get(KitMeta, key)
        return row.value if row else None


# ---------------------------------------------------------------- the credential, in its own file
def _credential(store: Store) -> dict[str, Any] | None:
    """The kit's credential; one an older version kept in the database moves to the file."""
    path = store.data_dir / CREDENTIAL_FILE
    if path.exists():
        return json.loads(path.read_text("utf-8"))  # type: ignore[no-any-return]
    legacy = _get(store, "central_credential")
    if legacy is None:
        return None
    cred = {"credential": legacy, "expires_at": None}
    _save_credential(store, cred)
    with store.write_session() as s:
        row = s.get(KitMeta, "central_credential")
        if row is not None:
            s.delete(row)
    return cred


def _save_credential(store: Store, cred: dict[str, Any]) -> None:
    write_private(store.data_dir / CREDENTIAL_FILE, json.dumps(cred).encode())


def auth_header(store: Store) -> dict[str, str]:
    """The header this kit's requests carry (for tools and tests that talk to the API directly)."""
    cred = _credential(store)
    if cred is None:
        raise SyncError(_(
            "this kit is not enrolled with a central server: an administrator enrols it with a code from the "
            "central server (menu: Enrol with the central server…)"))
    return {"Authorization": f"Bearer {cred['credential']}"}


def _verify(store: Store) -> ssl.SSLContext | bool:
    ca = store.data_dir / CA_FILE
    return ssl.create_default_context(cafile=str(ca)) if ca.exists() else True


def _server_key(store: Store) -> bytes | None:
    pem = _get(store, "central_server_key")
    return trust.public_raw_from_pem(pem) if pem else None


def _client(store: Store) -> Any:
    """An HTTP client for this kit's server, with its credential; SyncError if not enrolled."""
    import httpx

    url, cred = _get(store, "central_url"), _credential(store)
    if not url or not cred:
        raise SyncError(_(
            "this kit is not enrolled with a central server: an administrator enrols it with a code from the "
            "central server (menu: Enrol with the central server…)"))
    return httpx.Client(base_url=trust.check_url(url), headers={"Authorization": f"Bearer {cred['credential']}"},
                        timeout=TIMEOUT, verify=_verify(store))


def _detail(r: Any) -> str:
    try:
        return str(r.json().get("detail")) if "json" in r.headers.get("content-type", "") else str(r.text[:200])
    except (ValueError, AttributeError):
        return str(r.text[:200])


def _call(client: Any, method: str, path: str, refused: Any, ok: int = 200, **kw: Any) -> Any:
    """One request; SyncError naming the server when it cannot be reached, and ``refused(status,
    detail)`` (the caller's translated message) when it answers anything but ``ok``."""
    import httpx

    try:
        r = client.request(method, path, **kw)
    except httpx.HTTPError as exc:
        raise SyncError(_("cannot reach the central server at {url}: {reason}").format(
            url=str(client.base_url).rstrip("/"), reason=exc)) from exc
    if r.status_code != ok:
        raise SyncError(refused(r.status_code, _detail(r)))
    try:
        r.json()
    except ValueError:
        raise SyncError(_("the central server at {url} answered something that is not JSON").format(
            url=str(client.base_url).rstrip("/"))) from None
    return r


def enrolment(store: Store) -> dict[str, Any] | None:
    url = _get(store, "central_url")
    if not url:
        return None
    raw = _server_key(store)
    return {"server": url, "agency_code": _get(store, "central_agency"),
            "agency_name": _get(store, "central_agency_name"),
            "server_fingerprint": trust.fingerprint(raw) if raw else None}


def server_fingerprint(server: str, ca_file: Path | None = None) -> str:
    """The fingerprint of the key a server signs receipts with (shown before enrolling)."""
    import httpx

    server = trust.check_url(server)
    verify: Any = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
    with httpx.Client(base_url=server, timeout=TIMEOUT, verify=verify) as client:
        got = _call(client, "GET", f"{API}/server-key", lambda status, detail: _(
            "the central server did not give its key ({status}): {detail}").format(status=status, detail=detail)).json()
    return trust.fingerprint(trust.public_raw_from_pem(str(got.get("public_key_pem"))))


def enrol(store: Store, server: str, code: str, name: str | None = None, *, fingerprint: str | None = None,
          ca_file: Path | None = None) -> dict[str, Any]:
    """Enrol this kit at ``server`` with a one-time ``code``: fetch and pin the server's signing key
    (refused if ``fingerprint`` is given and differs), keep the credential in its own file."""
    import httpx

    server = trust.check_url(server)
    ca_pem = ca_file.read_bytes() if ca_file else None
    verify: Any = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
    key = KitKey.load_or_create(store.data_dir)
    body = {"code": code, "kit_id": store.kit_id, "public_key_pem": key.public_pem(), "name": name}
    with httpx.Client(base_url=server, timeout=TIMEOUT, verify=verify) as client:
        sk = _call(client, "GET", f"{API}/server-key", lambda status, detail: _(
            "the central server did not give its key ({status}): {detail}").format(status=status, detail=detail)).json()
        pem = str(sk.get("public_key_pem"))
        got_fp = trust.fingerprint(trust.public_raw_from_pem(pem))
        if fingerprint is not None and trust.normalise_fingerprint(fingerprint) != trust.normalise_fingerprint(got_fp):
            raise trust.TrustError(_("the server's fingerprint is {got}, not {expected}: this is not the server the "
                                     "administrator meant. Nothing was done.").format(got=got_fp, expected=fingerprint))
        got = _call(client, "POST", f"{API}/enrol", lambda status, detail: _(
            "the central server refused the enrolment ({status}): {detail}").format(status=status, detail=detail),
            ok=201, json=body).json()
    if ca_pem is not None:
        write_private(store.data_dir / CA_FILE, ca_pem)
    _save_credential(store, {"credential": got["credential"], "expires_at": got.get("expires_at")})
    with store.write_session() as s:
        for k, v in (("central_url", server), ("central_server_key", pem),
                     ("central_agency", got["agency_code"]), ("central_agency_name", got.get("agency_name") or "")):
            row = s.get(KitMeta, k)
            if row is None:
                s.add(KitMeta(key=k, value=v))
            else:
                row.value = v
        old = s.get(KitMeta, "central_credential")
        if old is not None:
            s.delete(old)
    return {"server": server, "kit_id": store.kit_id, "agency_code": got["agency_code"],
            "agency_name": got.get("agency_name"), "server_fingerprint": got_fp}


def whoami(store: Store) -> dict[str, Any]:
    """Ask the server who this kit is (checks the credential)."""
    with _client(store) as client:
        answer: dict[str, Any] = _call(client, "GET", f"{API}/kit", lambda status, detail: _(
            "the central server refused this kit ({status}): {detail}").format(status=status, detail=detail)).json()
        return answer


def _pinned(store: Store, client: Any) -> bytes:
    """The server's pinned key; a kit enrolled before keys were pinned pins it now."""
    raw = _server_key(store)
    if raw is not None:
        return raw
    pem = str(_call(client, "GET", f"{API}/server-key", lambda status, detail: _(
        "the central server did not give its key ({status}): {detail}").format(status=status, detail=detail))
        .json().get("public_key_pem"))
    raw = trust.public_raw_from_pem(pem)
    with store.write_session() as s:
        s.merge(KitMeta(key="central_server_key", value=pem))
    return raw


def renew_if_due(store: Store, client: Any) -> bool:
    """Renew the credential once less than RENEW_BEFORE of its lifetime is left (or its end is not
    known): the new one is saved before it is used; the old one works until then."""
    cred = _credential(store)
    assert cred is not None
    expires = cred.get("expires_at")
    if expires and datetime.fromisoformat(expires) - utcnow() > RENEW_BEFORE:
        return False
    got = _call(client, "POST", f"{API}/kit/credential", lambda status, detail: _(
        "the central server did not renew this kit's credential ({status}): {detail}").format(
        status=status, detail=detail)).json()
    _save_credential(store, {"credential": got["credential"], "expires_at": got.get("expires_at")})
    client.headers["Authorization"] = f"Bearer {got['credential']}"
    return True


# ---------------------------------------------------------------- push
BATCH_RECORDS = 200
BATCH_EVENTS = 1000
BATCH_BYTES = 2 * 1024 * 1024  # the server takes JSON bodies of up to 4 MB


def _set(s: Any, key: str, value: str) -> None:
    row = s.get(KitMeta, key)
    if row is None:
        s.add(KitMeta(key=key, value=value))
    else:
        row.value = value


def _next_batch(store: Store) -> dict[str, Any] | None:
    """The batch to send: the one sent before without a receipt (resent as it was), else a new one.

    Records go before the custody events that name them: a batch carries custody events only when
    it also carries every outbox entry left, so each event's item and case are on the server (sent
    earlier or in this batch) when the server checks them. Batches stay under BATCH_BYTES."""
    from sqlalchemy import func, select, update

    from kit_app.db.models import CustodyEvent, SyncOutbox
    from kit_app.ids import new_id

    with store.write_session() as s:
        pending = s.get(KitMeta, "sync_pending")
        if pending is not None:  # sent before, no receipt: resent exactly as it was
            batch = json.loads(pending.value)
            if "records" not in batch:  # fixed by an older version, which kept only what to rebuild it from
                rows = s.execute(select(SyncOutbox.entity, SyncOutbox.entity_id)
                                 .where(SyncOutbox.batch_id == batch["batch_id"])).all()
                events = s.scalars(select(CustodyEvent).where(
                    CustodyEvent.kit_id == store.kit_id,
                    CustodyEvent.seq.between(batch["custody_from"], batch["custody_to"])).order_by(CustodyEvent.seq)
                ).all()
                batch = {"batch_id": batch["batch_id"], "custody_to": batch["custody_to"],
                         "records": [r for r in (snapshot(s, e, i) for e, i in sorted(set(rows))) if r is not None],
                         "custody": [{"seq": e.seq, "id": e.id, "body": e.body, "hash": e.hash,
                                      "signature": e.signature} for e in events]}
            return batch  # type: ignore[no-any-return]
        entries = s.execute(select(SyncOutbox.seq, SyncOutbox.entity, SyncOutbox.entity_id)
                            .where(SyncOutbox.batch_id.is_(None)).order_by(SyncOutbox.seq)
                            .limit(BATCH_RECORDS + 1)).all()
        ids: list[int] = []
        snaps: dict[tuple[str, str], dict[str, Any] | None] = {}
        size = 0
        for seq, entity, entity_id in entries[:BATCH_RECORDS]:
            if (entity, entity_id) not in snaps:
                snap = snapshot(s, entity, entity_id)
                n = len(json.dumps(snap, ensure_ascii=False)) if snap else 0
                if ids and size + n > BATCH_BYTES:
                    break
                size += n
                snaps[(entity, entity_id)] = snap
            ids.append(seq)
        more_records = len(ids) < len(entries)
        acked = int((s.get(KitMeta, "sync_custody_acked") or KitMeta(value="0")).value)
        top = s.scalar(select(func.max(CustodyEvent.seq)).where(CustodyEvent.kit_id == store.kit_id)) or 0
        custody_to = acked if more_records else min(top, acked + BATCH_EVENTS)
        if not ids and custody_to <= acked:
            return None
        batch_id = new_id()
        if ids:
            s.execute(update(SyncOutbox).where(SyncOutbox.seq.in_(ids)).values(batch_id=batch_id))
        events = s.scalars(select(CustodyEvent).where(
            CustodyEvent.kit_id == store.kit_id, CustodyEvent.seq.between(acked + 1, custody_to))
            .order_by(CustodyEvent.seq)).all()
        batch = {"batch_id": batch_id, "custody_to": custody_to,
                 "records": [snap for _k, snap in sorted(snaps.items()) if snap is not None],
                 "custody": [{"seq": e.seq, "id": e.id, "body": e.body, "hash": e.hash, "signature": e.signature}
                             for e in events]}
        _set(s, "sync_pending", json.dumps(batch, ensure_ascii=False))  # fixed: resent unchanged
        return batch


def push(store: Store, progress: Any = None) -> dict[str, Any]:
    """Push everything not yet acknowledged, batch after batch; each receipt is checked against
    the pinned key (this kit, this batch, this content) and stored.

    A batch is fixed before it is sent and resent unchanged until a receipt comes back, so a
    dropped connection or a crash at any moment neither loses nor duplicates anything. A receipt
    that fails its check stops the sync loudly with nothing marked as synced.
    """
    from sqlalchemy import delete

    from kit_app.db.models import SyncOutbox, SyncReceipt

    totals = {"batches": 0, "records": 0, "custody_events": 0, "replayed": 0}
    with _client(store) as client:
        server_raw = _pinned(store, client)
        while (batch := _next_batch(store)) is not None:
            body = {k: batch[k] for k in ("batch_id", "records", "custody")}
            receipt = _call(client, "POST", f"{API}/push", lambda status, detail, b=batch["batch_id"][:8]: _(
                "the central server refused batch {batch} ({status}): {detail}").format(
                batch=b, status=status, detail=detail), json=body).json()
            signature = receipt.pop("signature", None) if isinstance(receipt, dict) else None
            replayed = receipt.pop("replayed", False) if isinstance(receipt, dict) else False
            trust.check_batch_receipt(receipt, signature, server_raw, kit_id=store.kit_id,  # type: ignore[arg-type]
                                      batch_id=batch["batch_id"],
                                      digest=trust.content_sha256(batch["records"], batch["custody"]),
                                      custody_to=batch["custody_to"] if batch["custody"] else None)
            with store.write_session() as s:
                if s.get(SyncReceipt, batch["batch_id"]) is None:
                    s.add(SyncReceipt(batch_id=batch["batch_id"], server_seq=receipt["server_seq"],
                                      received_at=receipt["received_at"], body=json.dumps(receipt, ensure_ascii=False),
                                      signature=signature))
                s.execute(delete(SyncOutbox).where(SyncOutbox.batch_id == batch["batch_id"]))
                if batch["custody"]:
                    _set(s, "sync_custody_acked", str(batch["custody_to"]))
                s.delete(s.get(KitMeta, "sync_pending"))
            totals["batches"] += 1
            totals["records"] += len(batch["records"])
            totals["custody_events"] += len(batch["custody"])
            totals["replayed"] += bool(replayed)
            if progress:
                progress(totals)
    return totals


# ---------------------------------------------------------------- evidence originals
# bytes per upload request; a cut connection costs at most one chunk (KIT_SYNC_CHUNK tunes it for
# slow or flaky links)
CHUNK = int(__import__("os").environ.get("KIT_SYNC_CHUNK") or 4 * 1024 * 1024)


def upload(store: Store, progress: Any = None, chunk: int | None = None) -> dict[str, Any]:
    """Upload every evidence original the server has not receipted, in chunks, resuming where the
    server's copy ends (a dropped connection costs at most one chunk); bounded memory. A file the
    server may hold already is proven instead of sent (the SHA-256 of the server's challenge and
    the file). Every receipt is checked against the pinned key before it is kept."""
    import httpx
    from sqlalchemy import select

    from kit_app.db.models import EvidenceItem, SyncBlob
    from kit_app.evidence.blobs import BlobStore

    chunk = chunk or CHUNK
    client = _client(store)
    with store.session() as s:
        done = set(s.scalars(select(SyncBlob.sha256)))
        todo: list[tuple[str, int]] = sorted(
            {(sha, size or 0) for sha, size in s.execute(select(EvidenceItem.sha256, EvidenceItem.size)
                                                         .where(EvidenceItem.sha256.is_not(None)))
             if sha is not None and sha not in done})
    blobs = BlobStore(store.data_dir, store.key)
    totals = {"blobs": 0, "bytes": 0, "already_there": 0}
    small = [(sha, size) for sha, size in todo if size <= SMALL_BLOB]
    todo = [(sha, size) for sha, size in todo if size > SMALL_BLOB]
    with client:
        server_raw = _pinned(store, client)
        _upload_small(store, client, blobs, small, totals, progress, server_raw)
        for sha, size in todo:
            try:
                receipt = _upload_one(client, blobs, sha, size, chunk, totals, progress)
            except httpx.HTTPError as exc:
                raise SyncError(_("uploading {sha} failed: {reason} (the next sync resumes it)").format(
                    sha=sha[:12], reason=exc)) from exc
            signature = trust.check_blob_receipt(receipt, server_raw, kit_id=store.kit_id, sha256=sha, size=size)
            body = {k: v for k, v in receipt.items() if k != "signature"}
            with store.write_session() as s:
                s.merge(SyncBlob(sha256=sha, size=size, received_at=str(body.get("received_at", "")),
                                 body=json.dumps(body, ensure_ascii=False), signature=signature))
    return totals


def _upload_one(client: Any, blobs: Any, sha: str, size: int, chunk: int, totals: dict[str, int],
                progress: Any) -> dict[str, Any]:
    """One large original: proven if the server holds it, else sent in chunks; its receipt."""
    import hashlib

    state = client.get(f"{API}/blobs/{sha}").raise_for_status().json()
    offset = int(state.get("offset") or 0)
    if offset == 0 and state.get("challenge"):
        h = hashlib.sha256(bytes.fromhex(state["challenge"]))
        with blobs.open(sha) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        got = client.post(f"{API}/blobs/{sha}/proof", json={"challenge": state["challenge"], "proof": h.hexdigest(),
                                                             "size": size}).raise_for_status().json()
        if got.get("stored"):
            totals["already_there"] += 1
            return got.get("receipt")  # type: ignore[no-any-return]
    receipt = None
    with blobs.open(sha) as fh:
        fh.seek(offset)
        while offset < size:
            n = min(chunk, size - offset)
            r = client.put(f"{API}/blobs/{sha}", params={"offset": offset, "size": size},
                           content=_pieces(fh, n), headers={"Content-Length": str(n)})
            if r.status_code == 409:  # the server holds a different amount: ask and go on
                offset = int(client.get(f"{API}/blobs/{sha}").raise_for_status().json().get("offset") or 0)
                fh.seek(offset)
                continue
            r.raise_for_status()
            got = r.json()
            totals["bytes"] += n
            offset = int(got["offset"])
            fh.seek(offset)
            receipt = got.get("receipt") or receipt
            if progress:
                progress(totals)
    if receipt is None:
        raise SyncError(_("the central server did not confirm {sha}").format(sha=sha[:12]))
    totals["blobs"] += 1
    return receipt  # type: ignore[no-any-return]


PIECE = 256 * 1024


def _pieces(fh: Any, n: int) -> Iterator[bytes]:
    """The next ``n`` bytes of ``fh`` in small pieces. A request holding a generator rather than
    one 4 MB bytes object keeps memory flat: httpx's request/response objects form reference
    cycles that live until the cyclic collector runs, and each held a whole chunk."""
    left = n
    while left > 0:
        piece = fh.read(min(PIECE, left))
        if not piece:
            raise SyncError(_("an evidence original is shorter than recorded: run verify"))
        left -= len(piece)
        yield piece


SMALL_BLOB = 1024 * 1024  # originals up to this size travel in bundles: one request for many photos
BUNDLE_BYTES = 8 * 1024 * 1024
BUNDLE_ITEMS = 500


def _upload_small(store: Store, client: Any, blobs: Any, small: list[tuple[str, int]], totals: dict[str, int],
                  progress: Any, server_raw: bytes) -> None:
    """Small originals in bundles (bounded memory: at most BUNDLE_BYTES read at a time); the
    receipts of a bundle are checked, then stored in one transaction."""
    import httpx

    from kit_app.db.models import SyncBlob

    i = 0
    while i < len(small):
        bundle: list[tuple[str, int]] = []
        n = 0
        while i < len(small) and len(bundle) < BUNDLE_ITEMS and (not bundle or n + small[i][1] <= BUNDLE_BYTES):
            bundle.append(small[i])
            n += small[i][1]
            i += 1
        head = json.dumps([{"sha256": sha, "size": size} for sha, size in bundle]).encode() + b"\n"

        def body(head: bytes = head, bundle: list[tuple[str, int]] = bundle) -> Iterator[bytes]:
            yield head
            for sha, _size in bundle:
                yield blobs.read_bytes(sha)

        try:
            r = client.post(f"{API}/blobs", content=body(), headers={"Content-Length": str(len(head) + n)})
            r.raise_for_status()
            results = r.json()["results"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise SyncError(_("uploading {n} originals failed: {reason} (the next sync resumes it)").format(
                n=len(bundle), reason=exc)) from exc
        if not isinstance(results, list) or len(results) != len(bundle):
            raise trust.TrustError(_("the central server's answer to a bundle of {n} originals lists {m}").format(
                n=len(bundle), m=len(results) if isinstance(results, list) else 0))
        kept = []
        for (sha, size), res in zip(bundle, results, strict=True):
            if not res.get("stored"):
                raise SyncError(_("the central server refused {sha}: {why}").format(sha=sha[:12], why=res.get("error")))
            signature = trust.check_blob_receipt(res.get("receipt"), server_raw, kit_id=store.kit_id, sha256=sha,
                                                 size=size)
            kept.append((sha, size, {k: v for k, v in res["receipt"].items() if k != "signature"}, signature))
        with store.write_session() as s:
            for sha, size, receipt, signature in kept:
                s.merge(SyncBlob(sha256=sha, size=size, received_at=str(receipt.get("received_at", "")),
                                 body=json.dumps(receipt, ensure_ascii=False), signature=signature))
        totals["blobs"] += len(bundle)
        totals["bytes"] += n
        if progress:
            progress(totals)


# ---------------------------------------------------------------- the countersigned head, the clock
def countersign(store: Store, client: Any, server_raw: bytes) -> dict[str, Any]:
    """Have the server countersign the head of what it acknowledged of the custody chain, and
    measure the kit clock's offset from the server's time in the same exchange. The signed head is
    checked (the pinned key, this kit, this head) and kept; ``verify`` and the court pack show it."""
    from sqlalchemy import select

    from kit_app.db.models import CustodyEvent, CustodyHead
    from kit_app.evidence.clock import measure_offset, write_offset
    from kit_app.evidence.custody import GENESIS

    with store.session() as s:
        seq = int((s.get(KitMeta, "sync_custody_acked") or KitMeta(value="0")).value)
        head = s.scalar(select(CustodyEvent.hash).where(CustodyEvent.kit_id == store.kit_id, CustodyEvent.seq == seq))
    head_hash = head or GENESIS
    sent = utcnow()
    got = _call(client, "POST", f"{API}/custody/head", lambda status, detail: _(
        "the central server did not countersign this kit's custody chain ({status}): {detail}").format(
        status=status, detail=detail), json={"seq": seq, "hash": head_hash, "kit_time": sent.isoformat()}).json()
    received = utcnow()
    signature = got.pop("signature", None) if isinstance(got, dict) else None
    server_time = trust.check_head(got, signature, server_raw, kit_id=store.kit_id, seq=seq, head_hash=head_hash)
    offset = measure_offset(sent, received, server_time)
    with store.write_session() as s:
        if seq and s.get(CustodyHead, seq) is None:
            s.add(CustodyHead(seq=seq, hash=head_hash, countersigned_at=got["countersigned_at"],
                              body=canonical(got).decode(), signature=signature))
        write_offset(s, offset)
    return {"seq": seq, "countersigned_at": got["countersigned_at"], "clock_offset_s": offset.offset_s,
            "round_trip_s": offset.rtt_s}


def status(store: Store) -> dict[str, Any]:
    """What is left to sync: outbox entries, custody events and originals not yet receipted."""
    from sqlalchemy import func, select

    from kit_app.db.models import (
        CustodyEvent,
        EvidenceItem,
        SyncBlob,
        SyncOutbox,
        SyncReceipt,
    )

    with store.session() as s:
        acked = int((s.get(KitMeta, "sync_custody_acked") or KitMeta(value="0")).value)
        events = s.scalar(select(func.count()).select_from(CustodyEvent).where(
            CustodyEvent.kit_id == store.kit_id, CustodyEvent.seq > acked)) or 0
        records = s.scalar(select(func.count(func.distinct(SyncOutbox.entity_id)))) or 0
        held = set(s.scalars(select(SyncBlob.sha256)))
        blobs = len({sha for sha in s.scalars(select(EvidenceItem.sha256).where(EvidenceItem.sha256.is_not(None)))
                     if sha not in held})
        last = s.scalar(select(func.max(SyncReceipt.received_at)))
    from kit_app.sync.access import pending

    access = pending(store)
    return {"enrolled": enrolment(store) is not None, "records": records, "custody_events": events,
            "originals": blobs, "access_events": access, "last_receipt_at": last,
            "synced": not (records or events or blobs or access)}


# ---------------------------------------------------------------- pull
def pull(store: Store, progress: Any = None, limit: int = 500) -> dict[str, Any]:
    """Pull what changed on the server since the last pull, page by page (each page applied in one
    transaction with its sequence number)."""
    from kit_app.sync.pull import apply_page, pulled_since

    totals: dict[str, Any] = {"items": 0, "kinds": {}, "notes": [], "since": pulled_since(store)}
    since = totals["since"]
    with _client(store) as client:
        while True:
            page = _call(client, "GET", f"{API}/pull", lambda status, detail: _(
                "the central server refused the pull ({status}): {detail}").format(status=status, detail=detail),
                params={"since": since, "limit": limit}).json()
            counts, notes = apply_page(store, page)
            totals["items"] += len(page["items"])
            for k, n in counts.items():
                totals["kinds"][k] = totals["kinds"].get(k, 0) + n
            totals["notes"] += notes
            since = page["next"]
            if progress:
                progress(totals)
            if not page["more"]:
                break
    totals["until"] = since
    return totals


def sync(store: Store, progress: Any = None) -> dict[str, Any]:
    """One full sync: push (changes and custody), pull (what came down), upload (originals).
    Every step resumes where a killed or cut-off sync stopped; run again until it says synced."""
    import time

    with _client(store) as client:
        renew_if_due(store, client)
    t0 = time.perf_counter()
    pushed = push(store, progress)
    t1 = time.perf_counter()
    pulled = pull(store, progress)
    t2 = time.perf_counter()
    pushed_after = push(store, progress)  # cases opened from pulled assignments go straight back up
    for k in ("batches", "records", "custody_events", "replayed"):
        pushed[k] += pushed_after[k]
    t3 = time.perf_counter()
    from kit_app.sync.access import push_access

    with _client(store) as client:
        server_raw = _pinned(store, client)
        countersigned = countersign(store, client, server_raw)
        pushed |= push_access(store, client, server_raw, _call)
    uploaded = upload(store, progress)
    t4 = time.perf_counter()
    return {"pushed": pushed, "pulled": pulled, "uploaded": uploaded, "countersigned": countersigned,
            "status": status(store),
            "seconds": {"push": round(t1 - t0 + t3 - t2, 3), "pull": round(t2 - t1, 3), "upload": round(t4 - t3, 3)}}
