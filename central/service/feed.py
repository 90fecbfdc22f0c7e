"""What kits pull: base data, definitions, assignments and comments, per agency."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.db import (
    FeedItem,
    Sequence,
)
from central.service.common import CentralError, _system_actor, ancestors, next_seq, scope
from kit_app.evidence.custody import canonical
from kit_app.i18n import _
from kit_app.timeutil import utcnow

if TYPE_CHECKING:
    from central.service.admin import Central


# ---------------------------------------------------------------- the feed (pull)
FEED_KINDS = ("agency", "officer", "source", "project", "checklist", "form", "number_block", "assignment",
              "comment", "review_step")


PULL_LIMIT = 500


class Feed:
    """Base data, definitions, number blocks, assignments and review comments flowing down to kits,
    incrementally by server sequence number. The sequence row is locked until the transaction
    commits, so sequence numbers become visible in order and a pull ``since`` N never skips one."""

    def __init__(self, central: Central) -> None:
        self.central = central

    def publish(self, s: Session, kind: str, key: str, agency: str, body: dict[str, Any], *,
                kit_id: str | None = None, deleted: bool = False) -> int | None:
        """Put the newest version of an item in the feed; unchanged → no new sequence number."""
        if kind not in FEED_KINDS:
            raise CentralError(_("unknown feed kind {kind!r}").format(kind=kind))
        text = canonical(body).decode()
        row = s.get(FeedItem, (kind, key))
        if row is not None and row.body == text and row.deleted == deleted and row.agency_code == scope(agency):
            return None
        seq = next_seq(s)
        if row is None:
            s.add(FeedItem(kind=kind, key=key, agency_code=scope(agency), kit_id=kit_id, body=text, deleted=deleted,
                           server_seq=seq, updated_at=utcnow()))
        else:
            row.agency_code, row.kit_id, row.body, row.deleted = scope(agency), kit_id, text, deleted
            row.server_seq, row.updated_at = seq, utcnow()
        s.flush()
        return seq

    def pull(self, kit_id: str, agency: str, since: int, limit: int = PULL_LIMIT) -> dict[str, Any]:
        """Items a kit of ``agency`` may see changed after ``since``: its agency's, its ancestors'
        (province-wide checklists and forms) and its descendants'."""
        from sqlalchemy import and_, not_, or_

        limit = max(1, min(limit, 5000))
        mine = scope(agency)
        officer = and_(FeedItem.kind == "officer", FeedItem.key.contains("@"))  # per agency: exactly its kits
        cols = (FeedItem.kind, FeedItem.key, FeedItem.server_seq, FeedItem.agency_code, FeedItem.deleted,
                FeedItem.body)
        with self.central.sessions.kw["bind"].connect() as s:  # a read: no session's bookkeeping
            rows = s.execute(select(*cols).where(
                FeedItem.server_seq > since,
                or_(and_(not_(officer), or_(FeedItem.agency_code.in_(ancestors(mine)),
                                            FeedItem.agency_code.like(f"{mine}%"))),
                    and_(officer, FeedItem.agency_code == mine)),
                or_(FeedItem.kit_id.is_(None), FeedItem.kit_id == kit_id),
            ).order_by(FeedItem.server_seq).limit(limit + 1)).all()
            top = s.scalar(select(func.max(Sequence.value))) or 0
        more = len(rows) > limit
        rows = rows[:limit]
        items = [{"kind": r.kind, "key": r.key, "seq": r.server_seq, "agency_code": r.agency_code,
                  "deleted": r.deleted, "body": json.loads(r.body)} for r in rows]
        return {"items": items, "next": rows[-1].server_seq if more else max(since, top), "more": more}

    # ------------------------------------------------------------ what an administrator publishes
    def publish_items(self, kind: str, items: list[dict[str, Any]]) -> dict[str, int]:
        counts = {"published": 0, "unchanged": 0}
        with self.central.sessions.begin() as s:
            for it in items:
                seq = self.publish(s, kind, it["key"], it["agency"], it["body"], kit_id=it.get("kit_id"))
                counts["published" if seq else "unchanged"] += 1
        return counts

    def publish_definition(self, kind: str, path: Path) -> dict[str, Any]:
        """A document definition (``form``) or checklist, province-wide, keyed by its id."""
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CentralError(_("{path}: {exc}").format(path=path, exc=exc)) from None
        if not isinstance(body, dict) or not body.get("id") or not isinstance(body.get("version"), int):
            raise CentralError(_("{path}: a definition needs an 'id' and an integer 'version'").format(path=path))
        if kind == "form":
            from forms.model import parse

            try:
                parse(body, path.name)
            except (ValueError, TypeError) as exc:
                raise CentralError(_("{path}: not a valid document definition: {exc}").format(
                    path=path, exc=exc)) from None
        with self.central.sessions.begin() as s:
            old = s.get(FeedItem, (kind, body["id"]))
            if old is not None and json.loads(old.body).get("version", 0) > body["version"]:
                raise CentralError(_("{path}: version {version} is older than the published {published}").format(
                    path=path, version=body['version'], published=json.loads(old.body)['version']), 409)
            seq = self.publish(s, kind, body["id"], "45", body)
        return {"kind": kind, "id": body["id"], "version": body["version"], "server_seq": seq}

    def publish_base_data(self, kind: str, path: Path) -> dict[str, Any]:
        """Sources or projects from a CSV/XLSX file, checked by the kit's own importer (its errors
        name row and column); each keeps its id from one publication to the next (matched by
        credit code or EIA approval number, else by name and county)."""
        import tempfile

        from kit_app.db.models import Agency as KitAgency
        from kit_app.db.models import Project, Source
        from kit_app.services.importer import ImportService

        with tempfile.TemporaryDirectory() as tmp:
            from kit_app.db.store import open_store

            store = open_store(Path(tmp))
            try:
                imp = ImportService(store)
                actor = _system_actor()
                res = imp.import_sources(path, actor) if kind == "source" else imp.import_projects(path, actor)
                with store.session() as ks:
                    codes = dict(ks.execute(select(KitAgency.id, KitAgency.code)).all())
                    model = Source if kind == "source" else Project
                    rows = [_kit_row(r, codes) for r in ks.scalars(select(model))]
            finally:
                store.close()
        rejected = [{"row": r.row, "column": r.column, "reason": r.reason} for r in res.rejected]
        published = {"published": 0, "unchanged": 0}
        with self.central.sessions.begin() as s:
            existing = {json.loads(f.body).get("natural_key"): json.loads(f.body)["id"]
                        for f in s.scalars(select(FeedItem).where(FeedItem.kind == kind))}
            for body in rows:
                nat = (body.get("credit_code") or body.get("eia_approval_no")
                       or f"{body.get('county_code')}:{body['name']}")
                body["natural_key"] = nat
                body["id"] = existing.get(nat) or body["id"]
                seq = self.publish(s, kind, body["id"], body.get("county_code") or "45", body)
                published["published" if seq else "unchanged"] += 1
        return {"kind": kind, "file": str(path), "rejected": rejected, **published}


_LOCAL_COLUMNS = {"rid", "created_at", "updated_at", "origin_kit", "row_version", "name_py", "name_abbr",
                  "county_id", "source_id"}


def _kit_row(obj: Any, codes: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for col in obj.__table__.columns:
        if col.key in _LOCAL_COLUMNS:
            continue
        v = getattr(obj, col.key)
        body[col.name] = v.isoformat() if hasattr(v, "isoformat") else v
    body["county_code"] = codes.get(obj.county_id) if obj.county_id else None
    return body
