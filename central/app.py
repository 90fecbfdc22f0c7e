"""The HTTP API, ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``, browsable at ``/api/v1/docs``).

Every request is validated at the boundary (``central.schemas``); bodies are limited while they
stream in (``BodyLimit``), not only by their Content-Length; every refusal is ``{"detail": "..."}``
with the status the OpenAPI document declares for it.

No ``from __future__ import annotations`` here: FastAPI reads the endpoint annotations at run time.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

from central.db import make_engine, sessions
from central.schemas import (
    MAX_INT,
    SHA256_PATTERN,
    UUID_PATTERN,
    AccessRequest,
    BundleEntry,
    CommentRequest,
    EnrolRequest,
    HeadRequest,
    LoginRequest,
    ProofRequest,
    PushRequest,
    ReviewStepRequest,
)
from central.service import (
    CHUNK_LIMIT,
    PULL_LIMIT,
    Central,
    CentralError,
    Feed,
    Officers,
    Push,
    Witness,
)
from central.service.blobs import BlobBackend
from central.service.blobs_s3 import open_blob_store
from central.signing import Signer
from kit_app.i18n import _

API = "/api/v1"
THREADS = int(__import__("os").environ.get("KIT_CENTRAL_THREADS") or 8)  # per process; the pool matches
JSON_LIMIT = 4 * 1024 * 1024  # a push batch is a few hundred KB; the kit keeps its batches under 2 MB
BLOB_LIMIT = CHUNK_LIMIT + 1024 * 1024  # a chunk, or a bundle with its manifest line
MANIFEST_LIMIT = 1024 * 1024

log = logging.getLogger("central.api")


class Error(BaseModel):
    detail: str


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The refusals a route declares: its own, plus those any request can meet — a body that is
    not JSON (400), one over the size limit (413), a field that is not valid (422)."""
    return {c: {"model": Error} for c in sorted({*codes, 400, 413, 422})}


AUTH = (401, 403)


