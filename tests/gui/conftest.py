from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from kit_app.db import Store
from kit_app.dto import OfficerInfo
from ui.app import load_fonts, make_qapplication
from ui.services import Services
from ui.tasks import TaskRunner


@pytest.fixture(autouse=True)
def _qt_settings(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture(scope="session")
def qapp_cls():  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    return QApplication


@pytest.fixture(scope="session")
def kit_qapp(qapp):  # type: ignore[no-untyped-def]
    app = make_qapplication()
    load_fonts(app)
    return app


@pytest.fixture
def runner(kit_qapp) -> Iterator[TaskRunner]:  # type: ignore[no-untyped-def]
    r = TaskRunner()
    yield r
    r.wait(10000)


@pytest.fixture
def services(demo_store: Store) -> Services:
    return Services.build(demo_store)


@pytest.fixture
def officer(services: Services) -> OfficerInfo:
    return services.officers.login("45010320231", "demo1234")


@pytest.fixture
def reviewer(services: Services) -> OfficerInfo:
    return services.officers.login("45010020105", "demo1234")


def wait_rows(qtbot: QtBot, model, n: int = 1, timeout: int = 5000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: model.rowCount() >= n, timeout=timeout)
