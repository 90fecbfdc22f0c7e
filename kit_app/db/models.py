"""ORM models. Every synced table carries a UUIDv7 id, UTC timestamps, the originating kit and a
row version, so kits can work offline and merge with the central server without collisions.

The schema itself is owned by the Alembic migrations in ``kit_app/db/migrations``; these classes
must match them (a test compares the two).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kit_app.db.types import UTCDateTime
from kit_app.ids import new_id
from kit_app.timeutil import utcnow


class Base(DeclarativeBase):
    """The declarative base of every table."""


class SyncMixin:
    """Columns every synchronised row carries."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )
    origin_kit: Mapped[str] = mapped_column(String(36), nullable=False)
    row_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class KitMeta(Base):
    __tablename__ = "kit_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class Agency(SyncMixin, Base):
    """An enforcement agency, identified by its administrative division code (GB/T 2260)."""

    __tablename__ = "agencies"
    __mapper_args__ = {"version_id_col": SyncMixin.row_version}

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)
    division_name: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False)  # province | city | county
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    # what its decisions print as the remedies (set at the central server; None: derived, or asked for)
    review_body: Mapped[str | None] = mapped_column(String(60))  # 复议机关
    court: Mapped[str | None] = mapped_column(String(60))  # 管辖法院
    seal_text: Mapped[str | None] = mapped_column(String(60))  # the words of its seal (None: its name)

    parent: Mapped[Agency | None] = relationship(remote_side="Agency.id")


class Officer(SyncMixin, Base):
    __tablename__ = "officers"
    __mapper_args__ = {"version_id_col": SyncMixin.row_version}

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    cert_no: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    roles: Mapped[str] = mapped_column(String(64), nullable=False)  # comma-separated
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency | None] = relationship()


class Source(SyncMixin, Base):
    """A pollution source (排污单位).

    ``rid`` is a local, stable integer key (an alias of SQLite's rowid) used only by the full-text
    index; ``id`` is the identity everywhere else and across kits.
    """

    __tablename__ = "sources"
    __mapper_args__ = {"version_id_col": SyncMixin.row_version}

    rid: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False, default=new_id)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    address: Mapped[str | None] = mapped_column(String(300))
    county_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    permit_no: Mapped[str | None] = mapped_column(String(40), index=True)
    legal_rep: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    cat_water: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    cat_air: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    cat_waste: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    cat_noise: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    key_monitored: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    mn_codes: Mapped[str | None] = mapped_column(Text)  # comma-separated HJ 212 MN codes
    logger_pw: Mapped[str | None] = mapped_column(String(32))  # its data loggers' HJ 212 password (PW)
    origin_project_id: Mapped[str | None] = mapped_column(String(36))
    name_py: Mapped[str] = mapped_column(String(600), nullable=False, default="", index=True)
    name_abbr: Mapped[str] = mapped_column(String(200), nullable=False, default="", index=True)

    county: Mapped[Agency | None] = relationship()


class Project(SyncMixin, Base):
    """A construction project (建设项目) through its EIA and completion acceptance."""

    __tablename__ = "projects"
    __mapper_args__ = {"version_id_col": SyncMixin.row_version}

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    developer: Mapped[str | None] = mapped_column(String(200))
    developer_credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    county_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    eia_approval_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    eia_approval_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(24), nullable=False, default="approved")
    acceptance_date: Mapped[date | None] = mapped_column(Date)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id"), index=True)

    county: Mapped[Agency | None] = relationship()


class ProjectEvent(Base):
    """Lifecycle history of a project (append-only)."""

    __tablename__ = "project_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.id"))
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    origin_kit: Mapped[str] = mapped_column(String(36), nullable=False)


class Case(SyncMixin, Base):
    __tablename__ = "cases"
    __mapper_args__ = {"version_id_col": SyncMixin.row_version}

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(48), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False, default="filing")  # a procedure state
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id"), index=True)
    party_name: Mapped[str] = mapped_column(String(200), nullable=False)
    party_credit_code: Mapped[str | None] = mapped_column(String(18))
    party_address: Mapped[str | None] = mapped_column(String(300))
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("officers.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discovered_on: Mapped[date | None] = mapped_column(Date)  # local date the violation was found
    outcome: Mapped[str | None] = mapped_column(String(24))  # of the decision: penalty, no_penalty, transfer
    procedure: Mapped[str | None] = mapped_column(String(48))  # the procedure followed, id@version
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="case")  # case, or inspection

    officers: Mapped[list[CaseOfficer]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseOfficer.position"
    )
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.seq")


