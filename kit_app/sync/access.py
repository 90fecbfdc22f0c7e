"""The access log goes up to the central server in batches, each acknowledged by a signed receipt
over exactly what was sent (checked against the pinned key) before the kit counts it as synced.
The kit's place in its log is the table's rowid, which only grows (the log is append-only)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, literal_column, select

from kit_app.db import Store
from kit_app.db.models import AccessEvent, KitMeta
from kit_app.evidence.custody import canonical
from kit_app.i18n import _
from kit_app.sync import trust

ACKED_KEY = "access_acked"
BATCH = 1000
_ROWID: Any = literal_column("access_events.rowid")


def entry(e: AccessEvent) -> dict[str, Any]:
    """One entry as it travels (and as the server keeps it)."""
    actor = {"id": e.actor_id, "name": e.actor_name, "cert_no": e.actor_cert} if e.actor_id or e.actor_name else None
    return {"id": e.id, "at": e.at.isoformat(), "action": e.action, "outcome": e.outcome, "actor": actor,
            "target": e.target or "", "case_id": e.case_id, "details": json.loads(e.details)}


def _acked(s: Any) -> int:
    return int((s.get(KitMeta, ACKED_KEY) or KitMeta(value="0")).value)


def pending(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(AccessEvent).where(_ROWID > _acked(s))) or 0)


def push_access(store: Store, client: Any, server_raw: bytes, call: Any) -> dict[str, int]:
    """Send what the server has not acknowledged, batch after batch (``call`` is the client's
    request helper, which names the server when it cannot be reached or refuses)."""
    sent = 0
    while True:
        with store.session() as s:
            rows = s.execute(select(_ROWID, AccessEvent).where(_ROWID > _acked(s)).order_by(_ROWID).limit(BATCH)).all()
            events = [entry(e) for _rowid, e in rows]
        if not events:
            return {"access_events": sent}
        last = int(rows[-1][0])
        got = call(client, "POST", "/api/v1/access", lambda status, detail: _(
            "the central server refused the access log ({status}): {detail}").format(status=status, detail=detail),
            json={"events": events}).json()
        signature = got.pop("signature", None) if isinstance(got, dict) else None
        digest = hashlib.sha256(canonical(events)).hexdigest()
        if not (isinstance(got, dict) and isinstance(signature, str)
                and trust.signature_ok(got, signature, server_raw) and got.get("kind") == "access"
                and got.get("kit_id") == store.kit_id and got.get("content_sha256") == digest
                and got.get("count") == len(events)):
            raise trust.TrustError(_("the central server's receipt for the access log fails its check. Nothing is "
                                     "marked as synced; tell the administrator"))
        with store.write_session() as s:
            s.merge(KitMeta(key=ACKED_KEY, value=str(last)))
        sent += len(events)
