"""The kit's side of the central server: enrolment with a one-time code, and the credential it
keeps (in ``kit_meta``) for every later request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kit_app.db import Store
from kit_app.db.models import KitMeta
from kit_app.errors import KitError
from kit_app.evidence.keys import KitKey
from kit_app.i18n import _

API = "/api/v1"
TIMEOUT = 20.0


class SyncError(KitError):
    """The server cannot be reached or refused the request; the message says which."""


def _get(store: Store, key: str) -> str | None:
    with store.session() as s:
        row = s.get(KitMeta, key)
        return row.value if row else None


def _client(store: Store) -> Any:
    """An HTTP client for this kit's server, with its credential; SyncError if not enrolled."""
    import httpx

    url, cred = _get(store, "central_url"), _get(store, "central_credential")
    if not url or not cred:
        raise SyncError(_("this kit is not enrolled with a central server (kit-app enrol)"))
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {cred}"}, timeout=TIMEOUT)


def _detail(r: Any) -> str:
    return str(r.json().get("detail")) if "json" in r.headers.get("content-type", "") else r.text[:200]


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
    return r


def enrolment(store: Store) -> dict[str, Any] | None:
    url = _get(store, "central_url")
    if not url:
        return None
    return {"server": url, "agency_code": _get(store, "central_agency"),
            "agency_name": _get(store, "central_agency_name")}


def enrol(store: Store, server: str, code: str, name: str | None = None) -> dict[str, Any]:
    """Enrol this kit at ``server`` with a one-time ``code``; keep the credential."""
    import httpx

    server = server.rstrip("/")
    key = KitKey.load_or_create(store.data_dir)
    body = {"code": code, "kit_id": store.kit_id, "public_key_pem": key.public_pem(), "name": name}
    with httpx.Client(base_url=server, timeout=TIMEOUT) as client:
        got = _call(client, "POST", f"{API}/enrol", lambda status, detail: _(
            "the central server refused the enrolment ({status}): {detail}").format(status=status, detail=detail),
            ok=201, json=body).json()
    with store.write_session() as s:
        for k, v in (("central_url", server), ("central_credential", got["credential"]),
                     ("central_agency", got["agency_code"]), ("central_agency_name", got.get("agency_name") or "")):
            row = s.get(KitMeta, k)
            if row is None:
                s.add(KitMeta(key=k, value=v))
            else:
                row.value = v
    return {"server": server, "kit_id": store.kit_id, "agency_code": got["agency_code"],
            "agency_name": got.get("agency_name")}


def whoami(store: Store) -> dict[str, Any]:
    """Ask the server who this kit is (checks the credential)."""
    with _client(store) as client:
        return _call(client, "GET", f"{API}/kit", lambda status, detail: _(
            "the central server refused this kit ({status}): {detail}").format(status=status, detail=detail)).json()


# ---------------------------------------------------------------- push
BATCH_RECORDS = 200
BATCH_EVENTS = 1000


def _snapshot(s: Any, entity: str, entity_id: str) -> dict[str, Any] | None:
    from sqlalchemy import select

    from kit_app.db.models import Case, Document, EvidenceItem

    model = {"case": Case, "evidence": EvidenceItem, "document": Document}[entity]
    obj = s.get(model, entity_id)
    if obj is None:
        return None
    body: dict[str, Any] = {}
    for col in obj.__table__.columns:
        v = getattr(obj, col.key)
        body[col.name] = v.isoformat() if hasattr(v, "isoformat") else v
    if entity in ("case", "evidence"):
        body["officers"] = [o.officer_id for o in obj.officers]
    if entity == "case":
        from kit_app.db.models import Agency

        body["agency_code"] = s.scalar(select(Agency.code).where(Agency.id == obj.agency_id)) if obj.agency_id \
            else None
    return {"entity": entity, "id": entity_id, "row_version": body.get("row_version") or 1, "body": body}


def _set(s: Any, key: str, value: str) -> None:
    row = s.get(KitMeta, key)
    if row is None:
        s.add(KitMeta(key=key, value=value))
    else:
        row.value = value


