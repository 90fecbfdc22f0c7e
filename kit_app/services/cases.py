"""Cases: a case belongs to a party (a pollution source, or an unlisted party entered by hand)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from forms.procedure import case_procedure
from kit_app import creditcode
from kit_app import roles as R
from kit_app.db import Store
from kit_app.db.history import open_history
from kit_app.db.models import Agency, Case, CaseAssignment, CaseComment, CaseOfficer, KitMeta, Officer, Source
from kit_app.db.numbering import PROVINCE_CODE, next_case_number
from kit_app.dto import CaseDetail, CaseOfficerInfo, CaseRow, OfficerInfo
from kit_app.errors import NotFound, UsageError, ValidationError
from kit_app.i18n import _, language
from kit_app.ids import is_uuid
from kit_app.sync.state import case_state, waiting_by_case
from kit_app.timeutil import utcnow


def status_label(status: str) -> str:
    """A case state's name in the language of the interface."""
    state = case_procedure().states.get(status)
    if state is None:
        return status
    return state.label if language() == "zh_CN" else state.label_en


def case_row(c: Case) -> CaseRow:
    return CaseRow(
        id=c.id,
        number=c.number,
        title=c.title,
        status=c.status,
        party_name=c.party_name,
        source_id=c.source_id,
        opened_at=c.opened_at,
        officers=tuple(co.officer.name for co in c.officers),
        kind=c.kind,
    )


