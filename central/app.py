"""The HTTP API, ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``, browsable at ``/api/v1/docs``).

No ``from __future__ import annotations`` here: FastAPI reads the endpoint annotations at run time.
"""


from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from central.db import make_engine, sessions
from central.service import (
    CHUNK_LIMIT,
    PULL_LIMIT,
    BlobStore,
    Central,
    CentralError,
    Feed,
    Officers,
    Push,
)
from kit_app.i18n import _

API = "/api/v1"


class EnrolRequest(BaseModel):
    code: str = Field(description="the one-time enrolment code, e.g. ABCD-EFGH-JKMN-PQRS")
    kit_id: str = Field(max_length=36, description="the kit's id (chosen by the kit, UUIDv7)")
    public_key_pem: str = Field(description="the kit's Ed25519 custody public key, PEM")
    name: str | None = Field(default=None, max_length=100)


class EnrolResponse(BaseModel):
    kit_id: str
    credential: str = Field(description="send as 'Authorization: Bearer <credential>' from now on")
    agency_code: str
    agency_name: str | None


class CustodyIn(BaseModel):
    seq: int
    id: str
    body: str = Field(description="the canonical JSON the kit hashed, verbatim")
    hash: str
    signature: str


class RecordIn(BaseModel):
    entity: str = Field(description="case, evidence or document")
    id: str
    row_version: int = 1
    body: dict[str, Any]


class PushRequest(BaseModel):
    batch_id: str = Field(description="the idempotency key: a replayed batch gets the same receipt")
    records: list[RecordIn] = []
    custody: list[CustodyIn] = []


class LoginRequest(BaseModel):
    cert_no: str = Field(description="the officer's law-enforcement certificate number")
    password: str


class CommentRequest(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class KitInfo(BaseModel):
    kit_id: str
    agency_code: str
    name: str | None
    enrolled_at: str


def _bearer(authorization: str | None, lookup: Callable[[str], dict[str, Any] | None], missing: str,
            unknown: str) -> dict[str, Any]:
    """Who a bearer token stands for (a kit or an officer), else 401 saying why."""
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, missing)
    found = lookup(authorization.removeprefix("Bearer ").strip())
    if found is None:
        raise HTTPException(401, unknown)
    return found