class AdminEvent(Base):
    """One change an administrator made on the kit (officers, agency settings, number blocks, devices,
    enrolment): who, when, what and to what. Append-only (the database refuses updates and deletions)."""

    __tablename__ = "admin_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    kit_id: Mapped[str] = mapped_column(String(36), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_name: Mapped[str | None] = mapped_column(String(64))
    actor_cert: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, nullable=False, default="{}")  # JSON


class AccessEvent(Base):
    """One access worth knowing of: a login (and a failed one), an original viewed, a paper printed,
    a case exported, a refused action, an administrator's change. Append-only; synced to the
    central server (``kit_app.services.audit``)."""

    __tablename__ = "access_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    kit_id: Mapped[str] = mapped_column(String(36), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_name: Mapped[str | None] = mapped_column(String(64))
    actor_cert: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    outcome: Mapped[str] = mapped_column(String(12), nullable=False)  # ok, failed, refused
    target: Mapped[str | None] = mapped_column(String(200))
    case_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[str] = mapped_column(Text, nullable=False, default="{}")  # JSON


class CaseEvent(Base):
    """One step of a case's history: an action of its procedure, who took it, when and why.
    Append-only (the database refuses updates and deletions); synced inside its case."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_case_events_seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_name: Mapped[str | None] = mapped_column(String(64))
    actor_cert: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text, nullable=False, default="{}")  # JSON
    kit_id: Mapped[str] = mapped_column(String(36), nullable=False)

    case: Mapped[Case] = relationship(back_populates="events")


class CaseOfficer(Base):
    __tablename__ = "case_officers"
    __table_args__ = (Index("ix_case_officers_officer", "officer_id"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    case: Mapped[Case] = relationship(back_populates="officers")
    officer: Mapped[Officer] = relationship()


class EvidenceItem(SyncMixin, Base):
    """A piece of evidence of a case: a stored file (by SHA-256) or a physical item with a seal."""

    __tablename__ = "evidence_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    original_name: Mapped[str | None] = mapped_column(String(500))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    media_type: Mapped[str | None] = mapped_column(String(100))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    captured_offset_min: Mapped[int | None] = mapped_column(Integer)
    captured_clock: Mapped[str | None] = mapped_column(String(16))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    altitude: Mapped[float | None] = mapped_column(Float)
    place: Mapped[str | None] = mapped_column(String(300))
    device: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    seal_no: Mapped[str | None] = mapped_column(String(64))
    metadata_json: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    warnings_json: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    officers: Mapped[list[EvidenceOfficer]] = relationship(
        cascade="all, delete-orphan", order_by="EvidenceOfficer.position"
    )


class EvidenceOfficer(Base):
    __tablename__ = "evidence_officers"

    evidence_id: Mapped[str] = mapped_column(ForeignKey("evidence_items.id"), primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    officer: Mapped[Officer] = relationship()


class CustodyEvent(Base):
    """One link of the kit's custody chain. Append-only (SQLite triggers refuse UPDATE/DELETE).

    ``body`` is the canonical JSON of the event; ``hash`` = SHA-256(body) and ``signature`` is the
    kit's Ed25519 signature of the hash (hex, ASCII). The body contains ``prev_hash``.
    """

    __tablename__ = "custody_events"
    __table_args__ = {"sqlite_with_rowid": False}  # clustered by (kit_id, seq)

    kit_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    evidence_id: Mapped[str] = mapped_column(ForeignKey("evidence_items.id"), index=True, nullable=False)
    case_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    at: Mapped[str] = mapped_column(String(40), nullable=False)
    clock: Mapped[str] = mapped_column(String(16), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    item_sha256: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    signature: Mapped[str] = mapped_column(String(100), nullable=False)


class NumberBlock(SyncMixin, Base):
    """A range of document numbers (agency, document type, year) reserved for one kit."""

    __tablename__ = "number_blocks"
    __table_args__ = (Index("ix_number_blocks_key", "agency_code", "doc_type", "year"),
                      CheckConstraint("first >= 1 AND last >= first", name="ck_number_blocks_range"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_code: Mapped[str] = mapped_column(String(12), nullable=False)
    doc_type: Mapped[str] = mapped_column(String(48), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    prefix: Mapped[str] = mapped_column(String(32), nullable=False)
    first: Mapped[int] = mapped_column(Integer, nullable=False)
    last: Mapped[int] = mapped_column(Integer, nullable=False)
    kit_id: Mapped[str] = mapped_column(String(36), nullable=False)
    assigned_by: Mapped[str | None] = mapped_column(ForeignKey("officers.id"))


class Document(SyncMixin, Base):
    """An issued document: frozen (append-only); its PDF is an evidence item of the case."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("agency_code", "doc_type", "year", "seq", name="uq_documents_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True, nullable=False)
    doc_type: Mapped[str] = mapped_column(String(48), nullable=False)
    def_version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    number: Mapped[str | None] = mapped_column(String(64), unique=True)
    agency_code: Mapped[str | None] = mapped_column(String(12))
    year: Mapped[int | None] = mapped_column(Integer)
    seq: Mapped[int | None] = mapped_column(Integer)
    payload_json: Mapped[str] = mapped_column(Text, nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    evidence_id: Mapped[str] = mapped_column(ForeignKey("evidence_items.id"), nullable=False, unique=True)
    corrects_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    issued_by: Mapped[str] = mapped_column(ForeignKey("officers.id"), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Inspection(Base):
    """What makes a case an on-site inspection (现场检查): where it came from, the place, the
    checklists and violation catalogue used."""

    __tablename__ = "inspections"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    origin: Mapped[str] = mapped_column(String(24), nullable=False)  # random, routine, complaint, alarm…
    origin_ref: Mapped[str | None] = mapped_column(String(300))  # task number, draw record, complaint number
    place: Mapped[str | None] = mapped_column(String(300))
    checklists: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # JSON: checklist refs used
    catalogue: Mapped[str | None] = mapped_column(String(48))  # the violation catalogue used, id@version
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    officers: Mapped[list[InspectionOfficer]] = relationship(cascade="all, delete-orphan")


class InspectionOfficer(Base):
    """An officer of the inspection team: the recorder, and when they confirmed being present."""

    __tablename__ = "inspection_officers"

    case_id: Mapped[str] = mapped_column(ForeignKey("inspections.case_id"), primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), primary_key=True)
    recorder: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InspectionStep(Base):
    """An opening step (certificates shown, rights explained, recusal asked…) with its time; append-only."""

    __tablename__ = "inspection_steps"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("inspections.case_id"), index=True, nullable=False)
    step: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    officer_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    evidence_id: Mapped[str | None] = mapped_column(String(36))