def _next_batch(store: Store) -> dict[str, Any] | None:
    """The batch to send: the one sent before without a receipt (resent as it was), else a new one."""
    import json

    from sqlalchemy import func, select, update

    from kit_app.db.models import CustodyEvent, SyncOutbox
    from kit_app.ids import new_id

    with store.write_session() as s:
        pending = s.get(KitMeta, "sync_pending")
        if pending is None:
            ids = s.scalars(select(SyncOutbox.seq).where(SyncOutbox.batch_id.is_(None))
                            .order_by(SyncOutbox.seq).limit(BATCH_RECORDS)).all()
            acked = int((s.get(KitMeta, "sync_custody_acked") or KitMeta(value="0")).value)
            top = s.scalar(select(func.max(CustodyEvent.seq)).where(CustodyEvent.kit_id == store.kit_id)) or 0
            if not ids and top <= acked:
                return None
            batch_id = new_id()
            if ids:
                s.execute(update(SyncOutbox).where(SyncOutbox.seq.in_(ids)).values(batch_id=batch_id))
            info = {"batch_id": batch_id, "custody_from": acked + 1, "custody_to": min(top, acked + BATCH_EVENTS)}
            _set(s, "sync_pending", json.dumps(info))
        else:
            info = json.loads(pending.value)
        rows = s.execute(select(SyncOutbox.entity, SyncOutbox.entity_id)
                         .where(SyncOutbox.batch_id == info["batch_id"])).all()
        records = [r for r in (_snapshot(s, e, i) for e, i in sorted(set(rows))) if r is not None]
        events = s.scalars(select(CustodyEvent).where(
            CustodyEvent.kit_id == store.kit_id,
            CustodyEvent.seq.between(info["custody_from"], info["custody_to"])).order_by(CustodyEvent.seq)).all()
        custody = [{"seq": e.seq, "id": e.id, "body": e.body, "hash": e.hash, "signature": e.signature}
                   for e in events]
        return {"batch_id": info["batch_id"], "records": records, "custody": custody,
                "custody_to": info["custody_to"]}


