"""What the server accepts, field by field: every request body and every record a kit pushes is
validated here, at the boundary, before anything is stored. Identifiers are UUIDs (never turned
into paths unchecked), hashes lower-case hex, integers within 63 bits, text without NUL bytes and
of bounded length, JSON of bounded depth."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
AGENCY_PATTERN = r"^[0-9]{2,12}$"
MAX_INT = 2**63 - 1
MAX_TEXT = 1_000_000  # a document's payload (findings of 50,000 characters and more) fits
MAX_DEPTH = 8
MAX_ITEMS = 10_000


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL byte")
    return value


def check_json(value: Any, where: str = "body", depth: int = 0) -> None:
    """A pushed JSON value the server stores and hands out again: bounded and clean."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            raise ValueError(f"{where}: integer outside 63 bits")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: not a finite number")
    elif isinstance(value, str):
        if len(value) > MAX_TEXT or "\x00" in value:
            raise ValueError(f"{where}: text longer than {MAX_TEXT} characters or with a NUL byte")
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"{where}: more than {MAX_ITEMS} items")
        for i, v in enumerate(value):
            check_json(v, f"{where}[{i}]", depth + 1)
    elif isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"{where}: more than {MAX_ITEMS} fields")
        for k, v in value.items():
            if not isinstance(k, str) or len(k) > 64 or "\x00" in k:
                raise ValueError(f"{where}: a field name is too long or has a NUL byte")
            check_json(v, f"{where}.{k}", depth + 1)
    else:
        raise ValueError(f"{where}: not a JSON value")


Id = Annotated[str, Field(pattern=UUID_PATTERN, min_length=36, max_length=36,
                          description="a UUID in lower-case hex (the kits use UUIDv7)")]
Sha256 = Annotated[str, Field(pattern=SHA256_PATTERN, min_length=64, max_length=64,
                              description="SHA-256 in lower-case hex")]
AgencyCode = Annotated[str, Field(pattern=AGENCY_PATTERN, description="a GB/T 2260 division code (digits)")]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_INT)]
Positive = Annotated[StrictInt, Field(ge=1, le=MAX_INT)]


def text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_nul)]


# ---------------------------------------------------------------- request bodies
class EnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: text(64, 1) = Field(description="the one-time enrolment code, e.g. ABCD-EFGH-JKMN-PQRS")  # type: ignore[valid-type]
    kit_id: Id = Field(description="the kit's id, a UUID it generated (UUIDv7)")
    public_key_pem: text(2000, 1) = Field(description="the kit's Ed25519 custody public key, PEM")  # type: ignore[valid-type]
    name: text(100) | None = None  # type: ignore[valid-type]


class CustodyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seq: Positive
    id: Id
    body: text(64_000, 2) = Field(description="the canonical JSON the kit hashed, verbatim")  # type: ignore[valid-type]
    hash: Sha256
    signature: text(100, 1) = Field(description="Ed25519 signature, base64")  # type: ignore[valid-type]


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity: Literal["case", "evidence", "document"]
    id: Id
    row_version: Positive = 1
    body: dict[str, Any]

    @model_validator(mode="after")
    def _body(self) -> RecordIn:
        check_json(self.body)
        BODIES[self.entity].model_validate(self.body)
        if self.body.get("id") != self.id:
            raise ValueError("the body's id differs from the record's id")
        return self


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    batch_id: Id = Field(description="the idempotency key: a replayed batch gets the same receipt")
    records: list[RecordIn] = Field(default=[], max_length=5000)
    custody: list[CustodyIn] = Field(default=[], max_length=5000)


class HeadRequest(BaseModel):
    """The head of the kit's custody chain, to be countersigned (after everything is pushed)."""

    model_config = ConfigDict(extra="forbid")
    seq: Count = Field(description="the last event's sequence number (0: no event yet)")
    hash: Sha256 = Field(description="the last event's hash (64 zeros when there is none)")
    kit_time: text(40, 1) = Field(description="the kit's clock when it sent this, ISO 8601")  # type: ignore[valid-type]


class AccessIn(BaseModel):
    """One entry of a kit's access log."""

    model_config = ConfigDict(extra="forbid")
    id: Id
    at: text(40, 10)  # type: ignore[valid-type]
    action: Annotated[str, Field(pattern=r"^[a-z_]+(\.[a-z_]+)*$", max_length=40)]
    outcome: Literal["ok", "failed", "refused"]
    actor: dict[str, Any] | None = None
    target: text(200) | None = None  # type: ignore[valid-type]
    case_id: Id | None = None
    details: dict[str, Any] = {}

    @model_validator(mode="after")
    def _json(self) -> AccessIn:
        check_json(self.details, "details")
        if self.actor is not None:
            check_json(self.actor, "actor")
        try:
            datetime.fromisoformat(self.at)
        except ValueError:
            raise ValueError("at: not an ISO 8601 time") from None
        return self


class AccessRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[AccessIn] = Field(max_length=2000)


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cert_no: text(32, 1) = Field(description="the officer's law-enforcement certificate number")  # type: ignore[valid-type]
    password: text(200, 1)  # type: ignore[valid-type]


class CommentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: text(4000, 1)  # type: ignore[valid-type]


class ReviewStepRequest(BaseModel):
    """A step of the case procedure a reviewer takes at the central server, for the case's kit."""

    model_config = ConfigDict(extra="forbid")
    action: text(40, 1)  # type: ignore[valid-type]
    reason: text(4000) | None = None  # type: ignore[valid-type]


class BundleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: Sha256
    size: Count


# ---------------------------------------------------------------- what a kit pushes
class _Body(BaseModel):
    """The columns the server relies on; other columns pass as clean JSON (``check_json``)."""

    model_config = ConfigDict(extra="allow")
    id: Id
    row_version: Positive | None = None
    origin_kit: Id | None = None


class CaseBody(_Body):
    number: text(48, 1)  # type: ignore[valid-type]
    title: text(200)  # type: ignore[valid-type]
    status: text(24, 1)  # type: ignore[valid-type]
    party_name: text(200)  # type: ignore[valid-type]
    agency_code: AgencyCode | None = None
    source_id: Id | None = None
    officers: list[Id] = Field(default=[], max_length=100)


class EvidenceBody(_Body):
    case_id: Id
    kind: text(24, 1)  # type: ignore[valid-type]
    sha256: Sha256 | None = None
    size: Count | None = None
    officers: list[Id] = Field(default=[], max_length=100)


class DocumentBody(_Body):
    case_id: Id
    evidence_id: Id
    doc_type: text(48, 1)  # type: ignore[valid-type]
    number: text(64) | None = None  # type: ignore[valid-type]
    agency_code: AgencyCode | None = None
    year: Count | None = None
    seq: Count | None = None
    content_sha256: Sha256


BODIES: dict[str, type[_Body]] = {"case": CaseBody, "evidence": EvidenceBody, "document": DocumentBody}


class CustodyBody(BaseModel):
    """The fields of a custody event's body the server relies on (the rest is the kit's, signed)."""

    model_config = ConfigDict(extra="allow")
    seq: Positive
    kit_id: Id
    id: Id
    prev_hash: Sha256
    evidence_id: Id
    case_id: Id


class ProofRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    challenge: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    proof: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$",
                                description="SHA-256 of the challenge's bytes, then the file's")]
    size: Count
