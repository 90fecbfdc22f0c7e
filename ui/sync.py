"""Sync in the app: enrolment dialog, "Sync now", a background sync every few minutes while the
kit is enrolled, and the state in the status bar (not enrolled / syncing / synced at … / failed
with the reason / N items waiting). Enrolment and sync run on the runner's sync lane (network
calls that take minutes must not hold up the database lane); the status is read on the database lane."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from kit_app.db import Store
from kit_app.i18n import _
from kit_app.services.review import apply_review_steps
from kit_app.settings import Preferences
from kit_app.timeutil import LOCAL_TZ
from ui.tasks import SYNC, TaskRunner, describe_error


class EnrolDialog(QDialog):
    def __init__(self, store: Store, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.runner = store, runner
        self.setWindowTitle(_("Enrol with the central server"))
        self.server = QLineEdit()
        self.server.setPlaceholderText("https://kit.sthjt.gxzf.gov.cn")
        self.code = QLineEdit()
        self.code.setPlaceholderText("ABCD-EFGH-JKMN-PQRS")
        self.name = QLineEdit()
        self.fingerprint = QLineEdit()
        self.fingerprint.setObjectName("fingerprint")
        self.fingerprint.setPlaceholderText("3f2a 9c01 …")
        self.fingerprint.setToolTip(_("The administrator gives it with the code; if you enter it, enrolment stops "
                                      "when the server shows another"))
        self.result: dict | None = None  # type: ignore[type-arg]
        self.error = QLabel()
        self.error.setStyleSheet("color: #c62828")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow(_("Server address"), self.server)
        form.addRow(_("Enrolment code"), self.code)
        form.addRow(_("Name of this kit"), self.name)
        form.addRow(_("Server fingerprint"), self.fingerprint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(_("The administrator of the central server gives each kit a one-time code.")))
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)

    def submit(self) -> None:
        from kit_app.sync.client import enrol
        from kit_app.sync.trust import TrustError, check_url

        server, code, name = self.server.text().strip(), self.code.text().strip(), self.name.text().strip() or None
        fingerprint = self.fingerprint.text().strip() or None
        try:
            check_url(server)
        except TrustError as exc:
            self.error.setText(str(exc))
            return
        if not code:
            self.error.setText(_("Enter the enrolment code."))
            return
        self.buttons.setEnabled(False)
        self.error.setText(_("Enrolling…"))

        def failed(exc: BaseException) -> None:
            self.buttons.setEnabled(True)
            self.error.setText(describe_error(exc))

        def done(res: dict) -> None:  # type: ignore[type-arg]
            self.result = res
            self.accept()

        self.runner.run(lambda: enrol(self.store, server, code, name, fingerprint=fingerprint), done, failed,
                        lane=SYNC)


class SyncController(QObject):
    """Runs syncs (one at a time) and says how things stand."""

    changed = Signal(str)
    synced = Signal(dict)  # a sync went through: what was pushed, pulled and uploaded
    progressed = Signal(dict)  # from the worker thread (queued to the GUI thread)

    def __init__(self, store: Store, runner: TaskRunner, parent: QObject | None = None, *,
                 interval_ms: int = Preferences().sync_interval_ms) -> None:
        super().__init__(parent)
        self.store, self.runner = store, runner
        self.running = False
        self.text = ""
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.sync_now(quiet=True))
        if not store.read_only:  # an archived, read-only store has nothing to send and takes nothing
            self.timer.start(interval_ms)
        self.progressed.connect(self._progress)
        self.refresh()

    def refresh(self) -> None:
        from kit_app.sync.client import status

        self.runner.run(lambda: status(self.store), self._show_status, lambda _e: None)

    def _show_status(self, st: dict[str, Any]) -> None:
        if self.running:
            return
        if not st["enrolled"]:
            self._say(_("Sync: not enrolled"))
        elif st["synced"]:
            when = datetime.fromisoformat(st["last_receipt_at"]).astimezone(LOCAL_TZ).strftime("%m-%d %H:%M") \
                if st["last_receipt_at"] else "—"
            self._say(_("Synced {when}").format(when=when))
        else:
            self._say(_("Sync: {n} waiting").format(n=st["records"] + st["custody_events"] + st["originals"]))

    def _progress(self, t: dict[str, Any]) -> None:
        if not self.running:
            return
        if "bytes" in t:
            self._say(_("Syncing: uploaded {n} originals ({mb:.1f} MB)…").format(n=t["blobs"], mb=t["bytes"] / 1e6))
        elif "items" in t:
            self._say(_("Syncing: pulled {n} items…").format(n=t["items"]))
        elif "custody_events" in t:
            self._say(_("Syncing: pushed {records} records, {events} custody events…").format(
                records=t["records"], events=t["custody_events"]))

    def _say(self, text: str) -> None:
        self.text = text
        self.changed.emit(text)

    def sync_now(self, quiet: bool = False) -> None:
        from kit_app.sync.client import enrolment, sync, whoami

        if self.running:
            return
        self.running = True
        self._say(_("Syncing…"))

        def work() -> dict[str, Any]:
            if enrolment(self.store) is None:
                return {"enrolled": False}
            whoami(self.store)  # reachable, and this kit still known (a revoked kit learns it here)
            res = sync(self.store, lambda totals: self.progressed.emit(dict(totals)))
            return {"enrolled": True} | res | {"review_steps": apply_review_steps(self.store)}

        def done(res: dict[str, Any]) -> None:
            self.running = False
            self.refresh()
            if res.get("enrolled"):
                self.synced.emit(res)

        def failed(exc: BaseException) -> None:
            self.running = False
            self._say(_("Sync failed: {reason}").format(reason=describe_error(exc)))

        self.runner.run(work, done, failed, lane=SYNC)
