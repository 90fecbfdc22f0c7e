"""A case's history begins with the event that opened it (by an officer on the kit, or assigned
by the central server); ``kit_app.services.lifecycle`` appends the rest."""

from __future__ import annotations

from datetime import date, datetime

from kit_app.db.models import Case, CaseEvent
from kit_app.timeutil import LOCAL_TZ


def open_history(case: Case, *, state: str, procedure: str, action: str, at: datetime, kit_id: str,
                 actor_id: str | None = None, actor_name: str | None = None, actor_cert: str | None = None,
                 discovered_on: date | None = None) -> CaseEvent:
    """Put a new case in the procedure's first state and record how it was opened."""
    case.status = state
    case.procedure = procedure
    case.discovered_on = discovered_on or at.astimezone(LOCAL_TZ).date()
    event = CaseEvent(seq=1, action=action, from_state=None, to_state=state, at=at, actor_id=actor_id,
                      actor_name=actor_name, actor_cert=actor_cert, details="{}", kit_id=kit_id)
    case.events.append(event)
    return event
