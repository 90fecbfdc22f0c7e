"""A man in the middle for the sync tests: forwards every request to the real central server and
lets a test rewrite the JSON answers (a forged receipt, another batch's receipt, a server that
answers without storing anything) — what a hostile network or a fake server would send."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.central.conftest import InThread, _free_port

Rewrite = Callable[[str, str, Any], Any]  # (method, path, answer) -> new answer


class Forger:
    def __init__(self, target: str, rewrite: Rewrite | None = None) -> None:
        self.target = target
        self.rewrite: Rewrite = rewrite or (lambda _m, _p, body: body)
        self.forward = True  # False: answer without asking the server (it stores nothing)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.client = httpx.Client(base_url=target, timeout=30)
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST", "PUT"])])
        self.uvicorn = InThread(app, self.port)

    async def _handle(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        if self.forward:
            r = self.client.request(request.method, path, params=dict(request.query_params), content=body,
                                    headers=headers)
            status, answer = r.status_code, r.json()
        else:
            status, answer = 200, None
        answer = self.rewrite(request.method, path, answer)
        return Response(json.dumps(answer), status_code=status, media_type="application/json")

    def __enter__(self) -> Forger:
        self.uvicorn.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uvicorn.stop()
        self.client.close()
