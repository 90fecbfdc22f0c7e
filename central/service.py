"""What the central server does, independent of HTTP: agencies, officers, enrolment of kits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.db import Agency, EnrolCode, Kit, Officer
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
