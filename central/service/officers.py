"""Officers signed in to the server: sessions, lockout, their cases and comments."""

from __future__ import annotations

import functools
import json
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update

from central.db import (
    CustodyEvent,
    FeedItem,
    Officer,
    OfficerToken,
    Record,
)
from central.service.admin import _officer, publish_officer
from central.service.common import CentralError, _sha, scope, within
from central.service.feed import Feed
from kit_app.i18n import _
from kit_app.services.officers import hash_password
from kit_app.timeutil import utcnow

if TYPE_CHECKING:
    from central.service.admin import Central


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
            for r in s.scalars(q.order_by(Record.server_seq, Record.received_at)):
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
            # the papers whose signed copy is attached (an annotated custody event of the paper naming it)
            signed = sorted({eid for eid, body in s.execute(select(CustodyEvent.evidence_id, CustodyEvent.body).where(
                CustodyEvent.case_id == case_id, CustodyEvent.body.contains('"signed_copy"')))
                if (json.loads(body).get("details") or {}).get("signed_copy")})
            comments = [json.loads(f.body) for f in s.scalars(select(FeedItem).where(
                FeedItem.kind == "comment").order_by(FeedItem.server_seq)) if json.loads(f.body)["case_id"] == case_id]
            return {"case": json.loads(r.body), "agency_code": r.agency_code, "kit_id": r.kit_id,
                    "evidence": items, "documents": docs, "custody_events": events, "comments": comments,
                    "signed_copies": signed}

    # ------------------------------------------------------------ review at the central server
    def review_queue(self, viewer: dict[str, Any]) -> list[dict[str, Any]]:
        """Cases within the reviewer's agency waiting for review staff, with the step next and the
        steps sent to the case's kit that it has not applied (pushed back) yet."""
        from kit_app.services.review import WAITING

        _reviewer(viewer)
        with self.central.sessions() as s:
            rows = s.scalars(select(Record).where(Record.entity == "case",
                                                  Record.agency_code.like(f"{scope(viewer['agency'])}%")))
            out = []
            for r in rows:
                b = json.loads(r.body)
                if b.get("status") not in WAITING:
                    continue
                sent = [json.loads(f.body) for f in s.scalars(select(FeedItem).where(
                    FeedItem.kind == "review_step", FeedItem.kit_id == r.kit_id, FeedItem.server_seq > r.server_seq))]
                out.append({"id": r.id, "number": b.get("number"), "title": b.get("title"),
                            "party_name": b.get("party_name"), "status": b.get("status"),
                            "step": WAITING[b["status"]], "opened_at": b.get("opened_at"),
                            "history": b.get("history") or [], "agency_code": r.agency_code,
                            "record": {k: b.get(k) for k in ("status", "outcome", "kind", "opened_at",
                                                             "discovered_on", "history", "inspection")},
                            "pending": [x for x in sent if x.get("case_id") == r.id]})
            return out

    def review_step(self, viewer: dict[str, Any], case_id: str, action_id: str, reason: str | None) -> dict[str, Any]:
        """Check a review step against the case as last pushed (the procedure, the reviewer's roles,
        查处分离) and send it to the case's kit, which takes it — checked again — at its next sync."""
        from forms.procedure import case_procedure
        from kit_app.ids import new_id

        _reviewer(viewer)
        p = case_procedure()
        a = p.actions.get(action_id)
        if a is None or action_id not in REVIEW_STEPS:
            raise CentralError(_("{action} is not a review step").format(action=action_id), 422)
        self.case(viewer, case_id)  # 404 when outside the viewer's agency
        with self.central.sessions.begin() as s:
            r = s.get(Record, ("case", case_id))
            b = json.loads(r.body)
            if not set(viewer["roles"]) & a.roles:
                raise CentralError(_("{action} is for {roles}").format(action=a.label_en,
                                                                     roles=", ".join(sorted(a.roles))), 403)
            if b.get("status") not in a.from_states:
                raise CentralError(_("{action} is not possible while the case is at {state}").format(
                    action=a.label_en, state=b.get("status")), 409)
            if "not_investigator" in a.requires and viewer["id"] in (b.get("officers") or []):
                raise CentralError(_("the review is made by someone who did not investigate the case"), 403)
            reason = (reason or "").strip() or None
            if a.reason and reason is None:
                raise CentralError(_("{action}: give the reason").format(action=a.label_en), 422)
            body: dict[str, Any] = {"id": new_id(), "case_id": case_id, "action": action_id, "reason": reason,
                    "actor": {"id": viewer["id"], "name": viewer["name"], "cert_no": viewer["cert_no"],
                              "roles": list(viewer["roles"]), "agency": viewer["agency"]},
                    "at": utcnow().isoformat()}
            Feed(self.central).publish(s, "review_step", str(body["id"]), r.agency_code, body, kit_id=r.kit_id)
            return body

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


# the steps review staff take at the central server (archiving builds the case file: on the kit)
REVIEW_STEPS = ("start_review", "approve_review", "return_to_investigation", "review_opinion", "refer_legal_review",
                "approve_legal_review", "return_from_legal_review")


def _reviewer(viewer: dict[str, Any]) -> None:
    if not {"reviewer", "agency_head", "admin"} & set(viewer["roles"]):
        raise CentralError(_("only review staff see the review queue"), 403)
