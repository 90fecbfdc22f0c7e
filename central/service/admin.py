"""Agencies, officers, enrolment codes and kits: the central server's administration."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from central.db import (
    Agency,
    EnrolCode,
    FeedItem,
    Kit,
    Officer,
    OfficerToken,
)
from central.service.common import (
    CODE_ALPHABET,
    CODE_LIFETIME,
    LAST_SEEN_RESOLUTION,
    CentralError,
    _sha,
    kit_code,
    next_seq,
    normalise_code,
    scope,
    valid_uuid,
    within,
)
from central.service.feed import Feed
from kit_app.i18n import _
from kit_app.services.officers import hash_password
from kit_app.timeutil import utcnow


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

    def set_agency(self, code: str, *, court: str | None = None, review_body: str | None = None,
                   seal_text: str | None = None) -> dict[str, Any]:
        """The 管辖法院 and 复议机关 an agency's decisions name (an empty value clears one: the kit then
        derives the review body and asks the officer for the court), and the words of its seal (printed
        where the seal is pressed; empty: its name); sent to its kits."""
        with self.sessions.begin() as s:
            a = s.get(Agency, code)
            if a is None:
                raise CentralError(_("agency {code} is not known").format(code=code), 404)
            for attr, value in (("court", court), ("review_body", review_body), ("seal_text", seal_text)):
                if value is None:
                    continue
                value = value.strip()
                if len(value) > 60:
                    raise CentralError(_("{what}: at most 60 characters").format(what=attr))
                setattr(a, attr, value or None)
            body = {"code": kit_code(code), "name": a.name,
                    "parent": kit_code(a.parent_code) if a.parent_code else None,
                    "court": a.court, "review_body": a.review_body, "seal_text": a.seal_text}
            Feed(self).publish(s, "agency", code, code, body)
        return {"code": code, "name": body["name"], "court": body["court"], "review_body": body["review_body"],
                "seal_text": body["seal_text"]}

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
        h = _sha(credential)
        # every request asks: one read on a plain connection (no session's bookkeeping), and a write
        # only when something changed
        with self.sessions.kw["bind"].connect() as s:
            kit = s.execute(_KIT_BY_CREDENTIAL, {"h": h}).first()
            now = utcnow()
            if kit is None or kit.revoked or (kit.credential_expires_at is not None
                                              and kit.credential_expires_at < now):
                return None
            changes: dict[str, Any] = {}
            if kit.credential_hash == h and kit.previous_credential_hash is not None:
                changes["previous_credential_hash"] = None  # the renewed credential has arrived: the old one ends
            if kit.last_seen_at is None or now - kit.last_seen_at > LAST_SEEN_RESOLUTION:
                changes["last_seen_at"] = now  # not on every request: a write (and an fsync) per request is costly
            if changes:
                if "previous_credential_hash" not in changes and s.dialect.name == "postgresql":
                    # when a kit was last heard from is worth no disk flush of its own: PostgreSQL
                    # writes it with the next flush (it is lost only with a crash in between)
                    s.execute(text("SET LOCAL synchronous_commit TO OFF"))
                s.execute(update(Kit).where(Kit.id == kit.id).values(**changes))
                s.commit()
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
            body: dict[str, Any] = {"id": new_id(), "agency_code": code, "doc_type": doc_type, "year": year,
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


def _kit_by_credential() -> Any:
    from sqlalchemy import bindparam, or_

    return select(Kit.id, Kit.agency_code, Kit.name, Kit.enrolled_at, Kit.credential_expires_at, Kit.revoked,
                  Kit.credential_hash, Kit.previous_credential_hash, Kit.last_seen_at).where(
        or_(Kit.credential_hash == bindparam("h"), Kit.previous_credential_hash == bindparam("h")))


_KIT_BY_CREDENTIAL = _kit_by_credential()  # built once: the statement every request runs


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
