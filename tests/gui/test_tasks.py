"""The threading rule (ui.tasks): short store work on the one database thread, slow work that must
not touch the store on the I/O pool (the store refuses it there), sync with the server on a lane of
its own that never holds up the database lane."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from kit_app.db import Store
from kit_app.db.store import StoreAccessError, forbid_store_access, store_access_forbidden
from ui.tasks import DB, IO, SYNC, TaskRunner, describe_error

pytestmark = pytest.mark.gui


def run(qtbot: QtBot, runner: TaskRunner, fn: Any, lane: str) -> tuple[str, Any]:
    """('done', result) or ('failed', exception) of one task."""
    out: list[tuple[str, Any]] = []
    runner.run(fn, lambda r: out.append(("done", r)), lambda e: out.append(("failed", e)), lane=lane)
    qtbot.waitUntil(lambda: bool(out), timeout=10000)
    return out[0]


def count_officers(store: Store) -> Any:
    from kit_app.services.officers import OfficerService

    return OfficerService(store).count()


def test_each_lane_its_threads_and_the_store_refused_on_io(qtbot: QtBot, runner: TaskRunner, store: Store) -> None:
    def where() -> str:
        return threading.current_thread().name

    db_thread = run(qtbot, runner, where, DB)[1]
    assert run(qtbot, runner, where, DB)[1] == db_thread  # one database thread
    assert run(qtbot, runner, where, SYNC)[1] != db_thread
    assert run(qtbot, runner, lambda: count_officers(store), DB) == ("done", 0)
    assert run(qtbot, runner, lambda: count_officers(store), SYNC) == ("done", 0)
    kind, exc = run(qtbot, runner, lambda: count_officers(store), IO)
    assert kind == "failed" and isinstance(exc, StoreAccessError) and "an I/O worker" in str(exc)
    assert describe_error(exc).startswith("An unexpected error occurred")  # a bug, never a traceback
    assert run(qtbot, runner, lambda: 6 * 7, IO) == ("done", 42)
    # the I/O thread is usable by the store again once the task is over: the refusal is per task
    assert run(qtbot, runner, lambda: count_officers(store), DB) == ("done", 0)


def test_a_long_sync_never_holds_up_the_database_lane(qtbot: QtBot, runner: TaskRunner, store: Store) -> None:
    release = threading.Event()
    order: list[str] = []
    runner.run(lambda: (release.wait(10), order.append("sync"))[1], lane=SYNC)
    runner.run(lambda: (count_officers(store), order.append("db"))[1])
    qtbot.waitUntil(lambda: order == ["db"], timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: order == ["db", "sync"], timeout=5000)


def test_a_thread_forbidden_the_store_is_refused_and_others_are_not(store: Store) -> None:
    with store_access_forbidden("a test"):
        with pytest.raises(StoreAccessError):
            count_officers(store)
        other: list[Any] = []
        t = threading.Thread(target=lambda: other.append(count_officers(store)))
        t.start()
        t.join()
        assert other == [0]
    assert count_officers(store) == 0

    def gui_like() -> None:
        forbid_store_access("the window's thread")
        try:
            other.append(count_officers(store))
        except StoreAccessError as exc:
            other.append(str(exc))

    t = threading.Thread(target=gui_like)
    t.start()
    t.join()
    assert other[1].startswith("the database was used from the window's thread") and count_officers(store) == 0


def test_a_result_for_a_closed_window_is_dropped(qtbot: QtBot, runner: TaskRunner) -> None:
    """Logging out closes the main window while its lists still load: their results find no label."""
    import shiboken6
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    release = threading.Event()
    after: list[str] = []
    runner.run(lambda: release.wait(5) and "loaded", label.setText)
    runner.run(lambda: "next", after.append)  # the lane goes on
    shiboken6.delete(label)
    release.set()
    qtbot.waitUntil(lambda: after == ["next"], timeout=5000)  # no exception reached the event loop
    with pytest.raises(RuntimeError, match="boom"):  # other errors still surface
        from ui.tasks import _to_live_widgets

        def boom(_v: object) -> None:
            raise RuntimeError("boom")

        _to_live_widgets(boom)(None)