def push(store: Store, progress: Any = None) -> dict[str, Any]:
    """Push everything not yet acknowledged, batch after batch; each receipt is stored.

    A batch is fixed before it is sent and resent unchanged until a receipt comes back, so a
    dropped connection or a crash at any moment neither loses nor duplicates anything.
    """
    import json

    from sqlalchemy import delete

    from kit_app.db.models import SyncOutbox, SyncReceipt

    totals = {"batches": 0, "records": 0, "custody_events": 0, "replayed": 0}
    with _client(store) as client:
        while (batch := _next_batch(store)) is not None:
            body = {k: batch[k] for k in ("batch_id", "records", "custody")}
            receipt = _call(client, "POST", f"{API}/push", lambda status, detail, b=batch["batch_id"][:8]: _(
                "the central server refused batch {batch} ({status}): {detail}").format(
                batch=b, status=status, detail=detail), json=body).json()
            signature = receipt.pop("signature")
            replayed = receipt.pop("replayed", False)
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
    server's copy ends (a dropped connection costs at most one chunk); bounded memory."""
    import json

    import httpx
    from sqlalchemy import select

    from kit_app.db.models import EvidenceItem, SyncBlob
    from kit_app.evidence.blobs import BlobStore

    chunk = chunk or CHUNK
    client = _client(store)
    with store.session() as s:
        done = set(s.scalars(select(SyncBlob.sha256)))
        todo = sorted({(sha, size) for sha, size in s.execute(select(EvidenceItem.sha256, EvidenceItem.size)
                                                              .where(EvidenceItem.sha256.is_not(None)))
                       if sha not in done})
    blobs = BlobStore(store.data_dir)
    totals = {"blobs": 0, "bytes": 0, "already_there": 0}
    small = [(sha, size) for sha, size in todo if size <= SMALL_BLOB]
    todo = [(sha, size) for sha, size in todo if size > SMALL_BLOB]
    with client:
        _upload_small(store, client, blobs, small, totals, progress)
        for sha, size in todo:
            try:
                state = client.get(f"{API}/blobs/{sha}").raise_for_status().json()
                receipt = None
                if state["stored"]:
                    totals["already_there"] += 1
                    receipt = state["receipt"]
                    signature = receipt.pop("signature", "")
                else:
                    offset = state["offset"] or 0
                    with blobs.path_for(sha).open("rb") as fh:
                        fh.seek(offset)
                        while offset < size:
                            n = min(chunk, size - offset)
                            r = client.put(f"{API}/blobs/{sha}", params={"offset": offset, "size": size},
                                           content=_pieces(fh, n), headers={"Content-Length": str(n)})
                            if r.status_code == 409:  # the server holds a different amount: ask and go on
                                offset = client.get(f"{API}/blobs/{sha}").raise_for_status().json()["offset"] or 0
                                fh.seek(offset)
                                continue
                            r.raise_for_status()
                            got = r.json()
                            totals["bytes"] += n
                            offset = got["offset"]
                            if got.get("receipt"):
                                receipt = got["receipt"]
                            if progress:
                                progress(totals)
                    if receipt is None:
                        raise SyncError(_("the central server did not confirm {sha}").format(sha=sha[:12]))
                    signature = receipt.pop("signature", "")
                    totals["blobs"] += 1
            except httpx.HTTPError as exc:
                raise SyncError(_("uploading {sha} failed: {reason} (the next sync resumes it)").format(
                    sha=sha[:12], reason=exc)) from exc
            with store.write_session() as s:
                s.merge(SyncBlob(sha256=sha, size=size, received_at=receipt.get("received_at", ""),
                                 body=json.dumps(receipt, ensure_ascii=False), signature=signature))
    return totals


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
                  progress: Any) -> None:
    """Small originals in bundles (bounded memory: at most BUNDLE_BYTES read at a time); the
    receipts of a bundle are stored in one transaction."""
    import json

    import httpx

    from kit_app.db.models import SyncBlob

    i = 0
    while i < len(small):
        bundle, n = [], 0
        while i < len(small) and len(bundle) < BUNDLE_ITEMS and (not bundle or n + small[i][1] <= BUNDLE_BYTES):
            bundle.append(small[i])
            n += small[i][1]
            i += 1
        head = json.dumps([{"sha256": sha, "size": size} for sha, size in bundle]).encode() + b"\n"

        def body(head: bytes = head, bundle: list[tuple[str, int]] = bundle) -> Iterator[bytes]:
            yield head
            for sha, _size in bundle:
                yield blobs.path_for(sha).read_bytes()

        try:
            r = client.post(f"{API}/blobs", content=body(), headers={"Content-Length": str(len(head) + n)})
            r.raise_for_status()
        except httpx.HTTPError as exc:
            raise SyncError(_("uploading {n} originals failed: {reason} (the next sync resumes it)").format(
                n=len(bundle), reason=exc)) from exc
        results = r.json()["results"]
        with store.write_session() as s:
            for (sha, size), res in zip(bundle, results, strict=True):
                if not res["stored"]:
                    raise SyncError(_("the central server refused {sha}: {why}").format(sha=sha[:12], why=res["error"]))
                receipt = res["receipt"]
                signature = receipt.pop("signature", "")
                s.merge(SyncBlob(sha256=sha, size=size, received_at=receipt.get("received_at", ""),
                                 body=json.dumps(receipt, ensure_ascii=False), signature=signature))
        totals["blobs"] += len(bundle)
        totals["bytes"] += n
        if progress:
            progress(totals)


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
    return {"enrolled": enrolment(store) is not None, "records": records, "custody_events": events,
            "originals": blobs, "last_receipt_at": last, "synced": not (records or events or blobs)}


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

    t0 = time.perf_counter()
    pushed = push(store, progress)
    t1 = time.perf_counter()
    pulled = pull(store, progress)
    t2 = time.perf_counter()
    pushed_after = push(store, progress)  # cases opened from pulled assignments go straight back up
    for k in ("batches", "records", "custody_events", "replayed"):
        pushed[k] += pushed_after[k]
    t3 = time.perf_counter()
    uploaded = upload(store, progress)
    t4 = time.perf_counter()
    return {"pushed": pushed, "pulled": pulled, "uploaded": uploaded, "status": status(store),
            "seconds": {"push": round(t1 - t0 + t3 - t2, 3), "pull": round(t2 - t1, 3), "upload": round(t4 - t3, 3)}}
