"""The main window: a thin shell with navigation between the panes and a status bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from kit_app import __version__
from kit_app import roles as R
from kit_app.dto import ImportResult, OfficerInfo
from kit_app.i18n import _
from kit_app.services.admin import AdminService
from kit_app.services.audit import record_refusal
from ui.admin import AdminPane, is_admin
from ui.device_hub import DeviceHub
from ui.devices import DevicesPane
from ui.dialogs import ImportResultDialog
from ui.panes import CasesPane, DeadlinesPane, Pane, ProjectsPane, SourcesPane
from ui.review import ReviewPane, may_review
from ui.services import Services
from ui.sync import SyncController
from ui.tasks import TaskRunner, describe_error


class MainWindow(QMainWindow):
    closed = Signal(bool)  # the window has closed: True when the officer logged out, False to quit

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo, demo: bool = False,
                 hub: DeviceHub | None = None, sync: SyncController | None = None) -> None:
        super().__init__()
        self._own_hub = hub is None
        self._logging_out = False
        self.hub = hub or DeviceHub(services.store.data_dir, self)
        self.services = services
        self.runner = runner
        self.officer = officer
        services.store.gnss = self.hub.gps.current  # custody events take the satellites' time when there is a fix
        runner.refused = lambda exc: record_refusal(services.store, officer, exc)
        self.setWindowTitle((_("demo data") + " — " if demo else "") + _("Enforcement Evidence Kit"))
        self.resize(1280, 780)

        self.sources = SourcesPane(services, runner, officer)
        self.projects = ProjectsPane(services, runner, officer)
        self.cases = CasesPane(services, runner, officer)
        self.devices = DevicesPane(services, runner, officer, self.hub)
        self.deadlines = DeadlinesPane(services, runner, officer)
        self.panes: list[tuple[str, Pane]] = [
            (_("Pollution sources"), self.sources),
            (_("Construction projects"), self.projects),
            (_("Cases"), self.cases),
            (_("Devices"), self.devices),
            (_("My deadlines"), self.deadlines),
        ]
        if may_review(officer):  # review staff: the cases waiting for them
            self.review = ReviewPane(services, runner, officer)
            self.panes.append((_("Review"), self.review))
        if is_admin(officer):  # administrators: officers, agency, numbers, devices, enrolment, the log
            self.admin = AdminPane(services, runner, officer)
            self.panes.append((_("Administration"), self.admin))
            self.admin.show_devices.connect(lambda: self.nav.setCurrentRow(self.panes.index((_("Devices"),
                                                                                              self.devices))))
            self.admin.enrol_requested.connect(self.enrol)
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(190)
        self.nav.setStyleSheet("QListWidget { font-size: 15px; } QListWidget::item { padding: 10px 8px; }")
        self.stack = QStackedWidget()
        for title, pane in self.panes:
            self.nav.addItem(title)
            self.stack.addWidget(pane)
            pane.status_message.connect(lambda m: self.statusBar().showMessage(m, 8000))
            pane.data_changed.connect(self._broadcast)
            pane.capture_requested.connect(self.show_capture)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)
        self.deadlines.open_case.connect(lambda cid, title: self.cases.open_procedure(cid, title))
        self.deadlines.urgent.connect(self._urgent_deadlines)
        self._shown_deadlines = False
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        roles = "、".join(_(R.ROLE_LABELS[r]) for r in officer.roles)
        who = QLabel(_("{name} ({cert}) · {roles}").format(name=officer.name, cert=officer.cert_no, roles=roles))
        who.setObjectName("status_officer")
        where = QLabel(_("Data: {path}").format(path=services.store.data_dir)
                       + (" · " + _("read-only") if services.store.read_only else ""))
        where.setObjectName("status_data_dir")
        if services.store.read_only:
            where.setToolTip(_("This data directory is read-only: cases and evidence can be browsed, printed and "
                               "verified, not changed."))
        self.gps_status = QLabel()
        self.gps_status.setObjectName("status_gps")
        self.device_status = QLabel()
        self.device_status.setObjectName("status_devices")
        # the kit's sync outlives a login; a window of its own (tests) owns one
        self.sync = sync or SyncController(services.store, runner, self)
        self.sync_status = QLabel(self.sync.text)
        self.sync_status.setObjectName("status_sync")
        self.sync.changed.connect(self.sync_status.setText)
        self.sync.synced.connect(self._synced)
        self.statusBar().addPermanentWidget(self.sync_status)
        self.statusBar().addPermanentWidget(self.gps_status)
        self.statusBar().addPermanentWidget(self.device_status)
        self._device_timer = QTimer(self)
        self._device_timer.timeout.connect(self._update_device_status)
        self._device_timer.start(1000)
        self._update_device_status()
        self.cases.evidence.case_changed.connect(self._case_for_capture)
        self.statusBar().addPermanentWidget(who)
        self.statusBar().addPermanentWidget(where)
        self._menus()

    def _urgent_deadlines(self, n: int) -> None:
        """At login, a deadline overdue or due within three days brings the officer to the list."""
        row = self.panes.index((_("My deadlines"), self.deadlines))
        item = self.nav.item(row)
        item.setText(_("My deadlines") + (f" ({n})" if n else ""))
        item.setForeground(QColor("#c62828") if n else self.nav.palette().text().color())
        if n and not self._shown_deadlines:
            self.nav.setCurrentRow(row)
            self.statusBar().showMessage(_("Deadlines overdue or due within three days: {n}.").format(n=n), 15000)
        self._shown_deadlines = True

    def _menus(self) -> None:
        file = self.menuBar().addMenu(_("&File"))
        can_import = R.can(self.officer, "basedata.import")
        for text, kind in ((_("Import pollution sources…"), "sources"),
                           (_("Import construction projects…"), "projects")):
            act = QAction(text, self)
            act.setEnabled(can_import)
            act.triggered.connect(lambda _c=False, k=kind: self.import_file(k))
            file.addAction(act)
        file.addSeparator()
        enrol = QAction(_("Enrol with the central server…"), self)
        enrol.triggered.connect(self.enrol)
        file.addAction(enrol)
        preflight = QAction(_("Pre-flight check…"), self)
        preflight.setObjectName("preflight_action")
        preflight.setToolTip(_("Before leaving for an inspection: disk, battery, clock, GPS, instruments, camera, "
                               "document numbers, sync and the signing key"))
        preflight.triggered.connect(self.preflight)
        file.addAction(preflight)
        sync = QAction(_("Sync now"), self)
        sync.setObjectName("sync_now")
        sync.triggered.connect(lambda: self.sync.sync_now())
        file.addAction(sync)
        file.addSeparator()
        logout = QAction(_("Log out"), self)
        logout.setObjectName("logout")
        logout.triggered.connect(self._logout)
        file.addAction(logout)
        quit_ = QAction(_("Quit"), self)
        quit_.setObjectName("quit")
        quit_.setShortcut(QKeySequence.StandardKey.Quit)
        quit_.triggered.connect(self.close)
        file.addAction(quit_)
        case = self.menuBar().addMenu(_("&Case"))
        new = QAction(_("New case…"), self)
        new.setShortcut(QKeySequence.StandardKey.New)
        new.setEnabled(R.can(self.officer, "case.create"))
        new.triggered.connect(lambda: (self.nav.setCurrentRow(2), self.cases.new_case()))
        case.addAction(new)
        find = QAction(_("Find a pollution source"), self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: (self.nav.setCurrentRow(0), self.sources.search.setFocus()))
        case.addAction(find)
        check = QAction(_("Check a paper copy…"), self)
        check.setToolTip(_("Scan or type the QR code printed on a document to check it against the issued record"))
        check.triggered.connect(self.check_paper_copy)
        case.addAction(check)
        help_ = self.menuBar().addMenu(_("&Help"))
        about = QAction(_("About"), self)
        about.triggered.connect(self._about)
        help_.addAction(about)

    def preflight(self) -> QDialog:
        from ui.preflight import PreflightDialog

        dlg = PreflightDialog(self, self.services, self.runner, self.officer, self.hub)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        return dlg

    def _synced(self, _result: dict) -> None:  # type: ignore[type-arg]
        self.cases.refresh()  # sync states, pulled assignments, review comments

    def _update_device_status(self) -> None:
        self.gps_status.setText(self.hub.gps.describe())
        self.device_status.setText(self.hub.summary())

    def _case_for_capture(self, case_id: str | None) -> None:
        if case_id:
            self.devices.select_case(case_id)

    def _broadcast(self, what: str) -> None:
        for _title, pane in self.panes:
            pane.on_data_changed(what)
            ws = getattr(pane, "workspace", None)
            if what == "evidence" and ws is not None and ws.isVisible():
                ws.evidence_added()

    def show_capture(self, case_id: str) -> None:
        """The devices, capturing to ``case_id`` (an inspection's item asked for a photo or reading)."""
        self.devices.select_case(case_id)
        self.nav.setCurrentRow(self.panes.index((_("Devices"), self.devices)))
        self.raise_()
        self.activateWindow()

    def import_file(self, kind: str) -> None:
        path, _f = QFileDialog.getOpenFileName(
            self, _("Choose a spreadsheet"), str(Path.home()), _("Spreadsheets (*.csv *.xlsx);;All files (*)"))
        if not path:
            return
        fn = self.services.importer.import_sources if kind == "sources" else self.services.importer.import_projects
        self.statusBar().showMessage(_("Importing {file}…").format(file=Path(path).name))

        def done(res: ImportResult) -> None:
            self.statusBar().clearMessage()
            ImportResultDialog(res, self).open()
            self._broadcast(kind)

        def failed(exc: BaseException) -> None:
            self.statusBar().clearMessage()
            QMessageBox.warning(self, _("Import failed"), describe_error(exc))

        self.runner.run(lambda: fn(Path(path), actor=self.officer), done, failed)

    def enrol(self) -> None:
        from ui.sync import EnrolDialog

        dlg = EnrolDialog(self.services.store, self.runner, self)
        def enrolled() -> None:
            fp = (dlg.result or {}).get("server_fingerprint") or ""
            server = (dlg.result or {}).get("server") or ""
            self.runner.run(lambda: AdminService(self.services.store).record(
                self.officer, "central.enrol", server, {"server_fingerprint": fp}),
                lambda _r: self._broadcast("admin"))
            QMessageBox.information(self, _("Enrolled"), _(
                "This kit is enrolled. The server's fingerprint is\n\n{fp}\n\nIt must be the one the administrator "
                "gave you; if it is not, tell them before syncing.").format(fp=fp))
            self.statusBar().showMessage(_("Enrolled: syncing now."), 8000)
            self.sync.sync_now()

        dlg.accepted.connect(enrolled)
        dlg.open()
        self.enrol_dialog = dlg

    def check_paper_copy(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        code, ok = QInputDialog.getText(self, _("Check a paper copy"),
                                        _("The QR code of the document (a scanner types it here):"))
        if not ok or not code.strip():
            return

        def done(res: dict) -> None:  # type: ignore[type-arg]
            if res["ok"]:
                msg = _("Matches {title} {number}, issued {at}.").format(
                    title=res["title"], number=res["number"] or "", at=res["issued_local"])
                QMessageBox.information(self, _("Check a paper copy"), msg)
            else:
                QMessageBox.warning(self, _("Check a paper copy"), _("Does not match: {reason}").format(
                    reason=res["reason"]))

        self.runner.run(lambda: self.services.documents.check_code(code), done,
                        lambda exc: QMessageBox.warning(self, _("Check a paper copy"), describe_error(exc)))

    def _logout(self) -> None:
        self._logging_out = True
        if not self.close():
            self._logging_out = False

    def _about(self) -> None:
        QMessageBox.about(
            self, _("About"),
            _("Enforcement Evidence Kit {version}\nEnvironmental enforcement evidence workstation.\n"
              "Kit id: {kit}").format(version=__version__, kit=self.services.store.kit_id))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self._own_hub:
            self.hub.shutdown()
        self.runner.wait(10000)
        super().closeEvent(event)
        if event.isAccepted():
            logout, self._logging_out = self._logging_out, False
            self.closed.emit(logout)
