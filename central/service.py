"""What the central server does, independent of HTTP: agencies, officers, enrolment of kits."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from central.db import Agency, Batch, CustodyEvent, EnrolCode, Kit, Officer, Record, Sequence, ServerMeta
from kit_app.services.officers import hash_password
from kit_app.timeutil import utcnow

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
CODE_LIFETIME = timedelta(days=7)


class CentralError(Exception):
    """A request the server refuses; ``status`` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)


class Central:
    def __init__(self, sessions: sessionmaker) -> None:  # type: ignore[type-arg]
        self.sessions = sessions

    # ------------------------------------------------------------ administration
    def add_agency(self, code: str, name: str, parent: str | None = None) -> dict[str, Any]:
        if not code.isdigit() or len(code) not in (2, 4, 6):
            raise CentralError(f"agency code {code!r}: a division code has 2, 4 or 6 digits (GB/T 2260)")
        if parent is None and len(code) > 2:
            parent = code[:-2] if len(code) == 6 else code[:2]
        with self.sessions.begin() as s:
            if s.get(Agency, code) is not None:
                raise CentralError(f"agency {code} exists already", 409)
            if parent is not None and s.get(Agency, parent) is None:
                raise CentralError(f"parent agency {parent} is not known: add it first", 404)
            s.add(Agency(code=code, name=name.strip(), parent_code=parent))
        return {"code": code, "name": name.strip(), "parent": parent}

    def add_officer(self, *, cert_no: str, name: str, roles: str, agency: str | None, password: str) -> dict[str, Any]:
        if len(password) < 8:
            raise CentralError("the password needs at least 8 characters")
        with self.sessions.begin() as s:
            if agency is not None and s.get(Agency, agency) is None:
                raise CentralError(f"agency {agency} is not known", 404)
            if s.scalar(select(Officer).where(Officer.cert_no == cert_no)) is not None:
                raise CentralError(f"an officer with certificate number {cert_no} exists already", 409)
            o = Officer(cert_no=cert_no, name=name, roles=roles, agency_code=agency,
                        password_hash=hash_password(password))
            s.add(o)
            s.flush()
            return {"id": o.id, "cert_no": cert_no, "name": name, "roles": roles.split(","), "agency": agency}

    def make_enrol_code(self, agency: str) -> dict[str, Any]:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
        code = "-".join(raw[i:i + 4] for i in range(0, 16, 4))
        now = utcnow()
        with self.sessions.begin() as s:
            if s.get(Agency, agency) is None:
                raise CentralError(f"agency {agency} is not known", 404)
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
            raise CentralError("the kit's public key is not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise CentralError("the kit's public key must be Ed25519")
        if not kit_id or len(kit_id) > 36:
            raise CentralError("the kit id is missing or too long")
        now = utcnow()
        credential = secrets.token_urlsafe(32)
        with self.sessions.begin() as s:
            row = s.get(EnrolCode, _sha(normalise_code(code)), with_for_update=True)
            if row is None:
                raise CentralError("unknown enrolment code", 403)
            if row.used_at is not None:
                raise CentralError("this enrolment code has been used already", 403)
            if row.expires_at < now:
                raise CentralError("this enrolment code has expired", 403)
            if s.get(Kit, kit_id) is not None:
                raise CentralError(f"kit {kit_id} is enrolled already", 409)
            row.used_at, row.used_by_kit = now, kit_id
            s.add(Kit(id=kit_id, agency_code=row.agency_code, public_key_pem=public_key_pem,
                      credential_hash=_sha(credential), name=name, enrolled_at=now))
            agency = s.get(Agency, row.agency_code)
            return {"kit_id": kit_id, "credential": credential, "agency_code": row.agency_code,
                    "agency_name": agency.name if agency else None}

    def kit_for(self, credential: str) -> dict[str, Any] | None:
        with self.sessions.begin() as s:
            kit = s.scalar(select(Kit).where(Kit.credential_hash == _sha(credential), Kit.revoked.is_(False)))
            if kit is None:
                return None
            kit.last_seen_at = utcnow()
            return {"kit_id": kit.id, "agency_code": kit.agency_code, "name": kit.name,
                    "enrolled_at": kit.enrolled_at.isoformat()}

    def kits(self, s: Session | None = None) -> list[dict[str, Any]]:
        with self.sessions() as s:
            return [{"kit_id": k.id, "agency_code": k.agency_code, "name": k.name,
                     "enrolled_at": k.enrolled_at.isoformat(),
                     "last_seen_at": k.last_seen_at.isoformat() if k.last_seen_at else None}
                    for k in s.scalars(select(Kit).order_by(Kit.enrolled_at))]


# ---------------------------------------------------------------- push
PUSHED = ("case", "evidence", "document")


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


class Push:
    """Accepting a kit's batch: custody chain checked, records upserted, a signed receipt."""

    def __init__(self, central: Central) -> None:
        self.central = central

    def signing_key(self, s: Session) -> Any:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        row = s.get(ServerMeta, "signing_key")
        if row is None:
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
            s.add(ServerMeta(key="signing_key", value=pem))
            s.flush()
            return key
        return serialization.load_pem_private_key(row.value.encode(), None)

    def public_key_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        with self.central.sessions.begin() as s:
            return self.signing_key(s).public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def _next_seq(self, s: Session) -> int:
        row = s.get(Sequence, "server", with_for_update=True)
        if row is None:
            row = Sequence(name="server", value=0)
            s.add(row)
        row.value += 1
        s.flush()
        return row.value

    def accept(self, kit_id: str, batch_id: str, records: list[dict[str, Any]],
               custody: list[dict[str, Any]]) -> dict[str, Any]:
        now = utcnow()
        with self.central.sessions.begin() as s:
            done = s.get(Batch, batch_id)
            if done is not None:
                if done.kit_id != kit_id:
                    raise CentralError(f"batch {batch_id} belongs to another kit", 409)
                return json.loads(done.receipt) | {"signature": done.signature, "replayed": True}
            kit = s.get(Kit, kit_id)
            if kit is None:
                raise CentralError("unknown kit", 401)
            first, last = self._custody(s, kit, custody, now)
            counts = self._records(s, kit, records, now, batch_seq := self._next_seq(s))
            receipt = {"batch_id": batch_id, "kit_id": kit_id, "server_seq": batch_seq,
                       "received_at": now.isoformat(), "records": counts, "custody": {"from": first, "to": last},
                       "content_sha256": hashlib.sha256(canonical({"records": records, "custody": custody})).hexdigest()}
            digest = hashlib.sha256(canonical(receipt)).hexdigest()
            signature = base64.b64encode(self.signing_key(s).sign(digest.encode("ascii"))).decode()
            s.add(Batch(batch_id=batch_id, kit_id=kit_id, server_seq=batch_seq, receipt=canonical(receipt).decode(),
                        signature=signature, received_at=now))
            return receipt | {"signature": signature, "replayed": False}

    def _custody(self, s: Session, kit: Kit, events: list[dict[str, Any]], now: Any) -> tuple[int | None, int | None]:
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
                    raise CentralError(f"custody event {seq} differs from the one this kit pushed before: "
                                       "custody events are append-only", 409)
                continue
            problem = None
            try:
                b = json.loads(body)
            except ValueError:
                b, problem = {}, "the event body is not JSON"
            if problem is None and seq != head_seq + 1:
                problem = f"event {head_seq + 1} is missing"
            elif problem is None and hashlib.sha256(body.encode("utf-8")).hexdigest() != ev["hash"]:
                problem = "its hash does not match its content"
            elif problem is None and (b.get("seq") != seq or b.get("kit_id") != kit.id or b.get("id") != ev["id"]):
                problem = "its body names another kit, sequence number or id"
            elif problem is None and b.get("prev_hash") != head_hash:
                problem = "it does not continue the chain (prev_hash)"
            elif problem is None and not check(ev["hash"].encode("ascii"), ev["signature"]):
                problem = "its signature is not the kit's"
            if problem is not None:
                raise CentralError(f"custody chain of kit {kit.id} broken at event {seq}: {problem}", 409)
            s.add(CustodyEvent(kit_id=kit.id, seq=seq, id=ev["id"], evidence_id=b["evidence_id"],
                               case_id=b["case_id"], body=body, prev_hash=b["prev_hash"], hash=ev["hash"],
                               signature=ev["signature"], received_at=now))
            head_seq, head_hash = seq, ev["hash"]
            first = seq if first is None else first
            last = seq
        s.flush()
        return first, last

    def _records(self, s: Session, kit: Kit, records: list[dict[str, Any]], now: Any, seq: int) -> dict[str, int]:
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        for r in records:
            entity, rid = r.get("entity"), r.get("id")
            if entity not in PUSHED or not rid:
                raise CentralError(f"a record must be one of {PUSHED} with an id", 422)
            body = canonical(r["body"]).decode()
            version = int(r.get("row_version") or 1)
            case_id = r["body"].get("case_id") if entity != "case" else rid
            old = s.get(Record, (entity, rid))
            if old is None:
                s.add(Record(entity=entity, id=rid, kit_id=kit.id, agency_code=kit.agency_code, case_id=case_id,
                             row_version=version, body=body, received_at=now, server_seq=seq))
                counts["new"] += 1
                continue
            if old.kit_id != kit.id:
                raise CentralError(f"{entity} {rid} was pushed by another kit", 409)
            if old.body == body:
                counts["unchanged"] += 1
            elif entity == "document":
                raise CentralError(f"issued document {rid} differs from the one pushed before: issued documents "
                                   "are append-only", 409)
            elif version >= old.row_version:
                old.body, old.row_version, old.received_at, old.server_seq = body, version, now, seq
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1  # an older version arriving late: the newer one stays
        return counts

    def blob_receipt(self, kit_id: str, sha: str, size: int) -> dict[str, Any]:
        with self.central.sessions.begin() as s:
            receipt = {"kind": "blob", "kit_id": kit_id, "sha256": sha, "size": size,
                       "server_seq": self._next_seq(s), "received_at": utcnow().isoformat()}
            digest = hashlib.sha256(canonical(receipt)).hexdigest()
            return receipt | {"signature": base64.b64encode(self.signing_key(s).sign(digest.encode("ascii"))).decode()}

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

    def verify(self) -> dict[str, Any]:
        """Every kit's stored custody chain: hashes, links and signatures."""
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
        return {"ok": not problems, "events_checked": checked, "problems": problems}


def _raw_public(pem: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem.encode()).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# ---------------------------------------------------------------- evidence blobs
CHUNK_LIMIT = 16 * 1024 * 1024


class BlobStore:
    """Evidence originals on the server's filesystem, content-addressed like the kit's
    (``objects/ab/<sha256>``); uploads in progress live in ``incoming/<kit>/<sha256>.part``.

    The interface (``has``, ``offset``, ``append``, ``finish``) is what an S3-compatible backend
    would implement with multipart uploads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "objects").mkdir(parents=True, exist_ok=True)
        (root / "incoming").mkdir(parents=True, exist_ok=True)

    def path(self, sha: str) -> Path:
        return self.root / "objects" / sha[:2] / sha

    def _part(self, kit_id: str, sha: str) -> Path:
        d = self.root / "incoming" / kit_id
        d.mkdir(parents=True, exist_ok=True)
        return d / f"{sha}.part"

    def has(self, sha: str) -> bool:
        return self.path(sha).exists()

    def offset(self, kit_id: str, sha: str) -> int:
        p = self._part(kit_id, sha)
        return p.stat().st_size if p.exists() else 0

    def append(self, kit_id: str, sha: str, offset: int, chunks: Any) -> int:
        """Append a chunk stream at ``offset`` (must equal what is held); returns the new size."""
        p = self._part(kit_id, sha)
        have = p.stat().st_size if p.exists() else 0
        if offset != have:
            raise CentralError(f"the upload of {sha[:12]} continues at byte {have}, not {offset}", 409)
        n = 0
        with p.open("ab") as fh:
            for chunk in chunks:
                n += len(chunk)
                if n > CHUNK_LIMIT:
                    raise CentralError(f"a chunk may not exceed {CHUNK_LIMIT} bytes", 413)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        return have + n

    def finish(self, kit_id: str, sha: str, size: int) -> bool:
        """Check the SHA-256 of a complete upload and store it; False (and the part removed) if wrong."""
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
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(p, dest)
        os.chmod(dest, 0o444)
        return True
