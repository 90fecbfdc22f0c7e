"""Recording an access in the access log (``access_events``), in the caller's transaction: the
actions it knows and their outcomes. Every layer that sees an access records it here; the
access-log service (``kit_app.services.audit``) reads and filters it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from kit_app.db.models import AccessEvent
from kit_app.dto import OfficerInfo
from kit_app.i18n import N_, _
from kit_app.timeutil import utcnow

OK, FAILED, REFUSED = "ok", "failed", "refused"
OUTCOMES = {OK: N_("done"), FAILED: N_("failed"), REFUSED: N_("refused")}
ACTIONS = {
    "login": N_("signed in"),
    "login.failed": N_("sign-in failed"),
    "original.view": N_("original opened"),
    "paper.print": N_("paper printed"),
    "case.export": N_("court pack exported"),
    "custody.export": N_("custody log exported"),
    "action.refused": N_("action refused"),
    "admin": N_("administration"),
}
# what administrators change (kept in their own log too, ``admin_events``)
ADMIN_ACTIONS = {
    "officer.add": N_("officer added"), "officer.roles": N_("roles changed"),
    "officer.deactivate": N_("officer deactivated"), "officer.activate": N_("officer reactivated"),
    "officer.unlock": N_("account unlocked"), "officer.password": N_("password reset"),
    "agency.settings": N_("agency settings changed"), "numbers.block": N_("number block reserved"),
    "device.config": N_("device configuration changed"), "central.enrol": N_("enrolled with the central server"),
}


def label(action: str) -> str:
    """The action as the log shows it (an administrator's change by its own name)."""
    if action.startswith("admin."):
        return _(ADMIN_ACTIONS.get(action[len("admin."):], ACTIONS["admin"]))
    return _(ACTIONS.get(action, action))


def add(s: Session, kit_id: str, actor: OfficerInfo | None, action: str, *, outcome: str = OK, target: str = "",
        case_id: str | None = None, details: dict[str, Any] | None = None) -> AccessEvent:
    """Record an access in the caller's transaction (it commits with what it records)."""
    assert outcome in OUTCOMES and (action in ACTIONS or action.startswith("admin."))
    ev = AccessEvent(at=utcnow(), kit_id=kit_id, actor_id=actor.id if actor else None,
                     actor_name=actor.name if actor else None, actor_cert=actor.cert_no if actor else None,
                     action=action, outcome=outcome, target=(target or "")[:200], case_id=case_id,
                     details=json.dumps(details or {}, ensure_ascii=False))
    s.add(ev)
    return ev
