"""The custody log: one append-only hash chain per kit, every event signed by the kit.

An event's ``body`` is canonical JSON (UTF-8, keys sorted, no spaces) holding everything about it,
including its sequence number and the previous event's hash. ``hash`` = SHA-256(body), hex;
``signature`` = Ed25519(kit key, hash as ASCII), base64. Verifying needs only hashlib and an
Ed25519 implementation (see the README).
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy.orm import Session

from kit_app.db.models import CustodyEvent, KitMeta
from kit_app.dto import OfficerInfo
from kit_app.evidence import clock as T
from kit_app.evidence.keys import KitKey, verifier
from kit_app.i18n import _
from kit_app.ids import new_id
from kit_app.timeutil import utcnow

GENESIS = "0" * 64
FORMAT = 1
HEAD_KEY = "custody_head"
CHECKPOINT_KEY = "custody_verified"

COLLECTED, IMPORTED, VIEWED, EXPORTED, PRINTED, TRANSFERRED = (
    "collected", "imported", "viewed", "exported", "printed", "transferred")
SEALED, UNSEALED, SUBMITTED, SYNCED, ANNOTATED, CORRECTED = (
    "sealed", "unsealed", "submitted_to_lab", "synced", "annotated", "corrected")
ISSUED = "issued"  # a document the kit issued: its PDF becomes evidence
KINDS = (COLLECTED, IMPORTED, VIEWED, EXPORTED, PRINTED, TRANSFERRED, SEALED, UNSEALED, SUBMITTED,
         SYNCED, ANNOTATED, CORRECTED, ISSUED)
CLOCKS = ("kit", "gnss", "server")


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def actor(o: OfficerInfo) -> dict[str, str]:
    return {"id": o.id, "name": o.name, "cert_no": o.cert_no}


@dataclass(frozen=True)
class Problem:
    kind: str  # file_modified, file_missing, event_altered, event_removed, events_reordered, bad_signature
    detail: str
    evidence_id: str | None = None
    event: str | None = None
    seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "detail": self.detail}
        if self.evidence_id:
            d["evidence_id"] = self.evidence_id
        if self.event:
            d["event"] = self.event
            d["seq"] = self.seq
        return d


def read_checkpoint(s: Session, public_raw: bytes) -> tuple[int, str, str] | None:
    """(seq, hash, signatures digest) of the kit-signed verification checkpoint, if it is genuine."""
    row = s.get(KitMeta, CHECKPOINT_KEY)
    if row is None:
        return None
    try:
        cp = json.loads(row.value)
        if not verifier(public_raw)(canonical(cp["checkpoint"]), cp["signature"]):
            return None
        c = cp["checkpoint"]
        return int(c["seq"]), str(c["hash"]), str(c["signatures_digest"])
    except (ValueError, KeyError, TypeError):
        return None


def write_checkpoint(s: Session, key: KitKey, seq: int, event_hash: str, digest: str) -> None:
    cp = {"seq": seq, "hash": event_hash, "signatures_digest": digest}
    s.merge(KitMeta(key=CHECKPOINT_KEY, value=json.dumps({"checkpoint": cp, "signature": key.sign(canonical(cp))})))


class CustodyLog:
    def __init__(self, kit_id: str, key: KitKey) -> None:
        self.kit_id = kit_id
        self.key = key
        self._check = verifier(key.public_raw)
        self._cp: tuple[int, str, str] | None = None  # the checkpoint as the last appends left it
        self._cp_dirty = False
        # the kit's GNSS receiver, when one is connected (the window sets it): its current fix
        self.gnss: T.GnssSource | None = None

    def head(self, s: Session) -> tuple[int, str]:
        row = s.get(KitMeta, HEAD_KEY)
        if row is None:
            return 0, GENESIS
        seq, h = row.value.split(":")
        return int(seq), h

    def append(
        self,
        s: Session,
        *,
        evidence_id: str,
        case_id: str,
        kind: str,
        actors: list[dict[str, str]],
        item_sha256: str | None,
        reason: str = "",
        place: dict[str, Any] | None = None,
        device: str | None = None,
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> CustodyEvent:
        """Add an event in the caller's (write) transaction; the head moves in the same commit.

        ``at`` is the kit clock's reading (now, if not given). The event's time is the satellites'
        when a current GNSS fix gives it (``clock`` gnss), else the kit's (``clock`` kit); its body
        keeps every reading and the offset measured at the last sync (``kit_app.evidence.clock``)."""
        assert kind in KINDS
        seq, prev = self.head(s)
        fix = None
        if self.gnss is not None:
            try:
                fix = self.gnss()
            except Exception:  # a receiver gone mid-read: the kit's clock then, never a failed event
                fix = None
        at_dt, clock, times = T.stamp(at or utcnow(), fix, T.read_offset(s))
        assert clock in CLOCKS
        when = at_dt.isoformat()
        eid = new_id()
        body = {
            "v": FORMAT, "id": eid, "kit_id": self.kit_id, "seq": seq + 1, "prev_hash": prev,
            "evidence_id": evidence_id, "case_id": case_id, "kind": kind, "at": when, "clock": clock,
            "actors": actors, "place": place, "device": device, "reason": reason,
            "item_sha256": item_sha256, "details": details or {}, "time": times,
        }
        raw = canonical(body)
        digest = hashlib.sha256(raw).hexdigest()
        ev = CustodyEvent(
            id=eid, kit_id=self.kit_id, seq=seq + 1, evidence_id=evidence_id, case_id=case_id, kind=kind,
            at=when, clock=clock, body=raw.decode("utf-8"), item_sha256=item_sha256, prev_hash=prev,
            hash=digest, signature=self.key.sign(digest.encode("ascii")),
        )
        s.add(ev)
        s.merge(KitMeta(key=HEAD_KEY, value=f"{seq + 1}:{digest}"))
        # The new signature is checked now, once, with the public key; while the checkpoint covers
        # the chain up to here, it moves on to cover this event too (verify recomputes the digest).
        # It is signed and stored by flush_checkpoint(), once per transaction.
        if self._check(digest.encode("ascii"), ev.signature):
            cp = self._cp if self._cp is not None and self._cp[:2] == (seq, prev) else (
                read_checkpoint(s, self.key.public_raw) if seq else (0, GENESIS, GENESIS))
            if cp is not None and cp[0] == seq and cp[1] == prev:
                self._cp = (seq + 1, digest, chain_digest(cp[2], digest, ev.signature))
                self._cp_dirty = True
        s.flush()
        return ev

    def flush_checkpoint(self, s: Session) -> None:
        """Store the checkpoint the appends of this transaction moved (call before committing).
        Forgetting it is safe: verify then checks those signatures again."""
        if self._cp_dirty and self._cp is not None:
            write_checkpoint(s, self.key, *self._cp)
        self._cp_dirty = False


_COLUMNS = ("id", "kit_id", "evidence_id", "case_id", "kind", "at", "clock", "item_sha256", "prev_hash")
_BODY_FIELDS = itemgetter(*_COLUMNS)
# positions of the same fields in a stored row (see EVENT_COLUMNS)
_ROW_FIELDS = itemgetter(0, 1, 3, 4, 5, 6, 7, 9, 10)


def check_event(row: Any) -> tuple[str | None, dict[str, Any] | None]:
    """(why the stored event does not match its own body and hash or None, the parsed body)."""
    raw = row.body.encode("utf-8")
    if hashlib.sha256(raw).hexdigest() != row.hash:
        return _("the event's content does not match its hash"), None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _("the event's body is not JSON"), None
    try:
        same = _BODY_FIELDS(body) == _ROW_FIELDS(row)
    except KeyError:
        same = False
    if not same:  # find the column to name
        for col in _COLUMNS:
            if body.get(col) != getattr(row, col):
                return _("column {col} differs from the signed content").format(col=col), body
    return None, body


def _bad_signatures(public_raw: bytes, pairs: list[tuple[int, str, str]]) -> list[int]:
    """The seqs among (seq, hash, signature) whose signature does not verify (runs in a worker)."""
    verify = verifier(public_raw)
    return [seq for seq, h, sig in pairs if not verify(h.encode("ascii"), sig)]


PARALLEL_FROM = 20000  # below this, a process pool costs more than it saves
CHUNK = 25000


class _Signatures:
    """Checks signatures inline, or on worker processes in chunks when there are many."""

    def __init__(self, public_raw: bytes, parallel: bool) -> None:
        self.public_raw = public_raw
        self.verify = verifier(public_raw)
        self.bad: list[tuple[int, str, str]] = []  # (seq, evidence id, event id)
        self.where: dict[int, tuple[str, str]] = {}
        self.pairs: list[tuple[int, str, str]] = []
        self.futures: list[Any] = []
        self.pool = None
        if parallel:
            import os
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 2)

    def add(self, row: Any) -> None:
        if self.pool is None:
            if not self.verify(row.hash.encode("ascii"), row.signature):
                self.bad.append((row.seq, row.evidence_id, row.id))
            return
        self.pairs.append((row.seq, row.hash, row.signature))
        self.where[row.seq] = (row.evidence_id, row.id)
        if len(self.pairs) >= CHUNK:
            self.futures.append(self.pool.submit(_bad_signatures, self.public_raw, self.pairs))
            self.pairs = []

    def finish(self) -> list[Problem]:
        try:
            if self.pool is not None:
                if self.pairs:
                    self.futures.append(self.pool.submit(_bad_signatures, self.public_raw, self.pairs))
                for f in self.futures:
                    self.bad.extend((seq, *self.where[seq]) for seq in f.result())
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
        return [Problem("bad_signature", _("the kit's signature does not verify"), ev, event, seq)
                for seq, ev, event in self.bad]


@dataclass
class ChainResult:
    events: int
    problems: list[Problem]
    last_seq: int
    last_hash: str
    signatures_digest: str  # chain_digest over every (hash, signature): what a checkpoint vouches for


def chain_digest(previous: str, event_hash: str, signature: str) -> str:
    """The signatures digest after one more event: SHA-256 over the previous digest, the event's
    hash and its signature. It changes if any signature of the chain changes."""
    return hashlib.sha256((previous + event_hash + signature).encode("ascii")).hexdigest()


def _diagnose(row: Any, prev_seq: int, prev_hash: str, by_hash_seq: dict[str, int],
              problems: list[Problem]) -> None:
    """Name what is wrong with an event that failed the quick checks."""
    body_seq = None
    why, body = check_event(row)
    if why is None and body is not None:
        body_seq = body["seq"]
        if body_seq != row.seq:
            problems.append(Problem(
                "events_reordered",
                _("stored at position {pos} but signed as event {seq}").format(pos=row.seq, seq=body_seq),
                row.evidence_id, row.id, row.seq))
    else:
        problems.append(Problem("event_altered", why or "", row.evidence_id, row.id, row.seq))
    if row.seq > prev_seq + 1:
        missing = f"{prev_seq + 1}" if row.seq == prev_seq + 2 else f"{prev_seq + 1}–{row.seq - 1}"
        problems.append(Problem("event_removed",
                                _("events {missing} of the chain are missing").format(missing=missing),
                                None, row.id, row.seq))
    elif row.prev_hash != prev_hash and why is None and body_seq == row.seq:
        if row.prev_hash in by_hash_seq:
            problems.append(Problem(
                "events_reordered",
                _("links to event {linked}, not to event {prev}").format(
                    linked=by_hash_seq[row.prev_hash], prev=prev_seq),
                row.evidence_id, row.id, row.seq))
        else:
            problems.append(Problem("event_altered", _("does not link to the previous event"),
                                    row.evidence_id, row.id, row.seq))


def verify_chain(
    rows: Callable[[], Iterator[Any]],
    public_raw: bytes,
    head: tuple[int, str] | None,
    progress: Callable[[int], None] | None = None,
    all_signatures: bool = True,
    expected: int = 0,
    trusted: tuple[int, str, str] | None = None,
) -> ChainResult:
    """Verify one kit's events in seq order: hashes, links, signatures and the recorded head.

    Every event's signature is checked (on all cores when there are many), except those a
    ``trusted`` checkpoint (seq, hash, signatures digest) — written, and signed by the kit, after an
    earlier verification found every signature good — still vouches for: the digest over every
    (hash, signature) up to that event is recomputed, so a single changed signature is noticed,
    and then every signature of that span is checked again.

    With ``all_signatures=False`` only the last event's signature is checked: each hash covers the
    previous one, so that still catches any change of content, but not a damaged signature that
    changed nothing else.
    """
    problems: list[Problem] = []
    by_hash_seq: dict[str, int] = {}
    prev_seq, prev_hash = 0, GENESIS
    last: Any = None
    n = 0
    acc = GENESIS
    covered = trusted[0] if trusted else 0
    trust_ok = trusted is None
    trusted_seq = trusted[0] if trusted else -1
    sigs = _Signatures(public_raw, all_signatures and expected - covered >= PARALLEL_FROM)
    sha256, loads, body_fields, row_fields = hashlib.sha256, orjson.loads, _BODY_FIELDS, _ROW_FIELDS
    gc_was_on = gc.isenabled()
    gc.disable()  # a million short-lived dicts: the cyclic collector would only slow this loop
    try:
        for row in rows():
            n += 1
            if progress and n % 10000 == 0:
                progress(n)
            seq, h, sig = row[2], row[11], row[12]
            raw = row[8].encode("utf-8")
            # the common case, checked quickly: intact, in place, linked to the previous event
            good = sha256(raw).hexdigest() == h
            if good:
                try:
                    body = loads(raw)
                    good = body["seq"] == seq and body_fields(body) == row_fields(row)
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    good = False
            if not good or seq != prev_seq + 1 or row[10] != prev_hash:
                _diagnose(EventRow(row), prev_seq, prev_hash, by_hash_seq, problems)
            acc = sha256((acc + h + sig).encode("ascii")).hexdigest()  # chain_digest, inlined
            if seq == trusted_seq:
                trust_ok = h == trusted[1] and acc == trusted[2]  # type: ignore[index]
            if all_signatures and seq > covered:
                sigs.add(EventRow(row))
            if len(by_hash_seq) >= 8192:  # a window of recent events is enough to name a swap
                by_hash_seq.clear()
            by_hash_seq[h] = seq
            prev_seq, prev_hash, last = seq, h, row
        last = EventRow(last) if last is not None else None
        if all_signatures and not trust_ok:
            # the checkpoint no longer vouches for its span: check those signatures one by one
            for row in rows():
                if row[2] > covered:
                    break
                sigs.add(EventRow(row))
        problems.extend(sigs.finish())
        if not all_signatures and last is not None and not sigs.verify(last.hash.encode("ascii"), last.signature):
            problems.append(Problem("bad_signature", _("the kit's signature does not verify"),
                                    last.evidence_id, last.id, last.seq))
    finally:
        if gc_was_on:
            gc.enable()
        if sigs.pool is not None:
            sigs.pool.shutdown(cancel_futures=True)
    if head is not None and head[0] > prev_seq:
        problems.append(Problem(
            "event_removed",
            _("the chain ends at event {last} but the kit recorded {recorded} events").format(
                last=prev_seq, recorded=head[0]),
            None, None, None))
    elif head is not None and head[0] == prev_seq and head[1] != prev_hash and n:
        problems.append(Problem("event_altered", _("the last event is not the one the kit recorded"),
                                None, None, prev_seq))
    problems.sort(key=lambda p: (p.seq or 0, p.kind))
    return ChainResult(n, problems, prev_seq, prev_hash, acc)


# ---------------------------------------------------------------- heads the central server countersigned
def check_heads(heads: list[tuple[int, str, str, str]], server_raw: bytes | None,
                hash_at: Callable[[int], str | None]) -> tuple[list[Problem], dict[str, Any] | None]:
    """Check the heads the central server countersigned — (seq, hash, signed body, signature) —
    against the chain as it is now: each must carry the server's signature and still be an event of
    the chain with the same hash. A chain rewritten after a sync (even re-signed with the kit's own
    key) fails here. Returns the problems and the latest countersigned head."""
    problems: list[Problem] = []
    latest: dict[str, Any] | None = None
    check = verifier(server_raw) if server_raw else None
    for seq, h, body, signature in sorted(heads):
        try:
            signed = json.loads(body)
        except ValueError:
            signed = {}
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        if check is None or not check(digest.encode("ascii"), signature) or signed.get("seq") != seq \
                or signed.get("hash") != h:
            problems.append(Problem("bad_countersignature",
                                    _("the central server's countersignature of event {seq} does not verify").format(
                                        seq=seq), None, None, seq))
            continue
        when = str(signed.get("countersigned_at", ""))
        if seq:
            now = hash_at(seq)
            if now is None:
                problems.append(Problem("event_removed", _(
                    "the central server countersigned the chain up to event {seq} on {at}; that event is missing "
                    "now").format(seq=seq, at=when[:19].replace("T", " ")), None, None, seq))
                continue
            if now != h:
                problems.append(Problem("history_rewritten", _(
                    "event {seq} is not the one the central server countersigned on {at}: the custody history was "
                    "rewritten after that sync").format(seq=seq, at=when[:19].replace("T", " ")), None, None, seq))
                continue
        latest = {"seq": seq, "hash": h, "countersigned_at": when}
    return problems, latest


EVENT_COLUMNS = ("id", "kit_id", "seq", "evidence_id", "case_id", "kind", "at", "clock", "body",
                 "item_sha256", "prev_hash", "hash", "signature")


class EventRow(tuple):  # type: ignore[type-arg]
    """A stored event as a tuple with named fields (ORM objects would double the cost of verify)."""

    __slots__ = ()
    id = property(itemgetter(0))
    kit_id = property(itemgetter(1))
    seq = property(itemgetter(2))
    evidence_id = property(itemgetter(3))
    case_id = property(itemgetter(4))
    kind = property(itemgetter(5))
    at = property(itemgetter(6))
    clock = property(itemgetter(7))
    body = property(itemgetter(8))
    item_sha256 = property(itemgetter(9))
    prev_hash = property(itemgetter(10))
    hash = property(itemgetter(11))
    signature = property(itemgetter(12))


def stream_events(s: Session, kit_id: str, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
    cur = s.connection().exec_driver_sql(
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM custody_events WHERE kit_id = ? ORDER BY seq", (kit_id,))
    while rows := cur.fetchmany(batch):
        yield from rows  # plain tuples in EVENT_COLUMNS order; verify wraps the few it reports