# ---------------------------------------------------------------- limits while streaming
class BodyLimit:
    """Refuse a request body over its limit while it streams in (413), whatever Content-Length
    says or whether there is one (``Transfer-Encoding: chunked``): the server never holds more."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @staticmethod
    def limit(path: str, method: str) -> int:
        if path.startswith(f"{API}/blobs") and method in ("PUT", "POST") and not path.endswith("/proof"):
            return BLOB_LIMIT
        return JSON_LIMIT

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"], scope["method"])
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        too_large = _("the request body exceeds {limit} bytes").format(limit=limit)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await JSONResponse({"detail": too_large}, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, too_large)
            return message

        await self.app(scope, counted, send)


# ---------------------------------------------------------------- the application
def create_app(db_url: str, storage: Path | str | BlobBackend | None = None, signing_key: Path | None = None,
               s3_endpoint: str | None = None) -> FastAPI:
    """The application over the database at ``db_url`` and the evidence store ``storage`` (a
    directory, or ``s3://BUCKET[/PREFIX]`` on S3-compatible object storage). It keeps no state of
    its own: any number of processes, on any number of machines, can serve the same database and
    store (``kit-central serve --workers N``)."""
    engine = make_engine(db_url)
    central = Central(sessions(engine))
    storage = storage or Path("central-data") / "blobs"
    if signing_key is None:
        if not isinstance(storage, Path):
            raise ValueError("an object store needs the signing key's file named")
        signing_key = storage.parent / "signing-key.pem"
    signer = Signer.load_or_create(signing_key, central.sessions)
    blobs = open_blob_store(storage, s3_endpoint)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        # as many threads for the database work as the pool has connections: more only queue for one
        # (and contend for the interpreter), fewer leave connections idle
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        async def expire() -> None:  # stale unfinished uploads go, at start and every hour
            while True:
                try:
                    if n := await asyncio.to_thread(blobs.expire):
                        log.info("removed %d unfinished uploads older than a week", n)
                except Exception:  # the store unreachable for now: the next hour tries again
                    log.exception("expiring unfinished uploads in %s", blobs)
                await asyncio.sleep(3600)

        task = asyncio.create_task(expire())
        yield
        task.cancel()

    app = FastAPI(title="Enforcement Evidence Kit — central server", version="1", lifespan=lifespan,
                  openapi_url=f"{API}/openapi.json", docs_url=f"{API}/docs", redoc_url=None)
    app.add_middleware(BodyLimit)
    app.state.central = central
    push = Push(central, signer)
    app.state.push = push
    app.state.signer = signer
    app.state.storage = storage
    app.state.blobs = blobs

    @app.exception_handler(CentralError)
    async def _refused(_request: Request, exc: CentralError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        """One sentence naming the field, like every other refusal."""
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        return JSONResponse({"detail": f"{where}: {first.get('msg', 'invalid')}"}, status_code=422)

    kit_bearer = HTTPBearer(scheme_name="KitCredential", auto_error=False,
                            description="the credential a kit received at enrolment")
    officer_bearer = HTTPBearer(scheme_name="OfficerToken", auto_error=False,
                                description="the token POST /api/v1/login gives an officer")

    def _token(creds: HTTPAuthorizationCredentials | None, missing: str) -> str:
        if creds is None or not creds.credentials:
            raise HTTPException(401, missing)
        return creds.credentials

    def kit(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(kit_bearer)]) -> dict[str, Any]:
        token = _token(creds, _("a kit credential is required (Authorization: Bearer …)"))
        found = central.kit_for(token)
        if found is None:
            raise HTTPException(401, _("unknown, expired or revoked kit credential"))
        return found

    def officer(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(officer_bearer)]) -> dict[str, Any]:
        token = _token(creds, _("sign in first (POST /api/v1/login; Authorization: Bearer <token>)"))
        found = officers.officer_for(token)
        if found is None:
            raise HTTPException(401, _("unknown or expired session: sign in again"))
        return found | {"token": token}

    Kit = Annotated[dict[str, Any], Depends(kit)]
    OfficerDep = Annotated[dict[str, Any], Depends(officer)]
    Sha = Annotated[str, PathParam(pattern=SHA256_PATTERN, min_length=64, max_length=64)]
    Offset = Annotated[int, Query(ge=0, le=MAX_INT)]

    @app.get(f"{API}/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(f"{API}/enrol", status_code=201, responses=_errors(400, 403, 409))
    def enrol(req: EnrolRequest) -> dict[str, Any]:
        """Use a one-time code: the kit's id and custody key are registered, a credential comes back."""
        return central.enrol(req.code, req.kit_id, req.public_key_pem, req.name)

    @app.get(f"{API}/server-key")
    def server_key() -> dict[str, str]:
        """The public key receipts are signed with (Ed25519, PEM) and its fingerprint: the person
        enrolling a kit compares it with the one the administrator gave them."""
        return {"public_key_pem": signer.public_pem(), "fingerprint": signer.fingerprint()}

    @app.get(f"{API}/kit", responses=_errors(*AUTH))
    def whoami(k: Kit) -> dict[str, Any]:
        return {key: v for key, v in k.items() if key != "credential_used"}

    @app.post(f"{API}/kit/credential", responses=_errors(*AUTH))
    def renew(k: Kit) -> dict[str, Any]:
        """A new credential for this kit; the one this request came with keeps working until the
        new one is first used."""
        return central.renew_credential(k["kit_id"], k["credential_used"])

    # ------------------------------------------------------------ evidence originals
    @app.get(f"{API}/blobs/{{sha}}", responses=_errors(*AUTH))
    def blob_state(sha: Sha, k: Kit) -> dict[str, Any]:
        """How many bytes of this kit's upload the server has, and a challenge: a kit that holds
        the file proves it (``POST /blobs/{sha}/proof``) and gets a receipt without sending it,
        if the server holds it already. Nothing here says whether it does."""
        return {"sha256": sha, "offset": blobs.offset(k["kit_id"], sha),
                "challenge": blobs.challenge(signer, k["kit_id"], sha)}

    @app.post(f"{API}/blobs/{{sha}}/proof", responses=_errors(*AUTH))
    async def blob_proof(sha: Sha, req: ProofRequest, k: Kit) -> dict[str, Any]:
        """``proof`` = SHA-256 of the challenge's bytes followed by the file's: a receipt if the
        server holds the file and the proof is right; otherwise the kit uploads it."""
        ok = await asyncio.to_thread(blobs.check_proof, signer, k["kit_id"], sha, req.challenge, req.proof, req.size)
        if not ok:
            return {"sha256": sha, "stored": False}
        return {"sha256": sha, "stored": True,
                "receipt": await asyncio.to_thread(push.blob_receipt, k["kit_id"], sha, req.size)}

    upload_body = {"requestBody": {"required": True, "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}

    @app.put(f"{API}/blobs/{{sha}}", responses=_errors(*AUTH, 409, 413, 503, 507), openapi_extra=upload_body)
    async def blob_chunk(sha: Sha, request: Request, offset: Offset, size: Offset, k: Kit) -> dict[str, Any]:
        """Append a chunk at ``offset`` of a blob of ``size`` bytes (at most 16 MB a chunk, never
        past ``size``); the last chunk completes it and the server checks its SHA-256 before
        keeping it (a signed receipt comes back)."""
        declared = int(request.headers.get("content-length") or 0)
        if offset + declared > size:
            raise HTTPException(413, _("the chunk runs past the declared size of the file"))
        chunks, n = [], 0
        async for c in request.stream():  # at most BLOB_LIMIT bytes (BodyLimit)
            n += len(c)
            if offset + n > size or n > CHUNK_LIMIT:
                raise HTTPException(413, _("the chunk runs past the declared size of the file"))
            chunks.append(c)
        await asyncio.to_thread(blobs.check_quota, central, k["kit_id"], n)
        new = await asyncio.to_thread(blobs.append, k["kit_id"], sha, offset, chunks, size)
        if new < size:
            return {"sha256": sha, "stored": False, "offset": new}
        if not await asyncio.to_thread(blobs.finish, central, k["kit_id"], sha, size):
            raise HTTPException(422, _("the uploaded bytes do not have the SHA-256 {sha}: upload again").format(
                sha=sha))
        return {"sha256": sha, "stored": True, "offset": size,
                "receipt": await asyncio.to_thread(push.blob_receipt, k["kit_id"], sha, size)}

    bundle_body = {"requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {
        "type": "string", "format": "binary",
        "description": "a line of JSON [{sha256, size}, ...], then the files' bytes back to back"}}}}}

    @app.post(f"{API}/blobs", responses=_errors(*AUTH, 413, 503, 507), openapi_extra=bundle_body)
    async def blob_bundle(request: Request, k: Kit) -> dict[str, Any]:
        """Many small blobs in one request (at most 16 MB): a first line of JSON
        ``[{"sha256": ..., "size": ...}, ...]``, then their bytes back to back. Each is checked
        against its SHA-256; a signed receipt comes back for each one received whole."""
        body = await request.body()  # at most BLOB_LIMIT bytes (BodyLimit)
        head, sep, data = body.partition(b"\n")
        bad = _("a bundle starts with a line of JSON: [{sha256, size}, ...]")
        if not sep or len(head) > MANIFEST_LIMIT:
            raise HTTPException(422, bad)
        try:
            manifest = json.loads(head)
            if not isinstance(manifest, list) or len(manifest) > 10_000:
                raise ValueError(bad)
            entries = [(e.sha256, e.size) for e in (BundleEntry.model_validate(m) for m in manifest)]
        except (ValueError, RecursionError, ValidationError):
            raise HTTPException(422, bad) from None
        if sum(size for _s, size in entries) != len(data):
            raise HTTPException(422, _("the manifest lists {listed} bytes, the bundle carries {carried}").format(
                listed=sum(s for _h, s in entries), carried=len(data)))
        await asyncio.to_thread(blobs.check_quota, central, k["kit_id"], len(data))
        items, at = [], 0
        for sha, size in entries:
            items.append((sha, data[at:at + size]))
            at += size
        problems = await asyncio.to_thread(blobs.put_many, items, central, k["kit_id"])
        good = [(sha, size) for (sha, size), p in zip(entries, problems, strict=True) if p is None]
        receipts = iter(await asyncio.to_thread(push.blob_receipts, k["kit_id"], good))
        return {"results": [{"sha256": sha, "stored": p is None, **({"receipt": next(receipts)} if p is None
                                                                     else {"error": p})}
                            for (sha, _size), p in zip(entries, problems, strict=True)]}

    # ------------------------------------------------------------ push and pull
    @app.post(f"{API}/push", responses=_errors(*AUTH, 409, 413))
    def push_batch(req: PushRequest, k: Kit) -> dict[str, Any]:
        """Accept a batch: records are upserted (a kit writes only its own cases, their evidence
        and documents; issued documents and custody events append-only), the custody chain is
        checked (continuity, hashes, the kit's signatures, each event's item and case); a signed
        receipt comes back. A replayed batch gets the same receipt; a batch id reused for other
        content is refused."""
        return push.accept(k["kit_id"], req.batch_id, [r.model_dump() for r in req.records],
                           [c.model_dump() for c in req.custody])

    witness = Witness(central, signer)
    app.state.witness = witness

    @app.post(f"{API}/custody/head", responses=_errors(*AUTH, 409))
    def custody_head(req: HeadRequest, k: Kit) -> dict[str, Any]:
        """Countersign the head of the kit's custody chain (after it pushed everything): the head
        must be the last event this server holds of the chain, and every head countersigned before
        must still be part of it. The signed answer carries the server's time (the kit measures its
        clock's offset from it) and the head countersigned before."""
        return witness.countersign(k["kit_id"], req.seq, req.hash, req.kit_time)

    @app.post(f"{API}/access", responses=_errors(*AUTH, 409, 413))
    def access_log(req: AccessRequest, k: Kit) -> dict[str, Any]:
        """Keep a batch of the kit's access log (logins and failed logins, originals viewed, papers
        printed, cases exported, refused actions, administrators' changes); append-only, each entry
        once by its id; a signed receipt over exactly what was sent."""
        return witness.accept_access(k["kit_id"], [e.model_dump() for e in req.events])

    feed = Feed(central)
    officers = Officers(central)

    @app.get(f"{API}/pull", responses=_errors(*AUTH))
    def pull(k: Kit, since: Offset = 0, limit: Annotated[int, Query(ge=1, le=5000)] = PULL_LIMIT) -> dict[str, Any]:
        """What changed since server sequence number ``since`` that this kit may see: agencies,
        its agency's officers (with their offline-login verifiers), sources, projects, checklists,
        form definitions, its number blocks, assignments and review comments. Continue with
        ``since=next`` while ``more``."""
        return feed.pull(k["kit_id"], k["agency_code"], since, limit)

    # ------------------------------------------------------------ officers as themselves
    @app.post(f"{API}/login", responses=_errors(401))
    def login(req: LoginRequest) -> dict[str, Any]:
        """An officer signs in as themselves; the token is valid for 12 hours (or until logout or
        a password change). Five failures lock the account for 15 minutes."""
        return officers.login(req.cert_no, req.password)

    @app.post(f"{API}/logout", responses=_errors(401))
    def logout(o: OfficerDep) -> dict[str, str]:
        officers.logout(o["token"])
        return {"status": "signed out"}

    @app.get(f"{API}/me", responses=_errors(401))
    def me(o: OfficerDep) -> dict[str, Any]:
        return {k: v for k, v in o.items() if k != "token"}

    @app.get(f"{API}/cases", responses=_errors(401))
    def cases(o: OfficerDep) -> list[dict[str, Any]]:
        """The cases the officer may see: a county its county, a city its counties, the province all."""
        return officers.cases(o)

    CaseId = Annotated[str, PathParam(pattern=UUID_PATTERN, min_length=36, max_length=36)]

    @app.get(f"{API}/cases/{{case_id}}", responses=_errors(401, 404))
    def case(case_id: CaseId, o: OfficerDep) -> dict[str, Any]:
        return officers.case(o, case_id)

    @app.get(f"{API}/review/queue", responses=_errors(401, 403))
    def review_queue(o: OfficerDep) -> list[dict[str, Any]]:
        """Cases of the reviewer's agency and below waiting for review staff, with the steps sent to
        their kits and not yet applied."""
        return officers.review_queue(o)

    @app.post(f"{API}/cases/{{case_id}}/review", status_code=201, responses=_errors(401, 403, 404, 409, 422))
    def review_step(case_id: CaseId, req: ReviewStepRequest, o: OfficerDep) -> dict[str, Any]:
        """A review step (take for review, approve, send back, an opinion…), checked against the case
        and sent to its kit, which takes it at its next sync."""
        return officers.review_step(o, case_id, req.action, req.reason)

    @app.post(f"{API}/cases/{{case_id}}/comments", status_code=201, responses=_errors(401, 403, 404))
    def comment(case_id: CaseId, req: CommentRequest, o: OfficerDep) -> dict[str, Any]:
        """A review comment (reviewers, administrators); kits pull it with the case."""
        return officers.comment(o, case_id, req.text)

    # ------------------------------------------------------------ administration
    @app.get(f"{API}/kits", responses=_errors(401, 403))
    def kits(o: OfficerDep) -> list[dict[str, Any]]:
        """The kits of the administrator's agency and below."""
        return central.kits(viewer=_admin(o))

    @app.post(f"{API}/kits/{{kit_id}}/revoke", responses=_errors(401, 403, 404))
    def revoke(kit_id: CaseId, o: OfficerDep) -> dict[str, Any]:
        """Revoke a kit (lost, stolen): refused at once from then on."""
        return central.revoke_kit(kit_id, viewer=_admin(o))

    from central.console import mount

    mount(app, central)

    def _admin(o: dict[str, Any]) -> str:
        if "admin" not in o["roles"]:
            raise HTTPException(403, _("only administrators manage kits"))
        return str(o["agency"])

    return app


ENV_STORAGE = "KIT_CENTRAL_STORAGE"


def from_env() -> FastAPI:
    """The application as each worker process of ``kit-central serve --workers N`` builds it: from
    ``KIT_CENTRAL_DB``, ``KIT_CENTRAL_STORAGE``, ``KIT_CENTRAL_SIGNING_KEY`` and
    ``KIT_CENTRAL_S3_ENDPOINT``, which the serving command sets for them."""
    import os

    from central.signing import ENV_KEY_FILE

    return create_app(os.environ["KIT_CENTRAL_DB"], os.environ[ENV_STORAGE], Path(os.environ[ENV_KEY_FILE]))
