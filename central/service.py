"""What the central server does, independent of HTTP: agencies, officers, enrolment of kits."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from central.db import (
    Agency,
    Batch,
    CustodyEvent,
    EnrolCode,
    FeedItem,
    Kit,
    Officer,
    OfficerToken,
    Record,
    Sequence,
)
from central.schemas import SHA256_PATTERN, UUID_PATTERN, CustodyBody
from central.signing import Signer
from kit_app.i18n import _
from kit_app.services.officers import hash_password
from kit_app.storage import is_full, write_all
from kit_app.timeutil import utcnow

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
CODE_LIFETIME = timedelta(days=7)
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


class CentralError(Exception):
    """A request the server refuses; ``status`` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def valid_uuid(value: str) -> str:
    """A kit's, case's or record's id as the server accepts it: a UUID in lower-case hex."""
    if not isinstance(value, str) or not re.fullmatch(UUID_PATTERN, value):
        raise CentralError(_("{value!r} is not an id (a UUID in lower-case hex)").format(value=str(value)[:80]), 422)
    return value


def valid_sha256(value: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(SHA256_PATTERN, value):
        raise CentralError(_("a blob is named by its SHA-256 in lower-case hex"), 422)
    return value


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)


class Central:
    def __init__(self, sessions: sessionmaker) -> None:  # type: ignore[type-arg]
        self.sessions = sessions

    # ------------------------------------------------------------ administration
    def add_agency(self, code: str, name: str, parent: str | None = None) -> dict[str, Any]:
        if not code.isdigit() or len(code) not in (2, 4, 6):
            raise CentralError(_("agency code {code!r}: a division code has 2, 4 or 6 digits (GB/T 2260)").format(
                code=code))
        if parent is None and len(code) > 2:
            parent = code[:-2] if len(code) == 6 else code[:2]
        with self.sessions.begin() as s:
            if s.get(Agency, code) is not None:
                raise CentralError(_("agency {code} exists already").format(code=code), 409)
            if parent is not None and s.get(Agency, parent) is None:
                raise CentralError(_("parent agency {parent} is not known: add it first").format(parent=parent), 404)
            s.add(Agency(code=code, name=name.strip(), parent_code=parent))
            s.flush()
            Feed(self).publish(s, "agency", code, code, {"code": kit_code(code), "name": name.strip(),
                                                          "parent": kit_code(parent) if parent else None})
        return {"code": code, "name": name.strip(), "parent": parent}

    def add_officer(self, *, cert_no: str, name: str, roles: str, agency: str, password: str,
                    kit_agencies: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        """An officer of an agency (the province's administrators belong to the province's agency:
        an officer sees what lies within their agency, nothing more)."""
        _check_password(password)
        with self.sessions.begin() as s:
            if not agency or s.get(Agency, agency) is None:
                raise CentralError(_("agency {agency} is not known: every officer belongs to an agency").format(
                    agency=agency), 404)
            if s.scalar(select(Officer).where(Officer.cert_no == cert_no)) is not None:
                raise CentralError(_("an officer with certificate number {cert_no} exists already").format(
                    cert_no=cert_no), 409)
            o = Officer(cert_no=cert_no, name=name, roles=roles, agency_code=agency,
                        password_hash=hash_password(password), kit_verifier=hash_password(password),
                        kit_agencies=_agency_list(s, kit_agencies))
            s.add(o)
            s.flush()
            publish_officer(s, self, o)
            return _officer(o) | {"kit_agencies": _split(o.kit_agencies)}

    def make_enrol_code(self, agency: str) -> dict[str, Any]:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
        code = "-".join(raw[i:i + 4] for i in range(0, 16, 4))
        now = utcnow()
        with self.sessions.begin() as s:
            if s.get(Agency, agency) is None:
                raise CentralError(_("agency {agency} is not known").format(agency=agency), 404)
            s.add(EnrolCode(code_hash=_sha(raw), agency_code=agency, created_at=now, expires_at=now + CODE_LIFETIME))
        return {"code": code, "agency": agency, "expires_at": (now + CODE_LIFETIME).isoformat()}

    # ------------------------------------------------------------ kits
    def enrol(self, code: str, kit_id: str, public_key_pem: str, name: str | None = None) -> dict[str, Any]:
        """Use a one-time code: register the kit and its custody key, return its credential."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        try:
            key = load_pem_public_key(public_key_pem.encode())
        except ValueError:
            raise CentralError(_("the kit's public key is not a PEM public key")) from None
        if not isinstance(key, Ed25519PublicKey):
            raise CentralError(_("the kit's public key must be Ed25519"))
        valid_uuid(kit_id)
        now = utcnow()
        credential = secrets.token_urlsafe(32)
        with self.sessions.begin() as s:
            row = s.get(EnrolCode, _sha(normalise_code(code)), with_for_update=True)
            if row is None:
                raise CentralError(_('unknown enrolment code'), 403)
            if row.used_at is not None:
                raise CentralError(_('this enrolment code has been used already'), 403)
            if row.expires_at < now:
                raise CentralError(_('this enrolment code has expired'), 403)
            if s.get(Kit, kit_id) is not None:
                raise CentralError(_("kit {kit_id} is enrolled already").format(kit_id=kit_id), 409)
            # claimed in one statement: of two kits using the code at once, one gets it (SQLite has no
            # row locks, and a read-then-write would let both through)
            claimed = s.execute(update(EnrolCode).where(EnrolCode.code_hash == row.code_hash,
                                                         EnrolCode.used_at.is_(None))
                                .values(used_at=now, used_by_kit=kit_id)).rowcount
            if claimed != 1:
                raise CentralError(_('this enrolment code has been used already'), 403)
            s.add(Kit(id=kit_id, agency_code=row.agency_code, public_key_pem=public_key_pem,
                      credential_hash=_sha(credential), name=name, enrolled_at=now,
                      credential_expires_at=now + CREDENTIAL_LIFETIME))
            agency = s.get(Agency, row.agency_code)
            return {"kit_id": kit_id, "credential": credential, "agency_code": row.agency_code,
                    "agency_name": agency.name if agency else None,
                    "expires_at": (now + CREDENTIAL_LIFETIME).isoformat()}

    def kit_for(self, credential: str) -> dict[str, Any] | None:
        """The kit a credential stands for: not revoked, not expired. The credential before the
        last renewal still works until the new one is first used."""
        from sqlalchemy import or_

        h = _sha(credential)
        with self.sessions.begin() as s:
            kit = s.scalar(select(Kit).where(or_(Kit.credential_hash == h, Kit.previous_credential_hash == h)))
            now = utcnow()
            if kit is None or kit.revoked or (kit.credential_expires_at is not None
                                              and kit.credential_expires_at < now):
                return None
            if kit.credential_hash == h and kit.previous_credential_hash is not None:
                kit.previous_credential_hash = None  # the renewed credential has arrived: the old one ends
            if kit.last_seen_at is None or now - kit.last_seen_at > LAST_SEEN_RESOLUTION:
                kit.last_seen_at = now  # not on every request: a write (and an fsync) per request is costly
            return {"kit_id": kit.id, "agency_code": kit.agency_code, "name": kit.name,
                    "enrolled_at": kit.enrolled_at.isoformat(),
                    "credential_expires_at": kit.credential_expires_at.isoformat()
                    if kit.credential_expires_at else None, "credential_used": h}

    def renew_credential(self, kit_id: str, used_hash: str) -> dict[str, Any]:
        """A new credential; the one this request came with stays valid until the new one is used
        (so a renewal whose answer is lost on the way does not lock the kit out)."""
        credential = secrets.token_urlsafe(32)
        now = utcnow()
        with self.sessions.begin() as s:
            kit = s.get(Kit, kit_id, with_for_update=True)
            if kit is None or kit.revoked:
                raise CentralError(_("unknown, expired or revoked kit credential"), 401)
            kit.previous_credential_hash = used_hash
            kit.credential_hash = _sha(credential)
            kit.credential_expires_at = now + CREDENTIAL_LIFETIME
            return {"credential": credential, "expires_at": kit.credential_expires_at.isoformat()}

    def revoke_kit(self, kit_id: str, viewer: str | None = None) -> dict[str, Any]:
        """Revoke a kit (lost, stolen, retired): every request with its credential is refused from
        now on; its records and custody chain stay. ``viewer``: the revoking administrator's agency."""
        with self.sessions.begin() as s:
            kit = s.get(Kit, kit_id)
            if kit is None or (viewer is not None and not within(viewer, kit.agency_code)):
                raise CentralError(_("no kit {kit_id}").format(kit_id=kit_id), 404)
            if not kit.revoked:
                kit.revoked, kit.revoked_at = True, utcnow()
            return _kit(kit)

    def set_officer(self, cert_no: str, *, active: bool | None = None, roles: str | None = None,
                    password: str | None = None, agency: str | None = None,
                    kit_agencies: list[str] | None = None) -> dict[str, Any]:
        """Change an officer; the change flows down to the kits (a deactivated officer can no longer
        sign in on any kit once it has synced). A new password ends the officer's sessions."""
        with self.sessions.begin() as s:
            o = s.scalar(select(Officer).where(Officer.cert_no == cert_no))
            if o is None:
                raise CentralError(_("no officer with certificate number {cert_no}").format(cert_no=cert_no), 404)
            before = _officer_agencies(o)
            if active is not None:
                o.active = active
            if roles is not None:
                o.roles = roles
            if agency is not None:
                if s.get(Agency, agency) is None:
                    raise CentralError(_("agency {agency} is not known").format(agency=agency), 404)
                o.agency_code = agency
            if kit_agencies is not None:
                o.kit_agencies = _agency_list(s, kit_agencies)
            if password is not None:
                _check_password(password)
                o.password_hash, o.kit_verifier = hash_password(password), hash_password(password)
                o.failed_logins, o.locked_until = 0, None
                s.execute(delete(OfficerToken).where(OfficerToken.officer_id == o.id))
            if active is False:
                s.execute(delete(OfficerToken).where(OfficerToken.officer_id == o.id))
            s.flush()
            publish_officer(s, self, o, withdrawn=before - _officer_agencies(o))
            return _officer(o) | {"active": o.active, "kit_agencies": _split(o.kit_agencies)}

    def assign_numbers(self, *, kit_id: str, agency: str, doc_type: str, year: int, prefix: str, first: int,
                       last: int) -> dict[str, Any]:
        """Reserve document numbers first–last of (agency, type, year) for a kit; blocks never overlap."""
        from kit_app.ids import new_id

        if first < 1 or last < first:
            raise CentralError(_('a block runs from a first number ≥ 1 to a last number ≥ the first'))
        if not prefix.strip():
            raise CentralError(_('the number prefix (e.g. 南环罚告) is missing'))
        with self.sessions.begin() as s:
            if s.get(Kit, kit_id) is None:
                raise CentralError(_("no kit {kit_id}").format(kit_id=kit_id), 404)
            code = kit_code(agency)
            next_seq(s)  # serialises block assignment (the sequence row is locked)
            for f in s.scalars(select(FeedItem).where(FeedItem.kind == "number_block")):
                b = json.loads(f.body)
                if (b["agency_code"], b["doc_type"], b["year"]) == (code, doc_type, year) \
                        and b["first"] <= last and b["last"] >= first:
                    raise CentralError(_("numbers {first}–{last} overlap the block {held_first}–{held_last} "
                                         "assigned to kit {held_kit}").format(
                        first=first, last=last, held_first=b['first'], held_last=b['last'], held_kit=b['kit_id']), 409)
            body = {"id": new_id(), "agency_code": code, "doc_type": doc_type, "year": year,
                    "prefix": prefix.strip(), "first": first, "last": last, "kit_id": kit_id}
            Feed(self).publish(s, "number_block", body["id"], agency, body, kit_id=kit_id)
            return body

    def assign_case(self, *, agency: str, title: str, party_name: str, source_id: str | None = None,
                    party_credit_code: str | None = None, party_address: str | None = None,
                    officers: list[str] = (), note: str = "", case_id: str | None = None,  # type: ignore[assignment]
                    kit_id: str | None = None) -> dict[str, Any]:
        """An inspection task for an agency (or one kit): the kits pull it and open the case.
        Assigning again under the same ``case_id`` changes the task (merged on the kit by the
        conflict rules in docs/sync.md)."""
        from kit_app.ids import new_id

        if not title.strip() or not party_name.strip():
            raise CentralError(_('an assignment needs a title and a party'))
        with self.sessions.begin() as s:
            if s.get(Agency, scope(agency)) is None and s.get(Agency, agency) is None:
                raise CentralError(_("agency {agency} is not known").format(agency=agency), 404)
            for cert in officers:
                if s.scalar(select(Officer).where(Officer.cert_no == cert)) is None:
                    raise CentralError(_("no officer with certificate number {cert}").format(cert=cert), 404)
            case_id = case_id or new_id()
            old = s.get(FeedItem, ("assignment", case_id))
            body = {"id": case_id, "title": title.strip(), "party_name": party_name.strip(),
                    "party_credit_code": party_credit_code, "party_address": party_address,
                    "source_id": source_id, "officers": list(officers), "note": note.strip(),
                    "agency_code": kit_code(agency),
                    "assigned_at": json.loads(old.body)["assigned_at"] if old else utcnow().isoformat(),
                    "changed_at": utcnow().isoformat()}
            Feed(self).publish(s, "assignment", case_id, agency, body, kit_id=kit_id)
            return body

    def kits(self, viewer: str | None = None) -> list[dict[str, Any]]:
        """The enrolled kits (of the viewer's agency and below, when an administrator asks)."""
        with self.sessions() as s:
            return [_kit(k) for k in s.scalars(select(Kit).order_by(Kit.enrolled_at))
                    if viewer is None or within(viewer, k.agency_code)]


CREDENTIAL_LIFETIME = timedelta(days=90)
RENEW_BEFORE = timedelta(days=60)  # a kit renews its credential at a sync once it has less than this left


def _kit(k: Kit) -> dict[str, Any]:
    return {"kit_id": k.id, "agency_code": k.agency_code, "name": k.name, "enrolled_at": k.enrolled_at.isoformat(),
            "last_seen_at": k.last_seen_at.isoformat() if k.last_seen_at else None, "revoked": k.revoked,
            "credential_expires_at": k.credential_expires_at.isoformat() if k.credential_expires_at else None}


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise CentralError(_('the password needs at least 8 characters'))


def _split(codes: str) -> list[str]:
    return [c for c in codes.split(",") if c]


def _agency_list(s: Session, codes: Any) -> str:
    for c in codes:
        if s.get(Agency, c) is None:
            raise CentralError(_("agency {agency} is not known").format(agency=c), 404)
    return ",".join(sorted(set(codes)))


def _officer_agencies(o: Officer) -> set[str]:
    """The agencies whose kits receive the officer's offline-login verifier."""
    return {o.agency_code, *_split(o.kit_agencies)}


# ---------------------------------------------------------------- push
PUSHED = ("case", "evidence", "document")


from kit_app.evidence.custody import canonical  # noqa: E402 - the kit's; receipts are checked against it
from kit_app.sync.trust import content_sha256  # noqa: E402 - what a receipt names, computed as the kit does


def next_seq(s: Session) -> int:
    """The next server sequence number. One UPDATE … RETURNING: the increment and the read are one
    statement, which takes the row's lock (PostgreSQL) or the database's write lock (SQLite) until
    the transaction ends — so concurrent transactions never draw the same number, and numbers
    become visible in order."""
    got = s.execute(update(Sequence).where(Sequence.name == "server").values(value=Sequence.value + 1)
                    .returning(Sequence.value)).scalar()
    if got is None:  # a database made before the row was created by the migration
        s.add(Sequence(name="server", value=1))
        s.flush()
        return 1
    return int(got)


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
            done = s.get(Batch, batch_id)
            if done is not None:
                held = json.loads(done.receipt)
                # the same answer whether the id is another kit's or this kit's with other content
                if done.kit_id != kit_id or held.get("content_sha256") != digest:
                    raise CentralError(_("batch id {batch_id} has been used for another batch: a new batch needs "
                                         "a new id").format(batch_id=batch_id), 409)
                return held | {"signature": done.signature, "replayed": True}
            kit = s.get(Kit, kit_id)
            if kit is None:
                raise CentralError(_('unknown kit'), 401)
            batch_seq = next_seq(s)
            known = self._known(s, records, custody)
            counts = self._records(s, kit, records, now, batch_seq, known)
            first, last = self._custody(s, kit, custody, now, known)
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
        s.flush()
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
        for entity, ids in wanted.items():
            ids_list = sorted(ids)
            for i in range(0, len(ids_list), 500):
                for rec in s.scalars(select(Record).where(Record.entity == entity, Record.id.in_(ids_list[i:i + 500]))):
                    known[(entity, rec.id)] = rec
        return known

    def _may_write_case(self, s: Session, kit: Kit, case_id: str, known: dict[tuple[str, str], Record]) -> bool:
        """A case this kit pushed, or one the server assigned to a scope the kit sees."""
        rec = known.get(("case", case_id))
        if rec is not None and rec.kit_id == kit.id:
            return True
        return rec is not None and _assigned_to(s, kit, case_id)

    def _records(self, s: Session, kit: Kit, records: list[dict[str, Any]], now: Any, seq: int,
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
                             server_seq=seq)
                s.add(rec)
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
                old.received_at, old.server_seq, old.agency_code = now, seq, agency
                counts["updated"] += 1
        s.flush()
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
                           "server_seq": next_seq(s), "received_at": now}
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

    def verify(self, blobs: BlobStore | None = None) -> dict[str, Any]:
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
        out: dict[str, Any] = {"events_checked": checked}
        if blobs is not None:
            b = blobs.verify()
            problems += b["problems"]
            out |= {"blobs_checked": b["blobs_checked"], "bytes_checked": b["bytes_checked"]}
        return {"ok": not problems, **out, "problems": problems}


