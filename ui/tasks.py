"""The one way to run work off the GUI thread, in one of three lanes:

- ``DB`` (the default): one thread for everything short that touches the store. SQLite
  connections and ORM sessions never cross threads; tasks run one after another.
- ``IO``: a small pool for slow work that does not touch the store — reading pictures, rendering
  or printing PDFs, probing ports. The store refuses these threads (``StoreAccessError``).
- ``SYNC``: one thread for work with the central server. Its network calls take minutes, so it
  does not hold up the database lane: between calls it opens sessions of its own, on its own
  thread (SQLite serialises its writes with the database lane's).

The GUI thread itself never touches the store (``ui.app`` forbids it). Results and errors come back
to the GUI thread through queued signals; callbacks never run in a worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from kit_app.db.store import store_access_forbidden
from kit_app.errors import KitError
from kit_app.i18n import _

log = logging.getLogger(__name__)


DB, IO, SYNC = "db", "io", "sync"


class Cancelled(Exception):
    """The user cancelled the task."""


class TaskContext:
    """Handed to a task that wants to report progress or honour cancel."""

    def __init__(self, signals: _Signals, cancel: threading.Event) -> None:
        self._signals = signals
        self._cancel = cancel

    def progress(self, done: int, total: int) -> None:
        """Report progress; stop the task here if the user cancelled."""
        self._signals.progress.emit(done, total)
        if self._cancel.is_set():
            raise Cancelled()

    def report(self, done: int, total: int) -> None:
        """Report progress only (for tasks that check ``cancelled`` themselves)."""
        self._signals.progress.emit(done, total)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[..., Any], signals: _Signals, ctx: TaskContext | None, lane: str,
                 refused: Callable[[BaseException], None] | None = None) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.refused = refused
        self.fn = fn
        self.signals = signals
        self.ctx = ctx
        self.lane = lane

    def _call(self) -> Any:
        if self.lane == IO:
            with store_access_forbidden("an I/O worker"):
                return self.fn(self.ctx) if self.ctx is not None else self.fn()
        return self.fn(self.ctx) if self.ctx is not None else self.fn()

    def run(self) -> None:
        try:
            result = self._call()
        except BaseException as exc:  # noqa: BLE001 - every failure is reported to the GUI
            if not isinstance(exc, (KitError, Cancelled)):
                log.exception("background task failed")
            elif self.refused is not None and self.lane == DB:  # the access log records a refused action
                try:
                    self.refused(exc)
                except Exception:  # noqa: BLE001 - a full disk: the refusal still reaches the officer
                    log.warning("could not record a refused action", exc_info=True)
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


class TaskHandle:
    def __init__(self, signals: _Signals, cancel: threading.Event) -> None:
        self.signals = signals
        self._cancel = cancel

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


def describe_error(exc: BaseException) -> str:
    """A sentence for the user: KitErrors speak for themselves; bugs get a calm message."""
    if isinstance(exc, KitError):
        return str(exc)
    from kit_app.storage import explain

    if (named := explain(exc)) is not None:  # a full disk, a read-only store: not a bug
        return str(named)
    if isinstance(exc, Cancelled):
        return _("Cancelled.")
    return _("An unexpected error occurred ({kind}). The details are in the log file.").format(
        kind=type(exc).__name__
    )


def _to_live_widgets(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    """A result that arrives after its window was closed (logging out closes the main window while its
    lists still load) has nothing left to show: dropped, not an error."""

    def deliver(value: Any) -> None:
        try:
            fn(value)
        except RuntimeError as exc:
            if "already deleted" not in str(exc):  # shiboken's words for a destroyed C++ object
                raise
            log.debug("a result for a closed window was dropped: %s", exc)

    return deliver


class TaskRunner(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # what the window does with an action the core refused (records it in the access log, on
        # the database lane it failed on)
        self.refused: Callable[[BaseException], None] | None = None
        self.db_pool = QThreadPool(self)
        self.db_pool.setMaxThreadCount(1)
        self.db_pool.setObjectName("kit-db")
        self.io_pool = QThreadPool(self)
        self.io_pool.setMaxThreadCount(2)
        self.io_pool.setObjectName("kit-io")
        self.sync_pool = QThreadPool(self)
        self.sync_pool.setMaxThreadCount(1)
        self.sync_pool.setObjectName("kit-sync")
        self.pools = {DB: self.db_pool, IO: self.io_pool, SYNC: self.sync_pool}
        self._live: set[_Signals] = set()

    def run(
        self,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        with_context: bool = False,
        lane: str = DB,
    ) -> TaskHandle:
        """Run ``fn`` in a worker of ``lane``; ``fn(ctx)`` if ``with_context`` (progress and cancel)."""
        signals = _Signals()
        cancel = threading.Event()
        self._live.add(signals)

        def finished(_value: object = None) -> None:
            self._live.discard(signals)
            signals.deleteLater()

        if on_done is not None:
            signals.done.connect(_to_live_widgets(on_done))
        if on_error is not None:
            signals.failed.connect(_to_live_widgets(on_error))
        if on_progress is not None:
            signals.progress.connect(on_progress)
        signals.done.connect(finished)
        signals.failed.connect(finished)
        ctx = TaskContext(signals, cancel) if with_context else None
        self.pools[lane].start(_Runnable(fn, signals, ctx, lane, self.refused))
        return TaskHandle(signals, cancel)

    def wait(self, msecs: int = 30000) -> bool:
        """Wait for all work to finish (used at exit and by tests)."""
        return all(pool.waitForDone(msecs) for pool in self.pools.values())