class CaseService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------ party
    def resolve_party(self, s: Session, ref: str) -> Source | None:
        """A source by id, credit code or exact name; None if the party is not in the database."""
        ref = ref.strip()
        if is_uuid(ref):
            src = s.scalar(select(Source).where(Source.id == ref))
            if src is None:
                raise UsageError(_("No pollution source with id {id}.").format(id=ref))
            return src
        code = creditcode.normalise(ref)
        if len(code) == 18 and creditcode.is_valid(code):
            src = s.scalar(select(Source).where(Source.credit_code == code))
            if src is not None:
                return src
        matches = list(s.scalars(select(Source).where(Source.name == ref).limit(10)))
        if len(matches) > 1:
            listing = "; ".join(f"{m.id} {m.credit_code or ''}".strip() for m in matches)
            raise UsageError(
                _("{n} sources are named {name}: give the id or credit code instead ({listing}).").format(
                    n=len(matches), name=ref, listing=listing
                )
            )
        return matches[0] if matches else None

    # ------------------------------------------------------------ create
    def create(
        self,
        *,
        party: str,
        title: str,
        actor: OfficerInfo | None = None,
        officer_ids: list[str] | tuple[str, ...] = (),
        party_credit_code: str | None = None,
        party_address: str | None = None,
        source_id: str | None = None,
        discovered_on: date | None = None,
        kind: str = "case",
        with_case: Callable[[Session, Case], None] | None = None,
    ) -> CaseDetail:
        """Open a case (at the first state of the case procedure: filing for approval). ``party`` is
        a source id / credit code / exact name, or a free-text name; ``discovered_on`` the local date
        the violation was found (today if not given), from which the filing period runs."""
        R.require(actor, "case.create")
        title = title.strip()
        if not title:
            raise ValidationError(_("The case title is missing."), "title")
        if len(title) > 200:
            raise ValidationError(_("The case title is longer than 200 characters."), "title")
        with self.store.session() as s:
            src = s.scalar(select(Source).where(Source.id == source_id)) if source_id else None
            if source_id and src is None:
                raise NotFound(_("No pollution source with id {id}.").format(id=source_id))
            if src is None:
                if not party.strip():
                    raise ValidationError(_("The party is missing."), "party")
                src = self.resolve_party(s, party)
            code = None
            if src is None and party_credit_code:
                code = creditcode.normalise(party_credit_code)
                if why := creditcode.validate(code):
                    raise ValidationError(
                        _("The party's credit code is invalid: {why}").format(why=why), "party_credit_code"
                    )
            # the case belongs to the agency of the source's county, else the officer's, else the province
            agency_id = None
            if src is not None and src.county_id:
                agency_id = src.county_id
            elif actor and actor.agency_code:
                agency_id = s.scalar(select(Agency.id).where(Agency.code == actor.agency_code))
            agency_code = (
                s.scalar(select(Agency.code).where(Agency.id == agency_id)) if agency_id else PROVINCE_CODE
            )
            ids: list[str] = []
            for oid in ([actor.id] if actor else []) + list(officer_ids):
                if oid not in ids:
                    ids.append(oid)
            officers = []
            for oid in ids:
                o = s.scalar(select(Officer).where(or_(Officer.id == oid, Officer.cert_no == oid)))
                if o is None:
                    raise UsageError(_("No officer with id or certificate number {ref}.").format(ref=oid))
                if not o.active:
                    raise ValidationError(_("{name}'s account is disabled.").format(name=o.name), "officers")
                officers.append(o)
            now = utcnow()
            case = Case(
                number=next_case_number(s, self.store.kit_id, agency_code or PROVINCE_CODE),
                title=title,
                source_id=src.id if src else None,
                party_name=src.name if src else party.strip(),
                party_credit_code=src.credit_code if src else code,
                party_address=src.address if src else (party_address or None),
                agency_id=agency_id,
                created_by_id=actor.id if actor else None,
                opened_at=now,
                created_at=now,
                updated_at=now,
                origin_kit=self.store.kit_id,
            )
            for pos, o in enumerate(officers):
                case.officers.append(CaseOfficer(officer_id=o.id, position=pos))
            procedure = case_procedure()
            case.kind = kind
            open_history(case, state=procedure.initial_for(kind), procedure=procedure.ref, action="open", at=now,
                         kit_id=self.store.kit_id, actor_id=actor.id if actor else None,
                         actor_name=actor.name if actor else None, actor_cert=actor.cert_no if actor else None,
                         discovered_on=discovered_on)
            s.add(case)
            s.flush()
            if with_case is not None:  # what makes the case what it is, in the same transaction
                with_case(s, case)
            case_id = case.id
        return self.get(case_id)

    # ------------------------------------------------------------ read
    def get(self, case_id: str) -> CaseDetail:
        with self.store.session() as s:
            c = s.scalar(
                select(Case)
                .options(selectinload(Case.officers).selectinload(CaseOfficer.officer))
                .where(or_(Case.id == case_id, Case.number == case_id))
            )
            if c is None:
                raise NotFound(_("No case with id or number {id}.").format(id=case_id))
            agency = s.get(Agency, c.agency_id) if c.agency_id else None
            creator = s.get(Officer, c.created_by_id) if c.created_by_id else None
            return CaseDetail(
                id=c.id,
                number=c.number,
                title=c.title,
                status=c.status,
                party={
                    "source_id": c.source_id,
                    "name": c.party_name,
                    "credit_code": c.party_credit_code,
                    "address": c.party_address,
                    "listed": c.source_id is not None,
                },
                agency_code=agency.code if agency else None,
                agency_name=agency.name if agency else None,
                officers=tuple(
                    CaseOfficerInfo(id=co.officer.id, name=co.officer.name, cert_no=co.officer.cert_no)
                    for co in c.officers
                ),
                created_by=creator.name if creator else None,
                opened_at=c.opened_at,
                closed_at=c.closed_at,
                created_at=c.created_at,
                updated_at=c.updated_at,
                origin_kit=c.origin_kit,
                row_version=c.row_version,
            )

    def find(self, limit: int = 500, text: str = "") -> list[CaseRow]:
        with self.store.session() as s:
            q = select(Case).options(selectinload(Case.officers).selectinload(CaseOfficer.officer))
            if text:
                like = f"%{text}%"
                q = q.where(Case.title.like(like) | Case.party_name.like(like) | Case.number.like(like))
            q = q.order_by(Case.opened_at.desc()).limit(limit)
            rows = [case_row(c) for c in s.scalars(q)]
            return self._with_sync(s, rows)

    def _with_sync(self, s: Session, rows: list[CaseRow]) -> list[CaseRow]:
        """Each row with the number of its items waiting for the server's receipt (when enrolled)."""
        if s.get(KitMeta, "central_url") is None:
            return rows
        waiting = waiting_by_case(s, self.store.kit_id, [r.id for r in rows])
        return [replace(r, waiting=sum(waiting[r.id].values())) for r in rows]

    def for_source(self, source_id: str) -> list[CaseRow]:
        with self.store.session() as s:
            q = (
                select(Case)
                .options(selectinload(Case.officers).selectinload(CaseOfficer.officer))
                .where(Case.source_id == source_id)
                .order_by(Case.opened_at.desc())
            )
            return self._with_sync(s, [case_row(c) for c in s.scalars(q)])

    # ------------------------------------------------------------ overview
    def comments(self, case_id: str) -> list[dict[str, Any]]:
        """The review comments pulled from the central server, oldest first."""
        with self.store.session() as s:
            return [{"id": c.id, "author_name": c.author_name, "author_cert": c.author_cert,
                     "at": datetime.fromisoformat(c.at), "text": c.text}
                    for c in s.scalars(select(CaseComment).where(CaseComment.case_id == case_id)
                                       .order_by(CaseComment.server_seq))]

    def overview(self, case_id: str) -> dict[str, Any]:
        """What the case view shows besides its evidence: the sync state (None when the kit is not
        enrolled), the assignment it was opened from and the review comments."""
        with self.store.session() as s:
            state = case_state(s, self.store.kit_id, case_id) if s.get(KitMeta, "central_url") is not None else None
            row = s.get(CaseAssignment, case_id)
            assignment = json.loads(row.body) if row else None
        return {"sync": state, "assignment": assignment, "comments": self.comments(case_id)}

    def count(self) -> int:
        with self.store.session() as s:
            return s.scalar(select(func.count()).select_from(Case)) or 0
