"""The access log: who signed in (and who failed to), who viewed an original, printed a paper,
exported a case or its custody log, was refused an action, or changed what administrators change.
Custody events already record what happens to evidence; this log records the rest, append-only,
and syncs to the central server (``kit_app.sync.access``). An administrator lists and filters it."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from kit_app import roles as R
from kit_app.db import Store
from kit_app.db.access import ACTIONS, ADMIN_ACTIONS, FAILED, OK, OUTCOMES, REFUSED, add, label
from kit_app.db.models import AccessEvent
from kit_app.dto import OfficerInfo
from kit_app.i18n import _

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class AccessRow:
    id: str
    at: datetime
    actor: str
    action: str
    action_label: str
    outcome: str
    outcome_label: str
    target: str
    details: dict[str, Any]


def is_refusal(exc: BaseException) -> bool:
    """A refused action (roles, procedure rules, a closed case): the access log records it."""
    return bool(getattr(exc, "refusal", False))


def record_refusal(store: Store, actor: OfficerInfo | None, exc: BaseException, what: str = "") -> None:
    """Record ``exc`` in the access log if it is a refused action."""
    if is_refusal(exc):
        AuditService(store).refused(actor, str(exc), what)


class AuditService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, actor: OfficerInfo | None, action: str, *, outcome: str = OK, target: str = "",
               case_id: str | None = None, details: dict[str, Any] | None = None) -> None:
        """Record an access in a transaction of its own. A read-only store (an archived kit being
        browsed) records nothing: it is logged instead."""
        if self.store.read_only:
            log.info("access not recorded (read-only store): %s %s %s", action, outcome, target)
            return
        with self.store.write_session() as s:
            add(s, self.store.kit_id, actor, action, outcome=outcome, target=target, case_id=case_id, details=details)

    def refused(self, actor: OfficerInfo | None, message: str, what: str = "") -> None:
        """Record a refused action, with the sentence the officer was shown."""
        self.record(actor, "action.refused", outcome=REFUSED, target=what, details={"message": message})

    def query(self, viewer: OfficerInfo | None, *, action: str | None = None, outcome: str | None = None,
              who: str | None = None, since: datetime | None = None, until: datetime | None = None,
              limit: int = 2000) -> list[AccessRow]:
        """The log, newest first, filtered (``action`` a key of ACTIONS or ``admin``; ``who`` a
        name or certificate number, or part of one). Administrators only."""
        R.require(viewer, "officers.manage")
        q = select(AccessEvent).order_by(AccessEvent.at.desc(), AccessEvent.id.desc()).limit(limit)
        if action == "admin":
            q = q.where(AccessEvent.action.like("admin.%"))
        elif action:
            q = q.where(AccessEvent.action == action)
        if outcome:
            q = q.where(AccessEvent.outcome == outcome)
        if who and who.strip():
            pat = f"%{who.strip()}%"
            q = q.where(or_(AccessEvent.actor_name.like(pat), AccessEvent.actor_cert.like(pat),
                            AccessEvent.target.like(pat)))
        if since is not None:
            q = q.where(AccessEvent.at >= since)
        if until is not None:
            q = q.where(AccessEvent.at < until)
        with self.store.session() as s:
            return [AccessRow(
                id=e.id, at=e.at, actor=f"{e.actor_name}（{e.actor_cert}）" if e.actor_name else _("unknown"),
                action=e.action, action_label=label(e.action), outcome=e.outcome,
                outcome_label=_(OUTCOMES.get(e.outcome, e.outcome)), target=e.target or "",
                details=json.loads(e.details)) for e in s.scalars(q)]


__all__ = ["ACTIONS", "ADMIN_ACTIONS", "FAILED", "OK", "OUTCOMES", "REFUSED", "AccessRow", "AuditService", "add",
           "is_refusal", "label", "record_refusal"]
