"""Plain data passed from the core to the CLI and the UI (never live ORM objects)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any


def to_json(obj: Any) -> Any:
    """A JSON-ready structure from DTOs (dates in ISO 8601 with their offset)."""
    if hasattr(obj, "__dataclass_fields__"):
        obj = asdict(obj)
    if isinstance(obj, dict):
        return {k: to_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    return obj


@dataclass(frozen=True)
class OfficerInfo:
    id: str
    name: str
    cert_no: str
    roles: tuple[str, ...]
    agency_code: str | None
    agency_name: str | None
    active: bool

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class SourceRow:
    id: str
    name: str
    credit_code: str | None
    county: str | None
    address: str | None
    industry: str | None
    key_monitored: bool
    rank: float = 0.0


@dataclass(frozen=True)
class ProjectRow:
    id: str
    name: str
    developer: str | None
    county: str | None
    eia_approval_no: str | None
    eia_approval_date: date | None
    status: str
    acceptance_date: date | None
    source_id: str | None


@dataclass(frozen=True)
class ProjectEventInfo:
    kind: str
    at: datetime
    officer_name: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class CaseRow:
    id: str
    number: str
    title: str
    status: str
    party_name: str
    source_id: str | None
    opened_at: datetime
    officers: tuple[str, ...] = ()
    waiting: int | None = None  # items waiting for the server's receipt; None: the kit is not enrolled
    kind: str = "case"  # or "inspection"


@dataclass(frozen=True)
class SourceDetail:
    id: str
    name: str
    credit_code: str | None
    address: str | None
    county_code: str | None
    county: str | None
    city: str | None
    industry: str | None
    longitude: float | None
    latitude: float | None
    permit_no: str | None
    legal_rep: str | None
    contact_phone: str | None
    categories: tuple[str, ...]
    key_monitored: bool
    mn_codes: tuple[str, ...]
    origin_project_id: str | None
    created_at: datetime
    updated_at: datetime
    projects: tuple[ProjectRow, ...] = ()
    cases: tuple[CaseRow, ...] = ()


@dataclass(frozen=True)
class CaseOfficerInfo:
    id: str
    name: str
    cert_no: str


@dataclass(frozen=True)
class CaseDetail:
    id: str
    number: str
    title: str
    status: str
    party: dict[str, Any]
    agency_code: str | None
    agency_name: str | None
    officers: tuple[CaseOfficerInfo, ...]
    created_by: str | None
    opened_at: datetime
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    origin_kit: str
    row_version: int


@dataclass
class Rejection:
    row: int
    column: str
    reason: str


@dataclass
class ImportResult:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    file: str = ""
    encoding: str = ""
