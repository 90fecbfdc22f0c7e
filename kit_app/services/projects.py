"""Construction projects and their full-lifecycle "identity conversion": recording a project's
completion acceptance (竣工环保验收) turns it into — or links it to — a pollution source, keeping the
project and its history.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from kit_app import roles as R
from kit_app.db import Store
from kit_app.db.models import Agency, Officer, Project, ProjectEvent, Source
from kit_app.dto import OfficerInfo, ProjectEventInfo, ProjectRow
from kit_app.errors import NotFound, ValidationError
from kit_app.i18n import N_, _
from kit_app.pinyin import full_and_initials
from kit_app.timeutil import to_local, utcnow

STATUS_LABELS = {
    "approved": N_("EIA approved"),
    "under_construction": N_("Under construction"),
    "trial_operation": N_("Trial operation"),
    "accepted": N_("Accepted"),
}


def project_row(p: Project) -> ProjectRow:
    return ProjectRow(
        id=p.id,
        name=p.name,
        developer=p.developer,
        county=p.county.division_name if p.county else None,
        eia_approval_no=p.eia_approval_no,
        eia_approval_date=p.eia_approval_date,
        status=p.status,
        acceptance_date=p.acceptance_date,
        source_id=p.source_id,
    )


def _event(s: Session, p: Project, kind: str, kit: str, when: datetime,
           officer_id: str | None, **detail: object) -> None:
    s.add(
        ProjectEvent(
            project_id=p.id,
            kind=kind,
            at=when,
            officer_id=officer_id,
            origin_kit=kit,
            detail=json.dumps(detail, ensure_ascii=False, default=str),
        )
    )


def convert_to_source(
    s: Session, p: Project, kit: str, officer_id: str | None, when: datetime
) -> tuple[Source, bool]:
    """Link ``p`` to its pollution source, creating the source if there is none.

    Returns (source, created). The source is found by the developer's credit code, else by the
    developer's name in the same county.
    """
    src = None
    if p.developer_credit_code:
        src = s.scalar(select(Source).where(Source.credit_code == p.developer_credit_code))
    if src is None and p.developer:
        src = s.scalar(
            select(Source).where(Source.name == p.developer, Source.county_id == p.county_id).limit(1)
        )
    created = src is None
    if src is None:
        name = p.developer or p.name
        py, abbr = full_and_initials(name)
        src = Source(
            name=name,
            credit_code=p.developer_credit_code,
            address=p.address,
            county_id=p.county_id,
            industry=p.industry,
            longitude=p.longitude,
            latitude=p.latitude,
            origin_project_id=p.id,
            name_py=py,
            name_abbr=abbr,
            origin_kit=kit,
            created_at=when,
            updated_at=when,
        )
        s.add(src)
        s.flush()
    p.source_id = src.id
    _event(
        s, p, "converted_to_source" if created else "linked_to_source", kit, when, officer_id,
        source_id=src.id, source_name=src.name,
    )
    return src, created


class ProjectService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def count(self) -> int:
        with self.store.session() as s:
            return s.scalar(select(func.count()).select_from(Project)) or 0

    def find(self, text: str = "", status: str | None = None, limit: int = 1000,
             offset: int = 0) -> list[ProjectRow]:
        with self.store.session() as s:
            q = select(Project).options(joinedload(Project.county))
            if text:
                like = f"%{text}%"
                q = q.where(
                    Project.name.like(like) | Project.developer.like(like)
                    | Project.eia_approval_no.like(like)
                )
            if status:
                q = q.where(Project.status == status)
            q = q.order_by(Project.eia_approval_date.desc(), Project.name).limit(limit).offset(offset)
            return [project_row(p) for p in s.scalars(q)]

    def for_source(self, source_id: str) -> list[ProjectRow]:
        with self.store.session() as s:
            q = select(Project).options(joinedload(Project.county)).where(Project.source_id == source_id)
            return [project_row(p) for p in s.scalars(q.order_by(Project.eia_approval_date))]

    def history(self, project_id: str) -> list[ProjectEventInfo]:
        with self.store.session() as s:
            rows = s.execute(
                select(ProjectEvent, Officer.name)
                .outerjoin(Officer, Officer.id == ProjectEvent.officer_id)
                .where(ProjectEvent.project_id == project_id)
                .order_by(ProjectEvent.at, ProjectEvent.id)
            ).all()
            return [
                ProjectEventInfo(kind=e.kind, at=e.at, officer_name=n, detail=json.loads(e.detail))
                for e, n in rows
            ]

    def accept(
        self, project_id: str, acceptance_date: date, actor: OfficerInfo | None = None
    ) -> tuple[ProjectRow, str, bool]:
        """Record the completion acceptance; returns (project, source id, source created)."""
        R.require(actor, "project.accept")
        now = utcnow()
        today = to_local(now).date()  # type: ignore[union-attr]
        if acceptance_date > today:
            raise ValidationError(_("The acceptance date cannot be in the future."), "date")
        with self.store.session() as s:
            p = s.get(Project, project_id, options=[joinedload(Project.county)])
            if p is None:
                raise NotFound(_("No project with id {id}.").format(id=project_id))
            if p.status == "accepted":
                raise ValidationError(
                    _("The completion acceptance of {name} was already recorded on {date}.").format(
                        name=p.name, date=p.acceptance_date
                    ),
                    "status",
                )
            if p.eia_approval_date and acceptance_date < p.eia_approval_date:
                raise ValidationError(
                    _("The acceptance date is before the EIA approval ({date}).").format(
                        date=p.eia_approval_date
                    ),
                    "date",
                )
            officer_id = actor.id if actor else None
            old = p.status
            p.status = "accepted"
            p.acceptance_date = acceptance_date
            _event(s, p, "accepted", self.store.kit_id, now, officer_id,
                   previous_status=old, acceptance_date=acceptance_date.isoformat())
            src, created = convert_to_source(s, p, self.store.kit_id, officer_id, now)
            s.flush()
            return project_row(p), src.id, created

    def county_names(self) -> dict[str, str]:
        with self.store.session() as s:
            return dict(s.execute(select(Agency.id, Agency.division_name)).all())