def create_app(db_url: str, storage: Path | None = None) -> FastAPI:
    engine = make_engine(db_url)
    central = Central(sessions(engine))
    app = FastAPI(title="Enforcement Evidence Kit — central server", version="1",
                  openapi_url=f"{API}/openapi.json", docs_url=f"{API}/docs", redoc_url=None)
    app.state.central = central
    push = Push(central)
    app.state.push = push
    app.state.storage = storage

    @app.exception_handler(CentralError)
    async def _refused(_request: Request, exc: CentralError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    def kit(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        return _bearer(authorization, central.kit_for, _("a kit credential is required (Authorization: Bearer …)"),
                       _("unknown or revoked kit credential"))

    @app.get(f"{API}/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(f"{API}/enrol", status_code=201, response_model=EnrolResponse)
    def enrol(req: EnrolRequest) -> dict[str, Any]:
        return central.enrol(req.code, req.kit_id, req.public_key_pem, req.name)

    @app.get(f"{API}/kit", response_model=KitInfo)
    def whoami(k: Annotated[dict[str, Any], Depends(kit)]) -> dict[str, Any]:
        return k

    blobs = BlobStore(storage or Path("central-data") / "blobs")
    app.state.blobs = blobs

    def _sha(sha: str) -> str:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise HTTPException(422, _('a blob is named by its SHA-256 in lower-case hex'))
        return sha

    @app.get(f"{API}/blobs/{{sha}}")
    def blob_state(sha: str, k: Annotated[dict[str, Any], Depends(kit)]) -> dict[str, Any]:
        """Whether the server holds the blob, else how many bytes of this kit's upload it has."""
        _sha(sha)
        if blobs.has(sha):  # held already (this kit's earlier upload, or the same file from another kit)
            size = blobs.path(sha).stat().st_size
            return {"sha256": sha, "stored": True, "offset": size,
                    "receipt": push.blob_receipt(k["kit_id"], sha, size)}
        return {"sha256": sha, "stored": False, "offset": blobs.offset(k["kit_id"], sha)}

    @app.put(f"{API}/blobs/{{sha}}")
    async def blob_chunk(sha: str, request: Request, offset: int, size: int,
                         k: Annotated[dict[str, Any], Depends(kit)]) -> dict[str, Any]:
        """Append a chunk at ``offset`` of a blob of ``size`` bytes; the last chunk completes it
        and the server checks its SHA-256 before accepting it (a signed receipt comes back)."""
        import asyncio

        _sha(sha)
        if blobs.has(sha):
            return {"sha256": sha, "stored": True, "offset": size}
        if int(request.headers.get("content-length") or 0) > CHUNK_LIMIT:
            raise HTTPException(413, _("a chunk may not exceed {CHUNK_LIMIT} bytes").format(CHUNK_LIMIT=CHUNK_LIMIT))
        chunks = [c async for c in request.stream()]  # at most CHUNK_LIMIT bytes: bounded memory
        new = await asyncio.to_thread(blobs.append, k["kit_id"], sha, offset, chunks)
        if new < size:
            return {"sha256": sha, "stored": False, "offset": new}
        if new > size or not await asyncio.to_thread(blobs.finish, k["kit_id"], sha, size):
            raise HTTPException(422, _("the uploaded bytes do not have the SHA-256 {sha}: upload again").format(
                sha=sha))
        return {"sha256": sha, "stored": True, "offset": size,
                "receipt": await asyncio.to_thread(push.blob_receipt, k["kit_id"], sha, size)}

    @app.post(f"{API}/blobs")
    async def blob_bundle(request: Request, k: Annotated[dict[str, Any], Depends(kit)]) -> dict[str, Any]:
        """Many small blobs in one request (at most 16 MB): a first line of JSON
        ``[{"sha256": ..., "size": ...}, ...]``, then their bytes back to back. Each is checked
        against its SHA-256; a signed receipt comes back for each one stored (or held already)."""
        import asyncio
        import json

        if int(request.headers.get("content-length") or 0) > CHUNK_LIMIT + 1024 * 1024:
            raise HTTPException(413, _("a bundle may not exceed {CHUNK_LIMIT} bytes").format(CHUNK_LIMIT=CHUNK_LIMIT))
        body = await request.body()
        head, sep, data = body.partition(b"\n")
        try:
            manifest = json.loads(head) if sep else None
            entries = [(_sha(str(m["sha256"])), int(m["size"])) for m in manifest]  # type: ignore[union-attr]
        except (ValueError, TypeError, KeyError):
            raise HTTPException(422, _("a bundle starts with a line of JSON: [{sha256, size}, ...]")) from None
        if sum(size for _s, size in entries) != len(data):
            raise HTTPException(422, _("the manifest lists {listed} bytes, the bundle carries {carried}").format(
                listed=sum(s for _h, s in entries), carried=len(data)))
        items, at = [], 0
        for sha, size in entries:
            items.append((sha, data[at:at + size]))
            at += size
        problems = await asyncio.to_thread(blobs.put_many, items)
        good = [(sha, size) for (sha, size), p in zip(entries, problems, strict=True) if p is None]
        receipts = iter(await asyncio.to_thread(push.blob_receipts, k["kit_id"], good))
        return {"results": [{"sha256": sha, "stored": p is None, **({"receipt": next(receipts)} if p is None
                                                                     else {"error": p})}
                            for (sha, _size), p in zip(entries, problems, strict=True)]}

    @app.get(f"{API}/server-key")
    def server_key() -> dict[str, str]:
        """The public key receipts are signed with (Ed25519, PEM)."""
        return {"public_key_pem": push.public_key_pem()}

    @app.post(f"{API}/push")
    def push_batch(req: PushRequest, k: Annotated[dict[str, Any], Depends(kit)]) -> dict[str, Any]:
        """Accept a batch: the custody chain is checked (continuity, hashes, the kit's signatures);
        records are upserted (issued documents and custody events append-only); a signed receipt."""
        return push.accept(k["kit_id"], req.batch_id, [r.model_dump() for r in req.records],
                           [c.model_dump() for c in req.custody])

    feed = Feed(central)
    officers = Officers(central)

    @app.get(f"{API}/pull")
    def pull(k: Annotated[dict[str, Any], Depends(kit)], since: int = 0, limit: int = PULL_LIMIT) -> dict[str, Any]:
        """What changed since server sequence number ``since`` that this kit may see: agencies,
        officers, sources, projects, checklists, form definitions, its number blocks, assignments
        and review comments. Continue with ``since=next`` while ``more``."""
        return feed.pull(k["kit_id"], k["agency_code"], since, limit)

    # ------------------------------------------------------------ officers as themselves
    def officer(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        return _bearer(authorization, officers.officer_for,
                       _("sign in first (POST /api/v1/login; Authorization: Bearer <token>)"),
                       _("unknown or expired session: sign in again"))

    @app.post(f"{API}/login")
    def login(req: LoginRequest) -> dict[str, Any]:
        """An officer signs in as themselves; the token is valid for 12 hours."""
        return officers.login(req.cert_no, req.password)

    @app.get(f"{API}/me")
    def me(o: Annotated[dict[str, Any], Depends(officer)]) -> dict[str, Any]:
        return o

    @app.get(f"{API}/cases")
    def cases(o: Annotated[dict[str, Any], Depends(officer)]) -> list[dict[str, Any]]:
        """The cases the officer may see: a county its county, a city its counties, the province all."""
        return officers.cases(o)

    @app.get(f"{API}/cases/{{case_id}}")
    def case(case_id: str, o: Annotated[dict[str, Any], Depends(officer)]) -> dict[str, Any]:
        return officers.case(o, case_id)

    @app.post(f"{API}/cases/{{case_id}}/comments", status_code=201)
    def comment(case_id: str, req: CommentRequest, o: Annotated[dict[str, Any], Depends(officer)]) -> dict[str, Any]:
        """A review comment (reviewers, administrators); kits pull it with the case."""
        return officers.comment(o, case_id, req.text)

    return app
