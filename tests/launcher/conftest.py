from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.launcher import KitApp, Xvfb


@pytest.fixture(scope="session")
def display() -> Iterator[Xvfb | None]:
    """A virtual X server when Xvfb is installed (make test installs it on Debian), else offscreen."""
    if not Xvfb.available():
        yield None
        return
    x = Xvfb()
    yield x
    x.stop()


@pytest.fixture
def launch(display: Xvfb | None, tmp_path: Path) -> Iterator[Callable[..., KitApp]]:
    """Start ``kit-app ARGS`` as its own process; every run is ended (killed if need be) afterwards."""
    runs: list[KitApp] = []

    def start(*args: str, env: dict[str, str] | None = None) -> KitApp:
        app = KitApp(tmp_path / "home", list(args), display, env)
        runs.append(app)
        return app

    yield start
    for app in runs:
        app.close()
