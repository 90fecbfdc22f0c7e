"""Pollution sources: details, browsing in name order, counts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from kit_app.db import Store
from kit_app.db.models import Agency, Source
from kit_app.dto import SourceDetail, SourceRow
from kit_app.errors import NotFound
from kit_app.i18n import N_, _

CATEGORY_LABELS = {
    "water": N_("Wastewater"),
    "air": N_("Waste gas"),
    "waste": N_("Solid & hazardous waste"),
    "noise": N_("Noise"),
}


def categories(src: Source) -> tuple[str, ...]:
    return tuple(
        c
        for c, flag in (
            ("water", src.cat_water),
            ("air", src.cat_air),
            ("waste", src.cat_waste),
            ("noise", src.cat_noise),
        )
        if flag
    )


class SourceService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def count(self) -> int:
        with self.store.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT count(*) FROM sources").scalar() or 0

    def browse(self, after: tuple[str, int] | None = None, limit: int = 200) -> list[tuple[SourceRow, tuple[str, int]]]:
        """A page of sources in name order, after the keyset ``(name, rid)``."""
        sql = (
            "SELECT s.rid, s.id, s.name, s.credit_code, a.division_name, s.address, s.industry, "
            "s.key_monitored FROM sources s LEFT JOIN agencies a ON a.id = s.county_id "
        )
        params: tuple[object, ...]
        if after is None:
            sql += "ORDER BY s.name, s.rid LIMIT ?"
            params = (limit,)
        else:
            sql += "WHERE (s.name, s.rid) > (?, ?) ORDER BY s.name, s.rid LIMIT ?"
            params = (after[0], after[1], limit)
        with self.store.engine.connect() as conn:
            return [
                (
                    SourceRow(
                        id=r[1], name=r[2], credit_code=r[3], county=r[4], address=r[5],
                        industry=r[6], key_monitored=bool(r[7]),
                    ),
                    (r[2], r[0]),
                )
                for r in conn.exec_driver_sql(sql, params)
            ]

    def get(self, source_id: str) -> SourceDetail:
        from kit_app.services.cases import CaseService
        from kit_app.services.projects import ProjectService

        with self.store.session() as s:
            src = s.scalar(
                select(Source).options(joinedload(Source.county)).where(Source.id == source_id)
            )
            if src is None:
                raise NotFound(_("No pollution source with id {id}.").format(id=source_id))
            city = None
            if src.county and src.county.parent_id:
                city = s.scalar(select(Agency.division_name).where(Agency.id == src.county.parent_id))
            detail = dict(
                id=src.id,
                name=src.name,
                credit_code=src.credit_code,
                address=src.address,
                county_code=src.county.code if src.county else None,
                county=src.county.division_name if src.county else None,
                city=city,
                industry=src.industry,
                longitude=src.longitude,
                latitude=src.latitude,
                permit_no=src.permit_no,
                legal_rep=src.legal_rep,
                contact_phone=src.contact_phone,
                categories=categories(src),
                key_monitored=src.key_monitored,
                mn_codes=tuple(m for m in (src.mn_codes or "").split(",") if m),
                origin_project_id=src.origin_project_id,
                created_at=src.created_at,
                updated_at=src.updated_at,
            )
        return SourceDetail(
            **detail,  # type: ignore[arg-type]
            projects=tuple(ProjectService(self.store).for_source(source_id)),
            cases=tuple(CaseService(self.store).for_source(source_id)),
        )

    def find_by_name(self, name: str) -> list[tuple[str, str, str | None]]:
        with self.store.session() as s:
            return [
                tuple(r)  # type: ignore[misc]
                for r in s.execute(
                    select(Source.id, Source.name, Source.credit_code).where(Source.name == name).limit(20)
                )
            ]

    def count_by_county(self) -> dict[str, int]:
        with self.store.session() as s:
            return dict(
                s.execute(select(Source.county_id, func.count()).group_by(Source.county_id)).all()  # type: ignore[arg-type]
            )
