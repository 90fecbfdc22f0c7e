"""Composition root: builds the QApplication, translations and fonts, opens the store in a
worker, logs the officer in and shows the main window. Start-up is a flat list of logged steps.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import sys
import traceback
from typing import Any
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QLibraryInfo, QLocale, QSettings, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

import resources
from kit_app import i18n
from kit_app.config import resolve_data_dir, setup_logging
from kit_app.db import Store, open_store
from kit_app.dto import OfficerInfo
from kit_app.i18n import _
from ui.dialogs import FirstAdminDialog, LoginDialog
from ui.devices import DeviceHub
from ui.main_window import MainWindow
from ui.services import Services
from ui.tasks import TaskRunner, describe_error

log = logging.getLogger("ui.app")

FONT_FILES = ("NotoSansSC-Regular.ttf", "NotoSansSC-Bold.ttf")
DEMO_SOURCES, DEMO_PROJECTS = 23000, 3000


def load_fonts(app: QApplication) -> str | None:
    """Load the bundled CJK font and make it the application font; return its family."""
    family = None
    for name in FONT_FILES:
        fid = QFontDatabase.addApplicationFont(str(resources.path("fonts", name)))
        if fid < 0:
            log.error("cannot load bundled font %s", name)
            continue
        family = family or QFontDatabase.applicationFontFamilies(fid)[0]
    if family:
        app.setFont(QFont(family, 10))
    return family


class Translators:
    """Qt's own translations for standard dialogs (qtbase_zh_CN), switched with the language."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.qt = QTranslator(app)
        self.installed = False

    def set(self, lang: str) -> None:
        if self.installed:
            self.app.removeTranslator(self.qt)
            self.installed = False
        QLocale.setDefault(QLocale(lang))
        if lang == "zh_CN":
            path = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
            if self.qt.load("qtbase_zh_CN", path):
                self.app.installTranslator(self.qt)
                self.installed = True


def install_crash_handler(data_dir: Path) -> None:
    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.critical("uncaught exception", exc_info=(kind, value, tb))
        text = "".join(traceback.format_exception(kind, value, tb))
        box = QMessageBox(QMessageBox.Icon.Critical, _("Unexpected error"),
                          _("Something went wrong. Your committed work is safe. The details are in {log}.")
                          .format(log=data_dir / "logs" / "kit.log"))
        box.setDetailedText(text)
        box.exec()

    sys.excepthook = hook
    try:
        faulthandler.enable()
    except (RuntimeError, ValueError, OSError):
        log.info("faulthandler unavailable: no usable stderr (a windowed build)")


