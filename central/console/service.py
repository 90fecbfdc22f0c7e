"""What the supervisors' console shows and does, independent of HTTP: cases by step with their
deadlines (overdue first), kits and their syncs, points for the map, task dispatch, 双随机 draws and
the assessment statistics — each within what the viewer's agency may see (``within``).

Everything is read from the database on each call: nothing is kept in the process."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from central.db import Agency, Batch, Draw, FeedItem, Kit, Officer, Record
from central.service.common import CentralError, scope, within
from kit_app.i18n import N_, _
from kit_app.timeutil import local_today, to_local, utcnow

if TYPE_CHECKING:
    from central.service.admin import Central

TRANSCRIPTS = ("inspection_record", "interview_record", "hearing_transcript")  # 笔录
DISPATCHERS = {"agency_head", "admin"}  # who assigns tasks and makes draws
CATEGORIES = ("any", "water", "air", "waste", "noise", "key")
STALE = timedelta(days=3)  # a kit not heard from for this long is shown as out of touch


class Refusal(CentralError):
    """A refusal whose words are chosen when shown: the console answers each reader in their
    language (``str()`` gives the server's)."""

    def __init__(self, msgid: str, status: int, **params: Any) -> None:
        super().__init__(_(msgid).format(**params), status)
        self.msgid, self.params = msgid, params

    def text(self, gettext: Any) -> str:
        return str(gettext(self.msgid).format(**self.params))


@dataclass
class CaseRow:
    id: str
    number: str
    title: str
    party: str
    kind: str
    status: str
    agency_code: str
    kit_id: str
    opened_at: datetime | None
    closed: bool
    deadlines: list[Any] = field(default_factory=list)
    findings: int = 0
    lat: float | None = None
    lon: float | None = None

    @property
    def next_due(self) -> Any:
        open_ = [d for d in self.deadlines if d.open and d.kind == "due"]
        return min(open_, key=lambda d: d.due) if open_ else None

    @property
    def overdue(self) -> bool:
        return any(d.overdue for d in self.deadlines)


def _when(v: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(v)) if v else None
    except ValueError:
        return None


class Console:
    def __init__(self, central: Central) -> None:
        self.central = central

    # ------------------------------------------------------------ agencies and officers
    def agencies(self, viewer: dict[str, Any]) -> list[dict[str, Any]]:
        with self.central.sessions() as s:
            return [{"code": a.code, "name": a.name, "parent": a.parent_code}
                    for a in s.scalars(select(Agency).order_by(Agency.code)) if within(viewer["agency"], a.code)]

    def officers(self, viewer: dict[str, Any]) -> list[dict[str, Any]]:
        with self.central.sessions() as s:
            return [{"cert_no": o.cert_no, "name": o.name, "agency": o.agency_code, "roles": o.roles.split(",")}
                    for o in s.scalars(select(Officer).where(Officer.active.is_(True)).order_by(
                        Officer.agency_code, Officer.cert_no)) if within(viewer["agency"], o.agency_code)]

    # ------------------------------------------------------------ cases
    def cases(self, viewer: dict[str, Any], today: date | None = None) -> list[CaseRow]:
        """The cases and inspections the viewer's agency may see, overdue first (most overdue
        first), then by the nearest deadline, then newest."""
        from kit_app.services.lifecycle import CaseLifecycle

        life = CaseLifecycle(None)  # type: ignore[arg-type]  # reads pushed records only
        today = today or local_today()
        prefix = scope(viewer["agency"])
        rows: list[CaseRow] = []
        points: dict[str, list[tuple[float, float]]] = defaultdict(list)
        with self.central.sessions() as s:
            for case_id, lat, lon in s.execute(select(Record.case_id, Record.latitude, Record.longitude).where(
                    Record.entity == "evidence", Record.agency_code.like(f"{prefix}%"), Record.latitude.is_not(None))):
                points[case_id].append((float(lat), float(lon)))
            sources = self._source_points(s, prefix)
            for r in s.scalars(select(Record).where(Record.entity == "case", Record.agency_code.like(f"{prefix}%"))):
                b = json.loads(r.body)
                insp = b.get("inspection") if isinstance(b.get("inspection"), dict) else {}
                row = CaseRow(id=r.id, number=str(b.get("number") or ""), title=str(b.get("title") or ""),
                              party=str(b.get("party_name") or ""), kind=str(b.get("kind") or "case"),
                              status=str(b.get("status") or ""), agency_code=r.agency_code, kit_id=r.kit_id,
                              opened_at=_when(b.get("opened_at")), closed=bool(b.get("closed_at")),
                              deadlines=life.deadlines_of_record(b, today),
                              findings=len((insp or {}).get("findings") or []))
                if points.get(r.id):
                    row.lat = statistics.median(p[0] for p in points[r.id])
                    row.lon = statistics.median(p[1] for p in points[r.id])
                elif b.get("source_id") in sources:
                    row.lat, row.lon = sources[b["source_id"]]
                rows.append(row)

        def order(c: CaseRow) -> tuple[int, int, float]:
            nd = c.next_due
            overdue_days = max((-d.days_left for d in c.deadlines if d.overdue), default=0)
            return (0 if c.overdue else 1, -overdue_days if c.overdue else (nd.days_left if nd else 10**6),
                    -(c.opened_at.timestamp() if c.opened_at else 0))

        return sorted(rows, key=order)

    @staticmethod
    def _source_points(s: Any, prefix: str) -> dict[str, tuple[float, float]]:
        out = {}
        for body_text in s.scalars(select(FeedItem.body).where(FeedItem.kind == "source",
                                                                FeedItem.agency_code.like(f"{prefix}%"))):
            b = json.loads(body_text)
            if isinstance(b.get("latitude"), (int, float)) and isinstance(b.get("longitude"), (int, float)):
                out[str(b["id"])] = (float(b["latitude"]), float(b["longitude"]))
        return out

    def case(self, viewer: dict[str, Any], case_id: str) -> dict[str, Any]:
        from central.service import Officers
        from kit_app.services.lifecycle import CaseLifecycle

        try:
            detail = Officers(self.central).case(viewer, case_id)  # 404 outside the viewer's agency
        except CentralError as exc:
            raise Refusal(N_("No such case."), exc.status) from None
        detail["deadlines"] = CaseLifecycle(None).deadlines_of_record(detail["case"])  # type: ignore[arg-type]
        return detail

    # ------------------------------------------------------------ kits
    def kits(self, viewer: dict[str, Any]) -> list[dict[str, Any]]:
        now = utcnow()
        with self.central.sessions() as s:
            last_sync = dict(s.execute(select(Batch.kit_id, func.max(Batch.received_at)).group_by(Batch.kit_id)).all())
            records = dict(s.execute(select(Record.kit_id, func.count()).where(Record.entity == "case")
                                     .group_by(Record.kit_id)).all())
            names = dict(s.execute(select(Agency.code, Agency.name)).all())
            out = []
            for k in s.scalars(select(Kit).order_by(Kit.agency_code, Kit.enrolled_at)):
                if not within(viewer["agency"], k.agency_code):
                    continue
                synced = last_sync.get(k.id)
                seen = k.last_seen_at
                state = ("revoked" if k.revoked else "never" if seen is None
                         else "stale" if now - seen > STALE else "ok")
                out.append({"kit_id": k.id, "name": k.name or "", "agency_code": k.agency_code,
                            "agency_name": names.get(k.agency_code, k.agency_code), "enrolled_at": k.enrolled_at,
                            "last_seen_at": seen, "last_sync_at": synced, "cases": records.get(k.id, 0),
                            "state": state, "stored_bytes": k.stored_bytes})
            return out

    # ------------------------------------------------------------ tasks
    def tasks(self, viewer: dict[str, Any]) -> list[dict[str, Any]]:
        """Assignments within the viewer's agency, newest first, with whether a kit has taken them."""
        prefix = scope(viewer["agency"])
        with self.central.sessions() as s:
            taken = {rid: json.loads(b).get("status") for rid, b in s.execute(
                select(Record.id, Record.body).where(Record.entity == "case", Record.agency_code.like(f"{prefix}%")))}
            out = []
            for f in s.scalars(select(FeedItem).where(FeedItem.kind == "assignment", FeedItem.deleted.is_(False))
                               .order_by(FeedItem.server_seq.desc())):
                if not within(viewer["agency"], f.agency_code):
                    continue
                b = json.loads(f.body)
                out.append(b | {"taken": b["id"] in taken, "status": taken.get(b["id"]),
                                "assigned_at": _when(b.get("assigned_at"))})
            return out

    def assign(self, viewer: dict[str, Any], *, agency: str, title: str, party_name: str, source_id: str | None,
               officers: list[str], note: str = "") -> dict[str, Any]:
        self._dispatcher(viewer, agency)
        party = self._source(source_id, agency) if source_id else None
        if not title.strip():
            raise Refusal(N_("give the task a title"), 422)
        if not (party_name.strip() or party):
            raise Refusal(N_("choose a pollution source or type the party"), 422)
        self._team(officers, agency)
        return self.central.assign_case(
            agency=agency, title=title, party_name=party_name or (party or {}).get("name", ""),
            source_id=source_id, party_credit_code=(party or {}).get("credit_code"),
            party_address=(party or {}).get("address"), officers=officers, note=note)

    def _dispatcher(self, viewer: dict[str, Any], agency: str) -> None:
        if not DISPATCHERS & set(viewer["roles"]):
            raise Refusal(N_("only agency heads and administrators assign tasks and make draws"), 403)
        if not within(viewer["agency"], agency):
            raise Refusal(N_("agency {agency} is not within yours"), 403, agency=agency)
        with self.central.sessions() as s:
            if s.get(Agency, agency) is None:
                raise Refusal(N_("choose an agency from the list"), 422)

    def comment(self, viewer: dict[str, Any], case_id: str, text: str) -> dict[str, Any]:
        """A review comment from the console: the case must be within the viewer's agency."""
        from central.service import Officers

        self.case(viewer, case_id)  # one answer for "not there" and "not yours"
        if not {"reviewer", "admin"} & set(viewer["roles"]):
            raise Refusal(N_("only reviewers and administrators comment on cases"), 403)
        if not text.strip() or len(text.strip()) > 4000:
            raise Refusal(N_("write the comment (at most 4,000 characters)"), 422)
        return Officers(self.central).comment(viewer, case_id, text)

    def _team(self, certs: list[str], agency: str) -> None:
        if len(certs) < 2:
            raise Refusal(N_("an inspection is made by at least two officers: choose two or more"), 422)
        with self.central.sessions() as s:
            for cert in certs:
                o = s.scalar(select(Officer).where(Officer.cert_no == cert))
                if o is None or not o.active or not within(agency, o.agency_code):
                    raise Refusal(N_("officer {cert} is not an active officer of agency {agency}"), 422,
                        cert=cert, agency=agency)

    def _source(self, source_id: str, agency: str) -> dict[str, Any]:
        with self.central.sessions() as s:
            f = s.get(FeedItem, ("source", source_id))
            if f is None or f.deleted or not within(agency, f.agency_code):
                raise Refusal(N_("that pollution source is not in the base data of agency {agency}"), 422,
                    agency=agency)
            return dict(json.loads(f.body))

    def sources(self, viewer: dict[str, Any], limit: int = 500) -> list[dict[str, Any]]:
        prefix = scope(viewer["agency"])
        with self.central.sessions() as s:
            rows = [json.loads(b) for b in s.scalars(select(FeedItem.body).where(
                FeedItem.kind == "source", FeedItem.deleted.is_(False), FeedItem.agency_code.like(f"{prefix}%")))]
        return sorted(rows, key=lambda b: str(b.get("name")))[:limit]

    # ------------------------------------------------------------ 双随机 draws
    @staticmethod
    def _category(b: dict[str, Any], category: str) -> bool:
        return category == "any" or bool(b.get("key_monitored" if category == "key" else f"cat_{category}"))

    def draw(self, viewer: dict[str, Any], *, agency: str, title: str, parties: int, team: int = 2,
             category: str = "any") -> dict[str, Any]:
        """Draw ``parties`` pollution sources of the agency's base data at random, and for each a
        team of ``team`` of its active officers at random (an officer in one team per draw while
        there are enough); each becomes an inspection task; the draw is kept as it was made — the
        pool's hash and the seed, so that anyone can re-run it from the published record."""
        self._dispatcher(viewer, agency)
        if category not in CATEGORIES:
            raise Refusal(N_("unknown category {category}"), 422, category=category)
        if not 1 <= parties <= 500:
            raise Refusal(N_("draw 1 to 500 parties"), 422)
        if not 2 <= team <= 6:
            raise Refusal(N_("a team has 2 to 6 officers"), 422)
        title = title.strip() or _("Random inspection")
        prefix = scope(agency)
        with self.central.sessions() as s:
            pool = sorted((json.loads(b) for b in s.scalars(select(FeedItem.body).where(
                FeedItem.kind == "source", FeedItem.deleted.is_(False), FeedItem.agency_code.like(f"{prefix}%")))),
                key=lambda b: str(b["id"]))
            pool = [b for b in pool if self._category(b, category)]
            people = sorted((o.cert_no, o.name) for o in s.scalars(select(Officer).where(Officer.active.is_(True)))
                            if within(agency, o.agency_code) and "officer" in o.roles.split(","))
        if len(pool) < parties:
            raise Refusal(N_("the pool has {n} pollution sources: fewer than the {k} to draw"), 422,
                n=len(pool), k=parties)
        if len(people) < team:
            raise Refusal(N_("agency {agency} has {n} active officers: fewer than a team of {k}"), 422,
                agency=agency, n=len(people), k=team)
        seed = secrets.token_hex(16)
        result = self.replay(seed, [str(b["id"]) for b in pool], [c for c, _n in people], parties, team)
        by_id = {str(b["id"]): b for b in pool}
        names = dict(people)
        pool_sha = _pool_hash([str(b["id"]) for b in pool], [c for c, _n in people])
        now = utcnow()
        draw_id = _new_id()
        picks = []
        for source_id, certs in result:
            b = by_id[source_id]
            task = self.central.assign_case(
                agency=agency, title=f"{title}：{b['name']}", party_name=b["name"], source_id=source_id,
                party_credit_code=b.get("credit_code"), party_address=b.get("address"), officers=certs,
                note=_("drawn at random (draw {id})").format(id=draw_id[:8]))
            picks.append({"source_id": source_id, "name": b["name"], "credit_code": b.get("credit_code"),
                          "address": b.get("address"), "officers": [{"cert_no": c, "name": names[c]} for c in certs],
                          "task_id": task["id"]})
        with self.central.sessions.begin() as s:
            s.add(Draw(id=draw_id, agency_code=agency, at=now, title=title,
                       drawn_by=json.dumps({"name": viewer["name"], "cert_no": viewer["cert_no"],
                                            "agency": viewer["agency"]}, ensure_ascii=False),
                       params=json.dumps({"parties": parties, "team": team, "category": category,
                                          "pool_parties": len(pool), "pool_officers": len(people),
                                          "pool": [str(b["id"]) for b in pool],
                                          "officers": [c for c, _n in people]}, ensure_ascii=False),
                       pool_sha256=pool_sha, seed=seed, result=json.dumps(picks, ensure_ascii=False)))
        return self.draw_record(draw_id)

    @staticmethod
    def replay(seed: str, pool: list[str], officers: list[str], parties: int, team: int) -> list[tuple[str, list[str]]]:
        """The draw a seed makes from a pool (ids sorted), as anyone can recompute it: parties by
        ``random.Random(seed).sample``, then each team from the officers not yet drawn (all of them
        again once too few are left)."""
        rng = random.Random(seed)
        chosen = rng.sample(sorted(pool), parties)
        left = sorted(officers)
        out = []
        for source_id in chosen:
            if len(left) < team:
                left = sorted(officers)
            certs = sorted(rng.sample(left, team))
            left = [c for c in left if c not in certs]
            out.append((source_id, certs))
        return out

    def draw_record(self, draw_id: str) -> dict[str, Any]:
        """A draw as published (no login needed: 双随机、一公开)."""
        with self.central.sessions() as s:
            d = s.get(Draw, draw_id)
            if d is None:
                raise Refusal(N_("no such draw"), 404)
            agency = s.get(Agency, d.agency_code)
            params = json.loads(d.params)
            return {"id": d.id, "agency_code": d.agency_code, "agency_name": agency.name if agency else d.agency_code,
                    "at": d.at, "title": d.title, "drawn_by": json.loads(d.drawn_by), "params": params,
                    "pool_sha256": d.pool_sha256, "seed": d.seed, "result": json.loads(d.result),
                    "verified": _pool_hash(params["pool"], params["officers"]) == d.pool_sha256 and [
                        (p["source_id"], [o["cert_no"] for o in p["officers"]]) for p in json.loads(d.result)]
                    == self.replay(d.seed, params["pool"], params["officers"], params["parties"], params["team"])}

    def draws(self, viewer: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.central.sessions() as s:
            rows = s.scalars(select(Draw).order_by(Draw.at.desc())).all()
            names = dict(s.execute(select(Agency.code, Agency.name)).all())
        return [{"id": d.id, "at": d.at, "title": d.title, "agency_code": d.agency_code,
                 "agency_name": names.get(d.agency_code, d.agency_code), "parties": len(json.loads(d.result)),
                 "drawn_by": json.loads(d.drawn_by)["name"]}
                for d in rows if viewer is None or within(viewer["agency"], d.agency_code)]

    # ------------------------------------------------------------ assessment statistics
    def stats(self, viewer: dict[str, Any], year: int) -> list[dict[str, Any]]:
        """Per agency (the viewer's and those directly under it, each with everything below it) and in
        all: inspections, findings, transcripts, documents issued, cases opened and closed, closed with
        every deadline met — for cases opened (documents issued) in ``year`` (local time)."""
        with self.central.sessions() as s:
            agencies = {a.code: a for a in s.scalars(select(Agency))}
            mine = agencies.get(viewer["agency"])
            rows = [mine] if mine else []
            rows += sorted((a for a in agencies.values() if a.parent_code == viewer["agency"]), key=lambda a: a.code)
            prefix = scope(viewer["agency"])
            cases = [(r.agency_code, json.loads(r.body)) for r in s.scalars(select(Record).where(
                Record.entity == "case", Record.agency_code.like(f"{prefix}%")))]
            docs = [(r.agency_code, json.loads(r.body)) for r in s.scalars(select(Record).where(
                Record.entity == "document", Record.agency_code.like(f"{prefix}%")))]
        from kit_app.services.lifecycle import CaseLifecycle

        life = CaseLifecycle(None)  # type: ignore[arg-type]

        def in_year(v: Any) -> bool:
            t = to_local(_when(v))
            return t is not None and t.year == year

        def zero() -> dict[str, int]:
            return dict.fromkeys(("inspections", "findings", "transcripts", "documents", "cases", "closed",
                                  "closed_on_time"), 0)

        per: dict[str, dict[str, int]] = defaultdict(zero)
        for code, b in cases:
            if not in_year(b.get("opened_at")):
                continue
            n = per[code]
            if b.get("kind") == "inspection":
                n["inspections"] += 1
                n["findings"] += len(((b.get("inspection") or {}) if isinstance(b.get("inspection"), dict)
                                      else {}).get("findings") or [])
            else:
                n["cases"] += 1
                if b.get("closed_at"):
                    n["closed"] += 1
                    late = [d for d in life.deadlines_of_record(b) if d.kind == "due" and (
                        d.overdue or (d.met_on is not None and d.met_on > d.due))]
                    n["closed_on_time"] += not late
        for code, b in docs:
            if not in_year(b.get("issued_at")):
                continue
            per[code]["documents"] += 1
            per[code]["transcripts"] += b.get("doc_type") in TRANSCRIPTS
        out = []
        for a in rows:
            own_only = a.code == viewer["agency"] and len(rows) > 1  # the agency's own work, apart from below
            total = zero()
            for code, n in per.items():
                if (code == scope(a.code)) if own_only else within(a.code, code):
                    for k, v in n.items():
                        total[k] += v
            out.append({"code": a.code, "name": a.name, "own": own_only, **total,
                        "on_time_rate": round(100 * total["closed_on_time"] / total["closed"]) if total["closed"]
                        else None})
        all_ = zero()
        for n in per.values():
            for k, v in n.items():
                all_[k] += v
        out.append({"code": "", "name": "", "total": True, **all_,
                    "on_time_rate": round(100 * all_["closed_on_time"] / all_["closed"]) if all_["closed"] else None})
        return out


def _pool_hash(pool: list[str], officers: list[str]) -> str:
    return hashlib.sha256(json.dumps({"pool": sorted(pool), "officers": sorted(officers)},
                                     separators=(",", ":")).encode()).hexdigest()


def _new_id() -> str:
    from kit_app.ids import new_id

    return new_id()
