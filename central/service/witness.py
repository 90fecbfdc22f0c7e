"""What the server vouches for beyond a receipt: the head of each kit's custody chain, countersigned
at every sync (history rewritten after a sync can then be told: the head countersigned before must
still be an event of the chain, as in Certificate Transparency's consistency check), the server's
time at that moment (the kit measures its clock's offset from it), and the kits' access logs."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from central.db import AccessEvent, CustodyEvent, CustodyHead, Kit
from central.service.common import CentralError
from kit_app.evidence.custody import GENESIS, canonical
from kit_app.i18n import _
from kit_app.timeutil import utcnow

if TYPE_CHECKING:
    from central.service.admin import Central
    from central.signing import Signer


class Witness:
    def __init__(self, central: Central, signer: Signer | None) -> None:
        self.central = central
        self.signer = signer

    def _sign(self, body: dict[str, Any]) -> str:
        assert self.signer is not None, "a Witness that signs needs the server's signer"
        return self.signer.sign(hashlib.sha256(canonical(body)).hexdigest())

    # ------------------------------------------------------------ custody heads
    def countersign(self, kit_id: str, seq: int, head_hash: str, kit_time: str) -> dict[str, Any]:
        """Countersign the kit's head (seq, hash) if it is the last event this server holds of the
        kit's chain; refused (409) if the server holds another event there or more events than the
        kit claims (a chain rolled back or rewritten), or if a head countersigned before is no longer
        part of the chain."""
        now = utcnow()
        with self.central.sessions.begin() as s:
            if s.get(Kit, kit_id) is None:
                raise CentralError(_("unknown kit"), 401)
            top = s.scalar(select(func.max(CustodyEvent.seq)).where(CustodyEvent.kit_id == kit_id)) or 0
            if seq != top:
                raise CentralError(_("the kit's custody chain ends at event {seq}, but this server holds {top} events "
                                     "of it: push first; a chain shorter than what was pushed was rolled back").format(
                    seq=seq, top=top), 409)
            held = s.get(CustodyEvent, (kit_id, seq)) if seq else None
            if (held.hash if held else GENESIS) != head_hash:
                raise CentralError(_("event {seq} of the kit's custody chain is not the one this server holds: the "
                                     "chain was rewritten").format(seq=seq), 409)
            last = s.scalar(select(CustodyHead).where(CustodyHead.kit_id == kit_id)
                            .order_by(CustodyHead.seq.desc()).limit(1))
            if last is not None and last.seq:
                was = s.get(CustodyEvent, (kit_id, last.seq))
                if was is None or was.hash != last.hash:
                    raise CentralError(_("the head countersigned at event {seq} is no longer part of the kit's "
                                         "chain").format(seq=last.seq), 409)
            body = {"kind": "custody_head", "kit_id": kit_id, "seq": seq, "hash": head_hash,
                    "countersigned_at": now.isoformat(), "kit_time": kit_time,
                    "previous": {"seq": last.seq, "hash": last.hash} if last is not None else None}
            signature = self._sign(body)
            if s.get(CustodyHead, (kit_id, seq)) is None:  # the first countersignature of a head is the one kept
                s.add(CustodyHead(kit_id=kit_id, seq=seq, hash=head_hash, body=canonical(body).decode(),
                                  signature=signature, countersigned_at=now))
            return body | {"signature": signature}

    def heads(self, kit_id: str) -> list[dict[str, Any]]:
        with self.central.sessions() as s:
            return [json.loads(h.body) | {"signature": h.signature} for h in s.scalars(
                select(CustodyHead).where(CustodyHead.kit_id == kit_id).order_by(CustodyHead.seq))]

    # ------------------------------------------------------------ access logs
    def accept_access(self, kit_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Keep a batch of the kit's access log (each entry once, by its id; an entry sent again
        with other content is refused: the log is append-only); a signed receipt."""
        now = utcnow()
        digest = hashlib.sha256(canonical(events)).hexdigest()
        with self.central.sessions.begin() as s:
            if s.get(Kit, kit_id) is None:
                raise CentralError(_("unknown kit"), 401)
            ids = [e["id"] for e in events]
            held = {a.id: a for a in s.scalars(select(AccessEvent).where(AccessEvent.id.in_(ids)))} if ids else {}
            new = 0
            for e in events:
                body = canonical(e).decode()
                old = held.get(e["id"])
                if old is not None:
                    if old.kit_id != kit_id or old.body != body:
                        raise CentralError(_("access log entry {id} differs from the one sent before: the access log "
                                             "is append-only").format(id=e["id"]), 409)
                    continue
                s.add(AccessEvent(id=e["id"], kit_id=kit_id, at=datetime.fromisoformat(e["at"]), action=e["action"],
                                  outcome=e["outcome"], actor_cert=(e.get("actor") or {}).get("cert_no"), body=body,
                                  received_at=now))
                new += 1
            receipt = {"kind": "access", "kit_id": kit_id, "count": len(events), "new": new,
                       "content_sha256": digest, "received_at": now.isoformat()}
            return receipt | {"signature": self._sign(receipt)}

    def access_log(self, kit_id: str | None = None, action: str | None = None,
                   limit: int = 1000) -> list[dict[str, Any]]:
        with self.central.sessions() as s:
            q = select(AccessEvent).order_by(AccessEvent.at.desc()).limit(limit)
            if kit_id:
                q = q.where(AccessEvent.kit_id == kit_id)
            if action:
                q = q.where(AccessEvent.action == action)
            return [json.loads(a.body) | {"kit_id": a.kit_id} for a in s.scalars(q)]
