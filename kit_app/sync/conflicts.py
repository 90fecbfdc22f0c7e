"""Conflict rules, per field (documented in docs/sync.md; the server and the kit use the same).

Three kinds of field:

- **append-only** (issued documents, custody events, an evidence item's original: its SHA-256,
  size, kind, capture time): never changed once written. A different value arriving is refused
  (server: 409) — it can only come from tampering or a bug, and both must be loud.
- **workflow** (a case's ``status``, ``outcome``, ``closed_at`` and ``history``): the state only
  moves as the case procedure allows, each step appended to the case's history; of two versions the
  one with the longer history wins, whoever wrote it, and the shorter history must be the start of
  the longer (a history rewritten is refused like an append-only field). Versions without a history
  (kits before the case procedure) rank open < closed.
- **descriptive** (titles, parties, addresses, descriptions, places, seals, officers): resolved
  deterministically, never by clocks (a kit's clock may be hours off):
  - on the server, between versions from the kit that owns the record: the higher ``row_version``
    (the kit's own counter) wins;
  - on the kit, between an assignment changed on the server and the case edited on the kit: a
    three-way merge against the assignment as last applied — a field changed on one side only
    takes that side's value; changed on both sides, the side that owns the field wins: the
    supervisor owns the task (``title``, ``officers``, ``note``), the officer on site owns what
    was found there (the party's name, credit code and address).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kit_app.errors import KitError
from kit_app.i18n import _

LEGACY_RANK = {"open": 1, "closed": 2}

APPEND_ONLY: dict[str, frozenset[str]] = {
    "case": frozenset({"id", "number", "opened_at", "created_by_id", "origin_kit", "created_at"}),
    "evidence": frozenset({"id", "case_id", "kind", "sha256", "size", "captured_at", "captured_offset_min",
                           "captured_clock", "imported_at", "original_name", "media_type", "origin_kit",
                           "created_at"}),
}
WORKFLOW: dict[str, tuple[str, ...]] = {"case": ("status", "closed_at", "outcome", "history")}
SERVER_OWNED = frozenset({"title", "officers", "note"})
ASSIGNMENT_FIELDS = ("title", "party_name", "party_credit_code", "party_address", "officers", "note")


class ConflictError(KitError):
    """A change that no rule allows (an append-only field differs)."""

    def __init__(self, entity: str, entity_id: str, field: str) -> None:
        super().__init__(_("{entity} {id}: {field} is append-only and differs from the version held").format(
            entity=entity, id=entity_id, field=field))
        self.field = field


def _rank(body: dict[str, Any]) -> tuple[int, int]:
    history = body.get("history")
    return (len(history) if isinstance(history, list) else 0, LEGACY_RANK.get(str(body.get("status")), 0))


def merge_versions(entity: str, held: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """The server's merge of two versions of a record from the same kit (see the module doc)."""
    rid = str(held.get("id") or incoming.get("id"))
    for f in APPEND_ONLY.get(entity, ()):
        if f in held and f in incoming and held[f] is not None and held[f] != incoming[f]:
            raise ConflictError(entity, rid, f)
    old_h, new_h = held.get("history"), incoming.get("history")
    if isinstance(old_h, list) and isinstance(new_h, list):
        shorter, longer = sorted((old_h, new_h), key=len)
        if longer[:len(shorter)] != shorter:
            raise ConflictError(entity, rid, "history")
    newer, older = (incoming, held) if int(incoming.get("row_version") or 0) >= int(held.get("row_version") or 0) \
        else (held, incoming)
    out = dict(newer)
    wf = WORKFLOW.get(entity, ())
    if wf and _rank(older) > _rank(newer):
        for f in wf:
            out[f] = older.get(f)
    return out


def three_way(base: dict[str, Any] | None, local: dict[str, Any], remote: dict[str, Any],
              fields: Iterable[str] = ASSIGNMENT_FIELDS) -> tuple[dict[str, Any], list[str]]:
    """The kit's merge of a changed assignment into its case: the values to set and the fields where
    both sides had changed (resolved by ownership)."""
    base = base or {}
    out: dict[str, Any] = {}
    both: list[str] = []
    for f in fields:
        b, l_, r = base.get(f), local.get(f), remote.get(f)
        if r == b or r == l_:
            out[f] = l_  # nothing new from the server (or the same change on both sides)
        elif l_ == b:
            out[f] = r  # changed on the server only
        else:
            both.append(f)
            out[f] = r if f in SERVER_OWNED else l_
    return out, both
