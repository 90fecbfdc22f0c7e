"""What kits push: records and custody events, checked and receipted."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from central.db import (
    Batch,
    CustodyEvent,
    CustodyHead,
    FeedItem,
    Kit,
    Record,
)
from central.schemas import CustodyBody
from central.service.common import CentralError, ancestors, receipt_numbers, receipt_seq, scope, within
from central.signing import Signer
from kit_app.evidence.custody import canonical
from kit_app.i18n import _
from kit_app.sync.trust import content_sha256
from kit_app.timeutil import utcnow

if TYPE_CHECKING:
    from central.service.admin import Central
    from central.service.blobs import BlobBackend


# ---------------------------------------------------------------- push
PUSHED = ("case", "evidence", "document")


def _not_yours(what: str, rid: str) -> CentralError:
    """The same refusal whether the record is another kit's or not there at all."""
    return CentralError(_("refused: {what} {id} is not this kit's to write").format(what=what, id=rid), 403)


class Push:
    """Accepting a kit's batch: records upserted (each naming only what is the kit's own), the
    custody chain checked, a signed receipt."""

    def __init__(self, central: Central, signer: Signer | None = None) -> None:
        self.central = central
        self.signer = signer

    def _sign(self, receipt: dict[str, Any]) -> str:
        assert self.signer is not None, "a Push that signs needs the server's signer"
        return self.signer.sign(hashlib.sha256(canonical(receipt)).hexdigest())

    def public_key_pem(self) -> str:
        assert self.signer is not None
        return self.signer.public_pem()

    def accept(self, kit_id: str, batch_id: str, records: list[dict[str, Any]],
               custody: list[dict[str, Any]]) -> dict[str, Any]:
        now = utcnow()
        digest = content_sha256(records, custody)
        with self.central.sessions.begin() as s:
            # the kit, and the batch if this id was used before, in one round trip
            row = s.execute(select(Kit, Batch).outerjoin(Batch, Batch.batch_id == batch_id)
                            .where(Kit.id == kit_id)).first()
            kit, done = (row[0], row[1]) if row is not None else (None, s.get(Batch, batch_id))
            if done is not None:
                held: dict[str, Any] = json.loads(done.receipt)
                # the same answer whether the id is another kit's or this kit's with other content
                if done.kit_id != kit_id or held.get("content_sha256") != digest:
                    raise CentralError(_("batch id {batch_id} has been used for another batch: a new batch needs "
                                         "a new id").format(batch_id=batch_id), 409)
                return held | {"signature": done.signature, "replayed": True}
            if kit is None:
                raise CentralError(_('unknown kit'), 401)
            known = self._known(s, records, custody)
            touched: list[Record] = []
            with s.no_autoflush:  # written once, with the batch's number, when the checks are done
                counts = self._records(s, kit, records, now, touched, known)
                first, last = self._custody(s, kit, custody, now, known)
                batch_seq, position = receipt_numbers(s)
                for rec in touched:
                    rec.server_seq = position
            receipt = {"batch_id": batch_id, "kit_id": kit_id, "server_seq": batch_seq,
                       "received_at": now.isoformat(), "records": counts, "custody": {"from": first, "to": last},
                       "content_sha256": digest}
            signature = self._sign(receipt)
            s.add(Batch(batch_id=batch_id, kit_id=kit_id, server_seq=batch_seq, receipt=canonical(receipt).decode(),
                        signature=signature, received_at=now))
            return receipt | {"signature": signature, "replayed": False}

    def _custody(self, s: Session, kit: Kit, events: list[dict[str, Any]], now: Any,
                 known: dict[tuple[str, str], Record]) -> tuple[int | None, int | None]:
        from kit_app.evidence.custody import GENESIS
        from kit_app.evidence.keys import verifier

        top = s.scalar(select(CustodyEvent).where(CustodyEvent.kit_id == kit.id)
                       .order_by(CustodyEvent.seq.desc()).limit(1))
        head_seq, head_hash = (top.seq, top.hash) if top else (0, GENESIS)
        check = verifier(_raw_public(kit.public_key_pem))
        first = last = None
        for ev in sorted(events, key=lambda e: e["seq"]):
            seq, body = int(ev["seq"]), ev["body"]
            if seq <= head_seq:
                stored = s.get(CustodyEvent, (kit.id, seq))
                if stored is None or stored.hash != ev["hash"] or stored.body != body:
                    raise CentralError(_("custody event {seq} differs from the one this kit pushed before: "
                                         "custody events are append-only").format(
                        seq=seq), 409)
                continue
            problem = None
            try:
                b = CustodyBody.model_validate_json(body)
            except ValueError:
                b, problem = None, _('the event body is not a custody event')
            if b is None:
                pass
            elif seq != head_seq + 1:
                problem = _("event {seq} is missing").format(seq=head_seq + 1)
            elif hashlib.sha256(body.encode("utf-8")).hexdigest() != ev["hash"]:
                problem = _('its hash does not match its content')
            elif b.seq != seq or b.kit_id != kit.id or b.id != ev["id"]:
                problem = _('its body names another kit, sequence number or id')
            elif b.prev_hash != head_hash:
                problem = _('it does not continue the chain (prev_hash)')
            elif not check(ev["hash"].encode("ascii"), ev["signature"]):
                problem = _("its signature is not the kit's")
            if problem is not None:
                raise CentralError(_("custody chain of kit {kit} broken at event {seq}: {problem}").format(
                    kit=kit.id, seq=seq, problem=problem), 409)
            assert b is not None
            item = known.get(("evidence", b.evidence_id))
            if item is None or item.kit_id != kit.id or item.case_id != b.case_id:
                # pushed before its evidence record, or naming another kit's item or case
                raise CentralError(_("refused: custody event {seq} names an evidence item this kit has not pushed "
                                     "(or not in that case)").format(seq=seq), 403)
            s.add(CustodyEvent(kit_id=kit.id, seq=seq, id=ev["id"], evidence_id=b.evidence_id,
                               case_id=b.case_id, body=body, prev_hash=b.prev_hash, hash=ev["hash"],
                               signature=ev["signature"], received_at=now))
            head_seq, head_hash = seq, ev["hash"]
            first = seq if first is None else first
            last = seq
        return first, last

    @staticmethod
    def _known(s: Session, records: list[dict[str, Any]],
               custody: list[dict[str, Any]]) -> dict[tuple[str, str], Record]:
        """The stored records a batch names (its own ids, their cases, the items its custody
        events name), fetched in a few queries rather than one per record."""
        wanted: dict[str, set[str]] = {"case": set(), "evidence": set(), "document": set()}
        for r in records:
            wanted[r["entity"]].add(r["id"])
            if r["entity"] != "case":
                wanted["case"].add(r["body"]["case_id"])
        for ev in custody:
            try:
                wanted["evidence"].add(str(json.loads(ev["body"]).get("evidence_id")))
            except (ValueError, AttributeError):
                continue  # refused with its reason when the chain is checked
        known: dict[tuple[str, str], Record] = {}
        pairs = sorted((entity, rid) for entity, ids in wanted.items() for rid in ids)
        for i in range(0, len(pairs), 500):  # one query for a batch's few hundred records
            for rec in s.scalars(select(Record).where(tuple_(Record.entity, Record.id).in_(pairs[i:i + 500]))):
                known[(rec.entity, rec.id)] = rec
        return known

    def _may_write_case(self, s: Session, kit: Kit, case_id: str, known: dict[tuple[str, str], Record]) -> bool:
        """A case this kit pushed, or one the server assigned to a scope the kit sees."""
        rec = known.get(("case", case_id))
        if rec is not None and rec.kit_id == kit.id:
            return True
        return rec is not None and _assigned_to(s, kit, case_id)

    def _records(self, s: Session, kit: Kit, records: list[dict[str, Any]], now: Any, touched: list[Record],
                 known: dict[tuple[str, str], Record]) -> dict[str, int]:
        """Upsert records by the conflict rules (kit_app.sync.conflicts, docs/sync.md). A case
        belongs to the agency it names when that lies within the kit's; its evidence and documents
        to the case's agency. A kit writes only what is its own: cases it pushed (or that were
        assigned to it), their evidence and documents."""
        from kit_app.sync.conflicts import ConflictError, merge_versions

        counts = {"new": 0, "updated": 0, "unchanged": 0}
        order = {"case": 0, "evidence": 1, "document": 2}
        for r in sorted(records, key=lambda r: order[r["entity"]]):
            entity, rid = r["entity"], r["id"]
            version = int(r.get("row_version") or 1)
            incoming = dict(r["body"]) | {"row_version": version}
            case_id = incoming["case_id"] if entity != "case" else rid
            old = known.get((entity, rid))
            if entity == "case":
                if old is not None and old.kit_id != kit.id:
                    if _assigned_to(s, kit, rid):  # another kit of the agency took the task first
                        counts["unchanged"] += 1
                        continue
                    raise _not_yours(_("case"), rid)
                named = incoming.get("agency_code")
                agency = scope(named) if named and within(kit.agency_code, named) else scope(kit.agency_code)
            else:
                if not self._may_write_case(s, kit, case_id, known):
                    raise _not_yours(_("case"), case_id)
                if old is not None and (old.kit_id != kit.id or old.case_id != case_id):
                    raise _not_yours({"evidence": _("evidence item"), "document": _("document")}[entity], rid)
                agency = known[("case", case_id)].agency_code
            if old is None:
                rec = Record(entity=entity, id=rid, kit_id=kit.id, agency_code=agency, case_id=case_id,
                             row_version=version, body=canonical(incoming).decode(), received_at=now,
                             server_seq=0, **_place(entity, incoming))  # the feed's position: set when checked
                s.add(rec)
                touched.append(rec)
                known[(entity, rid)] = rec
                counts["new"] += 1
                continue
            held = json.loads(old.body) | {"row_version": old.row_version}
            if entity == "document":
                if canonical(held) != canonical(incoming):
                    raise CentralError(_("issued document {rid} differs from the one pushed before: "
                                         "issued documents are append-only").format(
                        rid=rid), 409)
                counts["unchanged"] += 1
                continue
            try:
                merged = merge_versions(entity, held, incoming)
            except ConflictError as exc:
                raise CentralError(_("refused: {exc}").format(exc=exc), 409) from None
            body = canonical(merged).decode()
            if body == canonical(held).decode():
                counts["unchanged"] += 1
            else:
                old.body, old.row_version = body, max(version, old.row_version)
                old.received_at, old.agency_code = now, agency
                for k, v in _place(entity, merged).items():
                    setattr(old, k, v)
                touched.append(old)
                counts["updated"] += 1
        return counts

    def blob_receipt(self, kit_id: str, sha: str, size: int) -> dict[str, Any]:
        return self.blob_receipts(kit_id, [(sha, size)])[0]

    def blob_receipts(self, kit_id: str, blobs: list[tuple[str, int]]) -> list[dict[str, Any]]:
        """Signed receipts for blobs the server holds, each with its own sequence number (one transaction)."""
        out = []
        with self.central.sessions.begin() as s:
            now = utcnow().isoformat()
            for sha, size in blobs:
                receipt = {"kind": "blob", "kit_id": kit_id, "sha256": sha, "size": size,
                           "server_seq": receipt_seq(s), "received_at": now}
                out.append(receipt | {"signature": self._sign(receipt)})
        return out

    # ------------------------------------------------------------ what was received, and verify
    def received(self) -> list[dict[str, Any]]:
        out = []
        with self.central.sessions() as s:
            for kit in s.scalars(select(Kit).order_by(Kit.enrolled_at)):
                recs = s.execute(select(Record.entity, func.count()).where(Record.kit_id == kit.id)
                                 .group_by(Record.entity)).all()
                events = s.scalar(select(func.count()).select_from(CustodyEvent)
                                  .where(CustodyEvent.kit_id == kit.id)) or 0
                items = [json.loads(b) for (b,) in s.execute(select(Record.body).where(
                    Record.kit_id == kit.id, Record.entity == "evidence"))]
                out.append({"kit_id": kit.id, "agency_code": kit.agency_code, "name": kit.name,
                            "records": dict(recs), "custody_events": events,
                            "evidence": [{"id": i["id"], "sha256": i.get("sha256"), "size": i.get("size")}
                                         for i in items]})
        return out

    def verify(self, blobs: BlobBackend | None = None) -> dict[str, Any]:
        """Every kit's stored custody chain (hashes, links, signatures) and, given the blob store,
        every stored blob's hash (and that each receipted original is there)."""
        from kit_app.evidence.custody import GENESIS
        from kit_app.evidence.keys import verifier

        problems, checked = [], 0
        with self.central.sessions() as s:
            for kit in s.scalars(select(Kit)):
                check = verifier(_raw_public(kit.public_key_pem))
                prev, expect = GENESIS, 1
                for ev in s.scalars(select(CustodyEvent).where(CustodyEvent.kit_id == kit.id)
                                    .order_by(CustodyEvent.seq)):
                    checked += 1
                    if ev.seq != expect:
                        problems.append({"kit_id": kit.id, "seq": expect, "problem": "missing"})
                    if hashlib.sha256(ev.body.encode()).hexdigest() != ev.hash:
                        problems.append({"kit_id": kit.id, "seq": ev.seq, "problem": "altered"})
                    if ev.prev_hash != prev or json.loads(ev.body).get("prev_hash") != prev:
                        problems.append({"kit_id": kit.id, "seq": ev.seq, "problem": "broken link"})
                    if not check(ev.hash.encode("ascii"), ev.signature):
                        problems.append({"kit_id": kit.id, "seq": ev.seq, "problem": "bad signature"})
                    prev, expect = ev.hash, ev.seq + 1
                for head in s.scalars(select(CustodyHead).where(CustodyHead.kit_id == kit.id)):
                    held = s.get(CustodyEvent, (kit.id, head.seq)) if head.seq else None
                    if head.seq and (held is None or held.hash != head.hash):
                        problems.append({"kit_id": kit.id, "seq": head.seq,
                                         "problem": "countersigned head not in chain"})
        out: dict[str, Any] = {"events_checked": checked}
        if blobs is not None:
            b = blobs.verify()
            problems += b["problems"]
            out |= {"blobs_checked": b["blobs_checked"], "bytes_checked": b["bytes_checked"]}
        return {"ok": not problems, **out, "problems": problems}


def _place(entity: str, body: dict[str, Any]) -> dict[str, float | None]:
    """Where an evidence item was gathered, as its record says (a number each way, within range)."""
    if entity != "evidence":
        return {}
    lat, lon = body.get("latitude"), body.get("longitude")
    if (isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and not isinstance(lat, bool)
            and not isinstance(lon, bool) and -90 <= lat <= 90 and -180 <= lon <= 180 and (lat or lon)):
        return {"latitude": float(lat), "longitude": float(lon)}
    return {"latitude": None, "longitude": None}


@functools.lru_cache(maxsize=4096)
def _raw_public(pem: str) -> bytes:
    """The raw Ed25519 key of a PEM (a pure function of its text: cached, not state)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem.encode()).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _assigned_to(s: Session, kit: Kit, case_id: str) -> bool:
    """Whether the server assigned this case to a scope the kit sees (as the pull shows it)."""
    a = s.get(FeedItem, ("assignment", case_id))
    if a is None or a.deleted or a.kit_id not in (None, kit.id):
        return False
    mine = scope(kit.agency_code)
    return a.agency_code in ancestors(mine) or a.agency_code.startswith(mine)