def _raw_public(pem: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem.encode()).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# ---------------------------------------------------------------- evidence blobs
CHUNK_LIMIT = 16 * 1024 * 1024
KIT_QUOTA = int(os.environ.get("KIT_CENTRAL_KIT_QUOTA_GB") or 500) * 1024**3  # originals a kit may store
PART_LIFETIME = timedelta(days=7)  # an upload left unfinished this long is removed


class BlobStore:
    """Evidence originals on the server's filesystem, content-addressed like the kit's
    (``objects/ab/<sha256>``); uploads in progress live in ``incoming/<kit>/<sha256>.part``.
    Every path is built from validated components and checked to stay under the root.

    The interface (``has``, ``offset``, ``append``, ``finish``) is what an S3-compatible backend
    would implement with multipart uploads."""

    def __init__(self, root: Path) -> None:
        (root / "objects").mkdir(parents=True, exist_ok=True)
        (root / "incoming").mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def _inside(self, *parts: str) -> Path:
        """A path under the store's root from validated components (an identifier never becomes a
        path unchecked), and checked to stay there (lexically: no component may be '..' or
        absolute; the store's own directories are not links)."""
        if any(not p or p in (".", "..") or "/" in p or "\\" in p or "\x00" in p for p in parts):
            raise CentralError(_("refused: a path outside the evidence store"), 422)
        return self.root.joinpath(*parts)

    def path(self, sha: str) -> Path:
        return self._inside("objects", valid_sha256(sha)[:2], sha)

    def _part(self, kit_id: str, sha: str) -> Path:
        d = self._inside("incoming", valid_uuid(kit_id))
        d.mkdir(parents=True, exist_ok=True)
        return self._inside("incoming", kit_id, f"{valid_sha256(sha)}.part")

    def has(self, sha: str) -> bool:
        return self.path(sha).exists()

    def offset(self, kit_id: str, sha: str) -> int:
        p = self._part(kit_id, sha)
        return p.stat().st_size if p.exists() else 0

    # ------------------------------------------------------------ proof of possession
    @staticmethod
    def challenge(signer: Signer, kit_id: str, sha: str, hour: int | None = None) -> str:
        """A nonce for this kit and file, valid for this hour and the next (no state kept)."""
        import hmac
        import time

        hour = int(time.time() // 3600) if hour is None else hour
        key = hashlib.sha256(b"blob-challenge" + signer.key.private_bytes_raw()).digest()
        return hmac.new(key, f"{kit_id}:{sha}:{hour}".encode(), hashlib.sha256).hexdigest()

    def check_proof(self, signer: Signer, kit_id: str, sha: str, challenge: str, proof: str, size: int) -> bool:
        """Whether the server holds the file and the kit proved it holds it too: ``proof`` is the
        SHA-256 of the challenge's bytes followed by the file's. A kit without the bytes learns
        nothing, not even whether the server has the file."""
        import hmac
        import time

        now = int(time.time() // 3600)
        if not any(hmac.compare_digest(challenge, self.challenge(signer, kit_id, sha, h)) for h in (now, now - 1)):
            return False
        p = self.path(sha)
        if not p.exists() or p.stat().st_size != size:
            return False
        h = hashlib.sha256(bytes.fromhex(challenge))
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return hmac.compare_digest(h.hexdigest(), proof)

    # ------------------------------------------------------------ quota
    def check_quota(self, central: Central, kit_id: str, adding: int) -> None:
        """A kit stores at most KIT_QUOTA bytes of originals (its unfinished uploads count)."""
        d = self._inside("incoming", valid_uuid(kit_id))
        parts = sum(f.stat().st_size for f in d.glob("*.part")) if d.exists() else 0
        with central.sessions() as s:
            kit = s.get(Kit, kit_id)
            stored = kit.stored_bytes if kit is not None else 0
        if stored + parts + adding > KIT_QUOTA:
            raise CentralError(_("this kit's storage quota ({gb} GB) is used up: ask the administrator").format(
                gb=KIT_QUOTA // 1024**3), 413)

    @staticmethod
    def _account(central: Central, kit_id: str, n: int) -> None:
        if n:
            with central.sessions.begin() as s:
                s.execute(update(Kit).where(Kit.id == kit_id).values(stored_bytes=Kit.stored_bytes + n))

    # ------------------------------------------------------------ writing
    def append(self, kit_id: str, sha: str, offset: int, chunks: Any) -> int:
        """Append a chunk stream at ``offset`` (must equal what is held); returns the new size."""
        p = self._part(kit_id, sha)
        have = p.stat().st_size if p.exists() else 0
        if offset != have:
            raise CentralError(_("the upload of {sha} continues at byte {have}, not {offset}").format(
                sha=sha[:12], have=have, offset=offset), 409)
        n = 0
        with p.open("ab") as fh:
            try:
                for chunk in chunks:
                    n += len(chunk)
                    if n > CHUNK_LIMIT:
                        fh.truncate(have)
                        raise CentralError(_("a chunk may not exceed {CHUNK_LIMIT} bytes").format(
                            CHUNK_LIMIT=CHUNK_LIMIT), 413)
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            except OSError as exc:  # nothing of this chunk counts: the upload goes on from `have`
                with contextlib.suppress(OSError):
                    fh.truncate(have)
                raise _storage_error(exc) from exc
        return have + n

    def put_many(self, items: list[tuple[str, bytes]], central: Central | None = None,
                 kit_id: str | None = None) -> list[str | None]:
        """Store small blobs whole (a bundle): each checked against its SHA-256, written, fsynced,
        then renamed into place; returns per blob None (received whole) or what was wrong."""
        results: list[str | None] = []
        staged: list[tuple[Path, Path]] = []
        tmpdir = self._inside("incoming", "_bundles")
        tmpdir.mkdir(parents=True, exist_ok=True)
        added = 0
        seen: set[str] = set()
        for sha, data in items:
            if hashlib.sha256(data).hexdigest() != valid_sha256(sha):
                results.append(f"the bytes sent do not have the SHA-256 {sha}")
                continue
            results.append(None)
            if sha in seen or self.has(sha):
                continue
            seen.add(sha)
            tmp = tmpdir / f"{sha}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            try:
                write_all(fd, data)  # every byte, or an error (os.write alone may write short)
                os.fsync(fd)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                for staged_tmp, _dest in staged:
                    staged_tmp.unlink(missing_ok=True)
                raise _storage_error(exc) from exc
            finally:
                os.close(fd)
            staged.append((tmp, self.path(sha)))
            added += len(data)
        dirs = set()
        for tmp, dest in staged:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
            dirs.add(dest.parent)
        for d in dirs:  # the renames themselves survive a power cut
            fd = os.open(d, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        if central is not None and kit_id is not None:
            self._account(central, kit_id, added)
        return results

    def finish(self, central: Central | None, kit_id: str, sha: str, size: int) -> bool:
        """Check the SHA-256 of a complete upload and store it (if the server holds the file
        already, the upload proved the kit has it and is dropped); False (and the part removed)
        if wrong."""
        p = self._part(kit_id, sha)
        if not p.exists() or p.stat().st_size != size:
            return False
        h = hashlib.sha256()
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() != sha:
            p.unlink()
            return False
        dest = self.path(sha)
        if dest.exists():
            p.unlink()
            return True
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(p, dest)
        os.chmod(dest, 0o444)
        if central is not None:
            self._account(central, kit_id, size)
        return True

    def expire(self, older_than: timedelta = PART_LIFETIME) -> int:
        """Remove uploads left unfinished for longer than ``older_than``; returns how many."""
        import time

        cutoff = time.time() - older_than.total_seconds()
        removed = 0
        for p in (self.root / "incoming").glob("*/*"):
            try:
                if p.is_file() and p.stat().st_mtime < cutoff:
                    p.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def verify(self) -> dict[str, Any]:
        """Recompute every stored blob's SHA-256 (it names the blob)."""
        checked, bad, size = 0, [], 0
        for p in sorted((self.root / "objects").glob("*/*")):
            h = hashlib.sha256()
            with p.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
                    size += len(block)
            checked += 1
            if h.hexdigest() != p.name:
                bad.append({"sha256": p.name, "problem": f"its content hashes to {h.hexdigest()}"})
        return {"blobs_checked": checked, "bytes_checked": size, "problems": bad}


def _storage_error(exc: OSError) -> CentralError:
    """The server's disk refused a write: a named condition for the kit (it retries later)."""
    logging.getLogger("central.storage").error("evidence storage: %s", exc)
    if is_full(exc):
        return CentralError(_("the central server's evidence storage is full: the kit keeps its originals and "
                              "sends them at a later sync (the server's log records it for its administrator)"), 507)
    return CentralError(_("the central server cannot write its evidence storage now ({reason}): the kit sends the "
                          "originals at a later sync").format(reason=exc.strerror or exc), 503)


def _assigned_to(s: Session, kit: Kit, case_id: str) -> bool:
    """Whether the server assigned this case to a scope the kit sees (as the pull shows it)."""
    a = s.get(FeedItem, ("assignment", case_id))
    if a is None or a.deleted or a.kit_id not in (None, kit.id):
        return False
    mine = scope(kit.agency_code)
    return a.agency_code in ancestors(mine) or a.agency_code.startswith(mine)


# ---------------------------------------------------------------- the hierarchy
def scope(code: str | None) -> str:
    """The prefix a division code stands for: 450000 and 45 → 45 (province), 450100 and 4501 →
    4501 (city), 450103 → 450103 (county). Everything under an agency starts with its prefix."""
    if not code:
        return ""
    if len(code) == 6 and code.endswith("0000"):
        return code[:2]
    if len(code) == 6 and code.endswith("00"):
        return code[:4]
    return code


def within(viewer: str | None, item: str | None) -> bool:
    """Whether an agency (``viewer``; None = the provincial administrator) may see an item of
    agency ``item``: a county sees its county, a city its counties, the province everything."""
    if viewer is None:
        return True
    return scope(item).startswith(scope(viewer))


def ancestors(code: str) -> list[str]:
    """The prefixes of the agencies above ``code`` and its own (45, 4501, 450103)."""
    p = scope(code)
    return [p[:n] for n in (2, 4, 6) if n <= len(p)]


# ---------------------------------------------------------------- the feed (pull)
FEED_KINDS = ("agency", "officer", "source", "project", "checklist", "form", "number_block", "assignment",
              "comment")
PULL_LIMIT = 500


class Feed:
    """Base data, definitions, number blocks, assignments and review comments flowing down to kits,
    incrementally by server sequence number. The sequence row is locked until the transaction
    commits, so sequence numbers become visible in order and a pull ``since`` N never skips one."""

    def __init__(self, central: Central) -> None:
        self.central = central

    def publish(self, s: Session, kind: str, key: str, agency: str, body: dict[str, Any], *,
                kit_id: str | None = None, deleted: bool = False) -> int | None:
        """Put the newest version of an item in the feed; unchanged → no new sequence number."""
        if kind not in FEED_KINDS:
            raise CentralError(_("unknown feed kind {kind!r}").format(kind=kind))
        text = canonical(body).decode()
        row = s.get(FeedItem, (kind, key))
        if row is not None and row.body == text and row.deleted == deleted and row.agency_code == scope(agency):
            return None
        seq = next_seq(s)
        if row is None:
            s.add(FeedItem(kind=kind, key=key, agency_code=scope(agency), kit_id=kit_id, body=text, deleted=deleted,
                           server_seq=seq, updated_at=utcnow()))
        else:
            row.agency_code, row.kit_id, row.body, row.deleted = scope(agency), kit_id, text, deleted
            row.server_seq, row.updated_at = seq, utcnow()
        s.flush()
        return seq

    def pull(self, kit_id: str, agency: str, since: int, limit: int = PULL_LIMIT) -> dict[str, Any]:
        """Items a kit of ``agency`` may see changed after ``since``: its agency's, its ancestors'
        (province-wide checklists and forms) and its descendants'."""
        from sqlalchemy import and_, not_, or_

        limit = max(1, min(limit, 5000))
        mine = scope(agency)
        officer = and_(FeedItem.kind == "officer", FeedItem.key.contains("@"))  # per agency: exactly its kits
        with self.central.sessions() as s:
            rows = s.scalars(select(FeedItem).where(
                FeedItem.server_seq > since,
                or_(and_(not_(officer), or_(FeedItem.agency_code.in_(ancestors(mine)),
                                            FeedItem.agency_code.like(f"{mine}%"))),
                    and_(officer, FeedItem.agency_code == mine)),
                or_(FeedItem.kit_id.is_(None), FeedItem.kit_id == kit_id),
            ).order_by(FeedItem.server_seq).limit(limit + 1)).all()
            top = s.scalar(select(func.max(Sequence.value))) or 0
        more = len(rows) > limit
        rows = rows[:limit]
        items = [{"kind": r.kind, "key": r.key, "seq": r.server_seq, "agency_code": r.agency_code,
                  "deleted": r.deleted, "body": json.loads(r.body)} for r in rows]
        return {"items": items, "next": rows[-1].server_seq if more else max(since, top), "more": more}

    # ------------------------------------------------------------ what an administrator publishes
    def publish_items(self, kind: str, items: list[dict[str, Any]]) -> dict[str, int]:
        counts = {"published": 0, "unchanged": 0}
        with self.central.sessions.begin() as s:
            for it in items:
                seq = self.publish(s, kind, it["key"], it["agency"], it["body"], kit_id=it.get("kit_id"))
                counts["published" if seq else "unchanged"] += 1
        return counts

    def publish_definition(self, kind: str, path: Path) -> dict[str, Any]:
        """A document definition (``form``) or checklist, province-wide, keyed by its id."""
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CentralError(_("{path}: {exc}").format(path=path, exc=exc)) from None
        if not isinstance(body, dict) or not body.get("id") or not isinstance(body.get("version"), int):
            raise CentralError(_("{path}: a definition needs an 'id' and an integer 'version'").format(path=path))
        if kind == "form":
            from forms.model import parse

            try:
                parse(body, path.name)
            except (ValueError, TypeError) as exc:
                raise CentralError(_("{path}: not a valid document definition: {exc}").format(
                    path=path, exc=exc)) from None
        with self.central.sessions.begin() as s:
            old = s.get(FeedItem, (kind, body["id"]))
            if old is not None and json.loads(old.body).get("version", 0) > body["version"]:
                raise CentralError(_("{path}: version {version} is older than the published {published}").format(
                    path=path, version=body['version'], published=json.loads(old.body)['version']), 409)
            seq = self.publish(s, kind, body["id"], "45", body)
        return {"kind": kind, "id": body["id"], "version": body["version"], "server_seq": seq}

    def publish_base_data(self, kind: str, path: Path) -> dict[str, Any]:
        """Sources or projects from a CSV/XLSX file, checked by the kit's own importer (its errors
        name row and column); each keeps its id from one publication to the next (matched by
        credit code or EIA approval number, else by name and county)."""
        import tempfile

        from kit_app.db.models import Agency as KitAgency
        from kit_app.db.models import Project, Source
        from kit_app.services.importer import ImportService

        with tempfile.TemporaryDirectory() as tmp:
            from kit_app.db.store import open_store

            store = open_store(Path(tmp))
            try:
                imp = ImportService(store)
                actor = _system_actor()
                res = imp.import_sources(path, actor) if kind == "source" else imp.import_projects(path, actor)
                with store.session() as ks:
                    codes = dict(ks.execute(select(KitAgency.id, KitAgency.code)).all())
                    model = Source if kind == "source" else Project
                    rows = [_kit_row(r, codes) for r in ks.scalars(select(model))]
            finally:
                store.close()
        rejected = [{"row": r.row, "column": r.column, "reason": r.reason} for r in res.rejected]
        published = {"published": 0, "unchanged": 0}
        with self.central.sessions.begin() as s:
            existing = {json.loads(f.body).get("natural_key"): json.loads(f.body)["id"]
                        for f in s.scalars(select(FeedItem).where(FeedItem.kind == kind))}
            for body in rows:
                nat = (body.get("credit_code") or body.get("eia_approval_no")
                       or f"{body.get('county_code')}:{body['name']}")
                body["natural_key"] = nat
                body["id"] = existing.get(nat) or body["id"]
                seq = self.publish(s, kind, body["id"], body.get("county_code") or "45", body)
                published["published" if seq else "unchanged"] += 1
        return {"kind": kind, "file": str(path), "rejected": rejected, **published}


def _system_actor() -> Any:
    from kit_app.dto import OfficerInfo

    return OfficerInfo(id="central", name="central", cert_no="central", roles=("admin",), agency_code=None,
                       agency_name=None, active=True)


_LOCAL_COLUMNS = {"rid", "created_at", "updated_at", "origin_kit", "row_version", "name_py", "name_abbr",
                  "county_id", "source_id"}


def _kit_row(obj: Any, codes: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for col in obj.__table__.columns:
        if col.key in _LOCAL_COLUMNS:
            continue
        v = getattr(obj, col.key)
        body[col.name] = v.isoformat() if hasattr(v, "isoformat") else v
    body["county_code"] = codes.get(obj.county_id) if obj.county_id else None
    return body


# ---------------------------------------------------------------- officers as themselves
TOKEN_LIFETIME = timedelta(hours=12)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked against when the certificate number is unknown, so that costs what a wrong password does."""
    return hash_password(secrets.token_hex(16))


class Officers:
    """Officers signing in to the central server as themselves; what they may see follows the
    hierarchy (``within``), enforced here, not in a client."""

    def __init__(self, central: Central) -> None:
        self.central = central

    def login(self, cert_no: str, password: str) -> dict[str, Any]:
        """Five failures lock the account for 15 minutes (as on the kits). Every refusal is the
        same sentence, and an unknown certificate number costs the same time as a wrong password:
        nothing tells whether an account exists or is locked."""
        from kit_app.services.officers import verify_password

        now = utcnow()
        refused = CentralError(_("wrong certificate number or password (five failures lock the account for "
                                 "15 minutes)"), 401)
        with self.central.sessions.begin() as s:
            o = s.scalar(select(Officer).where(Officer.cert_no == cert_no.strip()).with_for_update())
            if o is None:
                verify_password(password, _dummy_hash())
                raise refused
            ok = verify_password(password, o.password_hash)
            if not o.active or (o.locked_until is not None and o.locked_until > now):
                raise refused
            if ok:
                o.failed_logins, o.locked_until = 0, None
                if o.kit_verifier is None:  # set before verifiers existed: derive it now the password is known
                    o.kit_verifier = hash_password(password)
                    s.flush()
                    publish_officer(s, self.central, o)
                token = secrets.token_urlsafe(32)
                s.add(OfficerToken(token_hash=_sha(token), officer_id=o.id, created_at=now,
                                   expires_at=now + TOKEN_LIFETIME))
                return {"token": token, "expires_at": (now + TOKEN_LIFETIME).isoformat()} | _officer(o)
            # counted in one statement (parallel guesses must not lose counts), committed when the
            # block ends: the count survives the refusal
            count = s.execute(update(Officer).where(Officer.id == o.id)
                              .values(failed_logins=Officer.failed_logins + 1)
                              .returning(Officer.failed_logins)).scalar()
            if count is not None and count >= MAX_FAILURES:
                s.execute(update(Officer).where(Officer.id == o.id).values(failed_logins=0,
                                                                           locked_until=now + LOCKOUT))
        raise refused

    def logout(self, token: str) -> None:
        with self.central.sessions.begin() as s:
            s.execute(delete(OfficerToken).where(OfficerToken.token_hash == _sha(token)))

    def officer_for(self, token: str) -> dict[str, Any] | None:
        with self.central.sessions() as s:
            t = s.get(OfficerToken, _sha(token))
            if t is None or t.expires_at < utcnow():
                return None
            o = s.get(Officer, t.officer_id)
            return _officer(o) if o is not None and o.active else None

    def cases(self, viewer: dict[str, Any]) -> list[dict[str, Any]]:
        """The cases the officer's agency may see (its own and those below it)."""
        with self.central.sessions() as s:
            q = select(Record).where(Record.entity == "case", Record.agency_code.like(f"{scope(viewer['agency'])}%"))
            out = []
            for r in s.scalars(q.order_by(Record.server_seq)):
                b = json.loads(r.body)
                out.append({"id": r.id, "number": b.get("number"), "title": b.get("title"),
                            "status": b.get("status"), "party_name": b.get("party_name"),
                            "agency_code": r.agency_code, "kit_id": r.kit_id, "opened_at": b.get("opened_at")})
            return out

    def case(self, viewer: dict[str, Any], case_id: str) -> dict[str, Any]:
        with self.central.sessions() as s:
            r = s.get(Record, ("case", case_id))
            if r is None or not within(viewer["agency"], r.agency_code):
                # the same answer for "not there" and "not yours": a county learns nothing of another
                raise CentralError(_("no case {case_id}").format(case_id=case_id), 404)
            items = [json.loads(b) for (b,) in s.execute(select(Record.body).where(
                Record.case_id == case_id, Record.entity == "evidence"))]
            docs = [json.loads(b) for (b,) in s.execute(select(Record.body).where(
                Record.case_id == case_id, Record.entity == "document"))]
            events = s.scalar(select(func.count()).select_from(CustodyEvent)
                              .where(CustodyEvent.case_id == case_id)) or 0
            comments = [json.loads(f.body) for f in s.scalars(select(FeedItem).where(
                FeedItem.kind == "comment").order_by(FeedItem.server_seq)) if json.loads(f.body)["case_id"] == case_id]
            return {"case": json.loads(r.body), "agency_code": r.agency_code, "kit_id": r.kit_id,
                    "evidence": items, "documents": docs, "custody_events": events, "comments": comments}

    def comment(self, viewer: dict[str, Any], case_id: str, text: str) -> dict[str, Any]:
        """A review comment on a case; it flows down to the kits of the case's agency."""
        from kit_app.ids import new_id

        if not ({"reviewer", "admin"} & set(viewer["roles"])):
            raise CentralError(_('only reviewers and administrators comment on cases'), 403)
        text = text.strip()
        if not text or len(text) > 4000:
            raise CentralError(_('a comment has 1 to 4000 characters'), 422)
        self.case(viewer, case_id)  # 404 when outside the viewer's agency
        with self.central.sessions.begin() as s:
            r = s.get(Record, ("case", case_id))
            body = {"id": new_id(), "case_id": case_id, "text": text, "author_name": viewer["name"],
                    "author_cert": viewer["cert_no"], "at": utcnow().isoformat()}
            Feed(self.central).publish(s, "comment", body["id"], r.agency_code, body)
            return body


def kit_code(code: str) -> str:
    """The kit's six-digit form of a division code: 45 → 450000, 4501 → 450100."""
    return code.ljust(6, "0")


def publish_officer(s: Session, central: Central, o: Officer, withdrawn: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """An officer flows down to the kits of their own agency (and of the agencies they are
    explicitly allowed on) with a verifier for offline sign-in — derived from the password with a
    salt of its own, never the hash the server's sign-in checks. Kits of other agencies receive
    nothing of them; an agency withdrawn gets the officer without a verifier (no sign-in there)."""
    body = {"id": o.id, "cert_no": o.cert_no, "name": o.name, "roles": o.roles,
            "agency_code": kit_code(o.agency_code), "active": o.active, "kit_verifier": o.kit_verifier}
    feed = Feed(central)
    for agency in sorted(_officer_agencies(o)):
        feed.publish(s, "officer", f"{o.cert_no}@{agency}", agency, body)
    for agency in sorted(withdrawn):
        feed.publish(s, "officer", f"{o.cert_no}@{agency}", agency, body | {"active": False, "kit_verifier": None})


def upgrade_data(central: Central) -> dict[str, int]:
    """Data changes that go with the schema (run by ``central.migrate.upgrade``): officers used to
    flow down with their server password hash, to every kit above and below their agency. Those
    feed items are replaced by a stub without any hash (a kit that pulled the old one forgets it)
    and the officer is published the new way (verifier, own agency's kits only)."""
    replaced = 0
    with central.sessions.begin() as s:
        for item in list(s.scalars(select(FeedItem).where(FeedItem.kind == "officer"))):
            if "@" in item.key:
                continue
            b = json.loads(item.body)
            stub = {k: b.get(k) for k in ("id", "cert_no", "name", "roles", "agency_code")} | {
                "active": False, "kit_verifier": None}
            Feed(central).publish(s, "officer", item.key, item.agency_code, stub)
            o = s.scalar(select(Officer).where(Officer.cert_no == item.key))
            if o is not None:
                publish_officer(s, central, o)
            replaced += 1
    return {"officer_items_replaced": replaced}


def _officer(o: Officer) -> dict[str, Any]:
    return {"id": o.id, "cert_no": o.cert_no, "name": o.name, "roles": o.roles.split(","), "agency": o.agency_code}