class Application:
    """Holds the long-lived objects of one run of the desktop application."""

    def __init__(self, app: QApplication, data_dir: Path, demo: bool, lang: str) -> None:
        self.app = app
        self.data_dir = data_dir
        self.demo = demo
        self.lang = lang
        self.runner = TaskRunner(app)
        self.translators = Translators(app)
        self.translators.set(lang)
        self.store: Store | None = None
        self.services: Services | None = None
        self.window: MainWindow | None = None
        self.login: LoginDialog | None = None
        self.first_admin: FirstAdminDialog | None = None
        self.hub: DeviceHub | None = None
        self.rig: Any = None
        self.closing = False

    # step 1: open the store (and fill the demo data dir) in the worker
    def start(self) -> None:
        progress = QProgressDialog(_("Opening the data directory…"), _("Cancel"), 0, 0)
        progress.setWindowTitle(_("Enforcement Evidence Kit"))
        progress.setMinimumDuration(400)
        progress.setAutoClose(False)

        def work(ctx):  # type: ignore[no-untyped-def]
            from kit_app.evidence.service import EvidenceService

            store = open_store(self.data_dir)
            # start-up recovery: what an interrupted evidence import left behind goes away
            if removed := EvidenceService(store).recover():
                log.info("evidence recovery: %s", removed)
            if self.demo:
                from kit_app.services.demo import DemoGenerator
                from kit_app.services.sources import SourceService

                if SourceService(store).count() == 0:
                    DemoGenerator(store, seed=1).generate(DEMO_SOURCES, DEMO_PROJECTS, progress=ctx.progress)
                else:
                    DemoGenerator(store, seed=1).ensure_officers()
            return store

        def on_progress(done: int, total: int) -> None:
            progress.setLabelText(_("Generating demo base data… {done} of {total}").format(done=done, total=total))
            progress.setMaximum(total)
            progress.setValue(done)

        def opened(store: Store) -> None:
            progress.close()
            self.store = store
            self.services = Services.build(store)
            self.hub = DeviceHub(store.data_dir)
            log.info("store open: %s (kit %s)", store.data_dir, store.kit_id)
            if self.demo:
                self._start_demo_devices()
            self.runner.run(self.services.officers.count, self._officers_counted, self._fatal)

        def failed(exc: BaseException) -> None:
            progress.close()
            self._fatal(exc)

        handle = self.runner.run(work, opened, failed, on_progress=on_progress, with_context=True)
        progress.canceled.connect(handle.cancel)

    def _start_demo_devices(self) -> None:
        """The shipped simulators stand in for the kit's devices (started off the GUI thread)."""
        from devices.demo import DemoRig

        self.rig = DemoRig(self.data_dir)

        def started(_configs: object) -> None:
            if self.hub is not None and not self.closing:
                self.hub.configs = self.hub.store.load()
                self.hub.devices_changed.emit()
                self.hub.autostart()

        self.runner.run(self.rig.start, started, lambda e: log.warning("demo devices: %s", e), io=True)

    # step 2: first administrator on a new data dir, then login
    def _officers_counted(self, n: int) -> None:
        assert self.services is not None
        if n == 0:
            self.first_admin = FirstAdminDialog(self.services, self.runner)  # kept: no Qt parent
            self.first_admin.accepted.connect(self.show_login)
            self.first_admin.rejected.connect(self.app.quit)
            self.first_admin.open()
            return
        self.show_login()

    def show_login(self) -> None:
        assert self.services is not None
        self.login = LoginDialog(self.services, self.runner, self.lang, demo=self.demo)
        self.login.language_changed.connect(self._change_language)
        self.login.logged_in.connect(self.show_main)
        self.login.rejected.connect(self.app.quit)
        self.login.open()

    def _change_language(self, lang: str) -> None:
        self.lang = i18n.set_language(lang)
        self.translators.set(self.lang)
        QSettings().setValue("language", self.lang)
        if self.login is not None:
            self.login.retranslate()

    # step 3: the main window
    def show_main(self, officer: OfficerInfo) -> MainWindow:
        assert self.services is not None
        log.info("officer %s logged in", officer.cert_no)
        self.window = MainWindow(self.services, self.runner, officer, demo=self.demo, hub=self.hub)
        self.window.logout_requested.connect(self.show_login)
        self.window.show()
        return self.window

    def _fatal(self, exc: BaseException) -> None:
        QMessageBox.critical(None, _("Enforcement Evidence Kit"), describe_error(exc))
        self.app.exit(1)

    def shutdown(self) -> None:
        self.closing = True
        self.runner.wait(15000)  # the demo rig may still be starting its simulators
        if self.hub is not None:
            self.hub.shutdown()
        if self.rig is not None:
            self.rig.stop()
        if self.store is not None:
            self.store.close()


def make_qapplication(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("EnforcementEvidenceKit")
    app.setOrganizationName("EnforcementEvidenceKit")
    app.setApplicationDisplayName("环境执法取证工作站")
    return app  # type: ignore[return-value]


def run(args: argparse.Namespace) -> int:
    data_dir = resolve_data_dir(args.data_dir, demo=args.demo)
    setup_logging(data_dir, args.verbose)
    app = make_qapplication()
    lang = i18n.set_language(args.lang or QSettings().value("language") or None)
    family = load_fonts(app)
    log.info("start: data dir %s, language %s, font %s", data_dir, lang, family)
    install_crash_handler(data_dir)
    kit = Application(app, data_dir, args.demo, lang)
    kit.start()
    code = app.exec()
    kit.shutdown()
    return code
