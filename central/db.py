"""The central server's tables and how to open its database (any SQLAlchemy URL)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from kit_app.db.types import UTCDateTime
from kit_app.ids import new_id
from kit_app.timeutil import utcnow


class Base(DeclarativeBase):
    pass


class Agency(Base):
    """An agency by its administrative division code: 45 (province), 4501 (city), 450103 (county)."""

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    review_body: Mapped[str | None] = mapped_column(String(60))  # 复议机关 its decisions name
    seal_text: Mapped[str | None] = mapped_column(String(60))  # the words of its seal (None: its name)
    court: Mapped[str | None] = mapped_column(String(60))  # 管辖法院 its decisions name


class Officer(Base):
    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    cert_no: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    roles: Mapped[str] = mapped_column(String(64), nullable=False)  # comma separated
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # offline sign-in on the kits: a verifier of its own (another salt), never the server's hash
    kit_verifier: Mapped[str | None] = mapped_column(String(200))
    # agencies (besides the officer's own) whose kits also receive the verifier, comma separated
    kit_agencies: Mapped[str] = mapped_column(String(400), nullable=False, default="")
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EnrolCode(Base):
    """A one-time code an administrator gives to a kit of an agency (only its hash is kept)."""

    __tablename__ = "enrol_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_kit: Mapped[str | None] = mapped_column(String(36))


class Kit(Base):
    """An enrolled kit: its id (chosen by the kit), agency, custody public key and credential hash."""

    __tablename__ = "kits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), nullable=False, index=True)
    public_key_pem: Mapped[str] = mapped_column(Text, nullable=False)
    credential_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    credential_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the credential before the last renewal: valid until the new one is first used (a renewal
    # whose answer was lost does not lock the kit out)
    previous_credential_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class ServerMeta(Base):
    __tablename__ = "server_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class Sequence(Base):
    """The server's sequence number (receipts and pulls are ordered by it)."""

    __tablename__ = "server_sequence"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        return engine
    threads = int(os.environ.get("KIT_CENTRAL_THREADS") or 8)  # a connection for each request thread
    return create_engine(url, pool_pre_ping=True, pool_size=threads, max_overflow=4)


def sessions(engine: Engine) -> sessionmaker:  # type: ignore[type-arg]
    return sessionmaker(engine, expire_on_commit=False)


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'central.sqlite3'}"


class Record(Base):
    """The newest version a kit pushed of a case, evidence item or issued document (JSON body)."""

    __tablename__ = "records"

    entity: Mapped[str] = mapped_column(String(24), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kit_id: Mapped[str] = mapped_column(ForeignKey("kits.id"), nullable=False, index=True)
    agency_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    row_version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    server_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    # an evidence item's location (from its body), for the console's map
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class CustodyEvent(Base):
    """A kit's custody event as the kit signed it; append-only here too."""

    __tablename__ = "custody_events"

    kit_id: Mapped[str] = mapped_column(ForeignKey("kits.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    evidence_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    case_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    signature: Mapped[str] = mapped_column(String(100), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class CustodyHead(Base):
    """A kit's custody chain head as this server countersigned it at a sync (kept: a chain later
    pushed or shown in court must still contain every head countersigned before)."""

    __tablename__ = "custody_heads"

    kit_id: Mapped[str] = mapped_column(ForeignKey("kits.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)  # the signed JSON
    signature: Mapped[str] = mapped_column(String(100), nullable=False)
    countersigned_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class AccessEvent(Base):
    """One entry of a kit's access log (logins, failed logins, originals viewed, prints, exports,
    refused actions, administrators' changes) as the kit recorded it; append-only here too."""

    __tablename__ = "access_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kit_id: Mapped[str] = mapped_column(ForeignKey("kits.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    outcome: Mapped[str] = mapped_column(String(12), nullable=False)
    actor_cert: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text, nullable=False)  # the whole entry, JSON
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Batch(Base):
    """An accepted batch and the receipt the server signed for it (replays get the same receipt)."""

    __tablename__ = "batches"

    batch_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kit_id: Mapped[str] = mapped_column(ForeignKey("kits.id"), nullable=False, index=True)
    server_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)
    receipt: Mapped[str] = mapped_column(Text, nullable=False)
    signature: Mapped[str] = mapped_column(String(100), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class FeedItem(Base):
    """What flows down to kits: one row per (kind, key), its newest version, ordered by the server
    sequence number it was last changed at. ``agency_code`` scopes it (a kit sees items of its own
    agency, its ancestors and its descendants); ``kit_id`` narrows it to one kit (number blocks)."""

    __tablename__ = "feed"

    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    kit_id: Mapped[str | None] = mapped_column(String(36), index=True)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    server_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class OfficerToken(Base):
    """A session of an officer signed in as themselves (only the token's hash is kept)."""

    __tablename__ = "officer_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Draw(Base):
    """A 双随机 draw (random parties, random officers) as it was made: the pool's hash and the seed
    let anyone re-run it from the published record; append-only."""

    __tablename__ = "draws"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    drawn_by: Mapped[str] = mapped_column(Text, nullable=False)
    params: Mapped[str] = mapped_column(Text, nullable=False)
    pool_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    seed: Mapped[str] = mapped_column(String(64), nullable=False)
    result: Mapped[str] = mapped_column(Text, nullable=False)
