"""A real central server on loopback (uvicorn in a thread), on SQLite and — when
``KIT_TEST_PG_URL`` names a PostgreSQL server (``.ci/run`` starts one) — on PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

PG = os.environ.get("KIT_TEST_PG_URL")  # e.g. postgresql+psycopg://postgres@127.0.0.1:55432/postgres


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.sqlite3'}"
        return
    if not PG:
        pytest.skip("KIT_TEST_PG_URL is not set (.ci/run starts PostgreSQL; locally: "
                    "export KIT_TEST_PG_URL=$(.ci/postgres start /tmp/kit-pg 55432))")
    import psycopg

    name = f"kit_test_{uuid4().hex[:12]}"
    admin = PG.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    yield PG.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


class Server:
    def __init__(self, url: str, storage: Path | str, port: int | None = None, signing_key: Path | None = None) -> None:
        from central.app import create_app
        from central.migrate import upgrade

        upgrade(url)
        self.db_url = url
        self.port = port or _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.app = create_app(url, storage, signing_key)
        self.uvicorn = InThread(self.app, self.port)

    def __enter__(self) -> Server:
        self.uvicorn.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uvicorn.stop()
        self.app.state.central.sessions.kw["bind"].dispose()


class InThread:
    """An ASGI app served by uvicorn on loopback, in a thread of the test process."""

    def __init__(self, app: object, port: int) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        end = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > end:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    with Server(db_url, tmp_path / "blobs") as s:
        yield s


@pytest.fixture(autouse=True)
def _shipped_definitions_only() -> Iterator[None]:
    """Definitions pulled in one test must not leak into the next (the registry is per process)."""
    import forms.model

    yield
    forms.model.EXTRA_DIRS.clear()
    forms.model.definitions.cache_clear()


class ServerProcess:
    """``kit-central serve`` in its own process: it can be killed like a real one."""

    def __init__(self, db_url: str, storage: Path | str, key: Path | None = None, extra: tuple[str, ...] = ()) -> None:
        self.db_url, self.storage, self.port = db_url, storage, _free_port()
        self.key = key or Path(storage).parent / "signing-key.pem"
        self.extra = extra
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([str(Path(sys.executable).with_name("kit-central")), "--db", self.db_url, "--signing-key",
                                      str(self.key), "serve", "--storage", str(self.storage), "--port", str(self.port),
                                      *self.extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)  # its workers too are killed with it
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("kit-central serve did not start")

    def kill(self) -> None:
        """SIGKILL to the server and its worker processes (no chance to tidy up)."""
        if self.proc is not None:
            import signal

            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None


class S3Server:
    """An S3-compatible object store on loopback (moto in server mode, its own process)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p",
                                      str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                httpx.get(self.endpoint, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start")

    def bucket(self) -> str:
        """A new, empty bucket: its s3:// URL (with a prefix, as a shared bucket would have)."""
        import boto3

        name = f"kit-{uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=self.endpoint).create_bucket(Bucket=name)
        return f"s3://{name}/evidence"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    env = {"AWS_ACCESS_KEY_ID": "kit-test", "AWS_SECRET_ACCESS_KEY": "kit-test-secret",
           "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    server = S3Server()
    os.environ["KIT_CENTRAL_S3_ENDPOINT"] = server.endpoint
    yield server
    server.stop()
    os.environ.pop("KIT_CENTRAL_S3_ENDPOINT", None)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