class InspectionAnswer(Base):
    """The answer to a checklist item (the latest given)."""

    __tablename__ = "inspection_answers"

    case_id: Mapped[str] = mapped_column(ForeignKey("inspections.case_id"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    answer: Mapped[str] = mapped_column(String(24), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    evidence_ids: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    answered_by: Mapped[str | None] = mapped_column(String(36))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Finding(Base):
    """A non-compliance found, with the violation it suggests and its evidence."""

    __tablename__ = "findings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True, nullable=False)
    item_id: Mapped[str | None] = mapped_column(String(48))
    violation_id: Mapped[str | None] = mapped_column(String(48))
    description: Mapped[str] = mapped_column(Text, nullable=False)
    evidence_ids: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    created_by: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SyncOutbox(Base):
    """A local change waiting to be pushed: written in the same transaction as the change."""

    __tablename__ = "sync_outbox"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(24), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(36), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)


class SyncReceipt(Base):
    """The server's signed receipt for a pushed batch."""

    __tablename__ = "sync_receipts"

    batch_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    server_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    received_at: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    signature: Mapped[str] = mapped_column(String(100), nullable=False)


class CustodyHead(Base):
    """The head of the kit's custody chain as the central server countersigned it at a sync: the
    chain's later history must still contain it (append-only)."""

    __tablename__ = "custody_heads"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    countersigned_at: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)  # the signed JSON
    signature: Mapped[str] = mapped_column(String(100), nullable=False)


class SyncBlob(Base):
    """The server's signed receipt for an evidence original it holds (verified by its SHA-256)."""

    __tablename__ = "sync_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    received_at: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    signature: Mapped[str] = mapped_column(String(100), nullable=False)


class CentralItem(Base):
    """A checklist or document definition pulled from the central server (newest version)."""

    __tablename__ = "central_items"

    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int | None] = mapped_column(Integer)
    server_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)


class CaseAssignment(Base):
    """The assignment a case was opened from, as last applied (the base of the three-way merge)."""

    __tablename__ = "case_assignments"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    server_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    applied_at: Mapped[str] = mapped_column(String(40), nullable=False)


class CaseComment(Base):
    """A review comment on a case, written on the central server and pulled."""

    __tablename__ = "case_comments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    author_name: Mapped[str] = mapped_column(String(64), nullable=False)
    author_cert: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[str] = mapped_column(String(40), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    server_seq: Mapped[int] = mapped_column(Integer, nullable=False)
