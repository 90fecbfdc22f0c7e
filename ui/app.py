"""Composition root: builds the QApplication, translations and fonts, opens the store in a
worker, logs the officer in and shows the main window. Start-up is a flat list of logged steps.

The application decides when it ends, not Qt: windows come and go (the progress dialog, the first
administrator, login, the main window, login again after a logout), and closing one must never end
the run because it happened to be the last one on screen for a moment. The run ends only on the
officer's explicit exit — Quit at login, closing the main window, cancelling the first dialog (or
Ctrl+C / SIGTERM) — or after the error dialog of a data dir that cannot be opened.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QLibraryInfo, QLocale, QSocketNotifier, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

import resources
from kit_app import i18n
from kit_app.config import setup_logging
from kit_app.db import Store, open_store
from kit_app.db.store import forbid_store_access
from kit_app.dto import OfficerInfo
from kit_app.i18n import _
from kit_app.settings import Preferences, load_preferences, resolve_data_dir, save_preferences
from ui import automation
from ui.device_hub import DeviceHub
from ui.dialogs import FirstAdminDialog, LoginDialog
from ui.main_window import MainWindow
from ui.services import Services
from ui.sync import SyncController
from ui.tasks import IO, Cancelled, TaskRunner, describe_error

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

    def __init__(self, app: QApplication, data_dir: Path, demo: bool, lang: str,
                 prefs: Preferences | None = None) -> None:
        self.app = app
        self.prefs = prefs or Preferences()
        # Only the quit paths below end the run (see the module docstring).
        app.setQuitOnLastWindowClosed(False)
        self.data_dir = data_dir
        self.demo = demo
        self.lang = lang
        self.runner = TaskRunner(app)
        self.sync_runner = TaskRunner(app)  # a long upload never holds up closing a window
        self.translators = Translators(app)
        self.translators.set(lang)
        self.store: Store | None = None
        self.services: Services | None = None
        self.sync: SyncController | None = None
        self.window: MainWindow | None = None
        self.login: LoginDialog | None = None
        self.first_admin: FirstAdminDialog | None = None
        self.progress: QProgressDialog | None = None
        self.hub: DeviceHub | None = None
        self.rig: Any = None
        self._pending_store: Store | None = None  # opened in the worker, attached on the GUI thread
        self.closing = False

    def quit(self, code: int = 0) -> None:
        log.info("exit (%d)", code)
        self.app.exit(code)

    # step 1: open the store (and fill the demo data dir) in the worker
    def start(self) -> None:
        from kit_app.services.vault import Vault

        vault = Vault(self.data_dir)
        if vault.encrypted and self.demo:  # the demo kit: its demo password is no secret
            self._open(demo_vault=vault)
            return
        if vault.encrypted:  # locked: the sign-in unlocks it
            log.info("step: the data dir is encrypted; sign in to unlock it")
            self.show_login(unlock=vault)
            return
        if vault.fresh and not self.demo:  # a new kit: encrypted from its first byte, with its first administrator
            log.info("step: a new data dir; asking for the first administrator")
            self.first_admin = FirstAdminDialog(None, self.runner, create=lambda name, cert, pw: self._opened_store(
                vault.create(name=name, cert_no=cert, password=pw)))
            self.first_admin.accepted.connect(self._first_admin_created)
            self.first_admin.rejected.connect(self.quit)
            self.first_admin.open()
            return
        self._open(fresh_demo=vault.fresh)

    def _opened_store(self, store: Store) -> Store:
        """In the worker: what every newly opened store goes through (start-up recovery)."""
        from kit_app.evidence.service import EvidenceService

        try:
            if not store.read_only and (removed := EvidenceService(store).recover()):
                log.info("evidence recovery: %s", removed)
        except BaseException:
            store.close()
            raise
        self._pending_store = store
        return store

    def _attach(self, store: Store) -> None:
        """On the GUI thread: the opened store's services, devices and sync."""
        self._pending_store = None
        self.store = store
        self.services = Services.build(store)
        self.hub = DeviceHub(store.data_dir)
        self.sync = SyncController(store, self.sync_runner, interval_ms=self.prefs.sync_interval_ms)
        log.info("step: store open: %s (kit %s%s)", store.data_dir, store.kit_id,
                 ", encrypted" if store.key is not None else "")
        if self.demo:
            self._start_demo_devices()  # autostarts once the simulators run
        else:
            self.hub.autostart()  # the devices configured to start with the app (the GNSS receiver)

    def _open(self, fresh_demo: bool = False, demo_vault: Any = None) -> None:
        progress = self.progress = QProgressDialog(_("Opening the data directory…"), _("Cancel"), 0, 0)
        progress.setWindowTitle(_("Enforcement Evidence Kit"))
        progress.setMinimumDuration(400)
        progress.setAutoClose(False)
        progress.setValue(0)  # starts the clock: shown after 400 ms even if no progress is ever reported
        log.info("step: opening the data dir %s", self.data_dir)

        def work(ctx):  # type: ignore[no-untyped-def]
            from kit_app.evidence.service import EvidenceService

            automation.pause("open")
            from kit_app.services.demo import DEMO_OFFICERS, DEMO_PASSWORD

            if fresh_demo:  # the demo kit is encrypted too; its officers' demo password unlocks it
                from kit_app.services.vault import Vault

                store = Vault(self.data_dir).create_empty(DEMO_OFFICERS[0][1], DEMO_PASSWORD)
            elif demo_vault is not None:
                store = demo_vault.open(DEMO_OFFICERS[0][1], DEMO_PASSWORD)
            else:
                store = open_store(self.data_dir)
            try:
                # start-up recovery: what an interrupted evidence import left behind goes away
                if not store.read_only and (removed := EvidenceService(store).recover()):
                    log.info("evidence recovery: %s", removed)
                if self.demo and not store.read_only:
                    from kit_app.services.demo import DemoGenerator

                    DemoGenerator(store, seed=1).fill(DEMO_SOURCES, DEMO_PROJECTS, progress=ctx.progress)
            except BaseException:
                store.close()
                raise
            return store

        def on_progress(done: int, total: int) -> None:
            if self.progress is not None:
                self.progress.setLabelText(
                    _("Generating demo base data… {done} of {total}").format(done=done, total=total))
                self.progress.setMaximum(total)
                self.progress.setValue(done)

        def opened(store: Store) -> None:
            self._end_progress()
            if handle.cancelled:  # Cancel pressed after the last point the work could stop
                store.close()
                failed(Cancelled())
                return
            self._attach(store)
            assert self.services is not None
            self.runner.run(self.services.officers.count, self._officers_counted, self._fatal)

        def failed(exc: BaseException) -> None:
            self._end_progress()
            if isinstance(exc, Cancelled):
                log.info("step: opening cancelled by the officer")
                self.quit(0)
            else:
                self._fatal(exc)

        handle = self.runner.run(work, opened, failed, on_progress=on_progress, with_context=True)
        self._cancel_open = handle.cancel
        progress.canceled.connect(self._cancel_open)

    def _end_progress(self) -> None:
        if self.progress is not None:
            self.progress.canceled.disconnect(self._cancel_open)  # closing emits canceled(): no cancel
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def _start_demo_devices(self) -> None:
        """The shipped simulators stand in for the kit's devices (started off the GUI thread)."""
        from devices.demo import DemoRig

        self.rig = DemoRig(self.data_dir)

        def started(_configs: object) -> None:
            if self.hub is not None and not self.closing:
                self.hub.reload()
                self.hub.autostart()

        self.runner.run(self.rig.start, started, lambda e: log.warning("demo devices: %s", e), lane=IO)

    # step 2: first administrator on a new data dir, then login
    def _officers_counted(self, n: int) -> None:
        assert self.services is not None
        if n == 0:
            log.info("step: no officers yet, asking for the first administrator")
            self.first_admin = FirstAdminDialog(self.services, self.runner)  # kept: no Qt parent
            self.first_admin.accepted.connect(self._first_admin_created)
            self.first_admin.rejected.connect(self.quit)
            self.first_admin.open()
            return
        self.show_login()

    def _first_admin_created(self) -> None:
        self._drop("first_admin")
        if self.store is None and self._pending_store is not None:  # a new encrypted kit, opened by its creation
            self._attach(self._pending_store)
        self.show_login()

    def _drop(self, attr: str) -> None:
        """Forget a dialog that has done its part (deleted once control is back in the event loop)."""
        dialog = getattr(self, attr)
        setattr(self, attr, None)
        if dialog is not None:
            dialog.deleteLater()

    def show_login(self, unlock: Any = None) -> None:
        """The sign-in; with ``unlock`` (a locked, encrypted data dir's Vault) it unlocks and opens
        the store first, in the worker, with the same certificate number and password."""
        log.info("step: login")
        login = None
        if unlock is not None and self.store is None:
            def login(cert: str, password: str) -> OfficerInfo:
                store = self._opened_store(unlock.open(cert, password))
                from kit_app.services.officers import OfficerService

                return OfficerService(store).login(cert, password)
        else:
            assert self.services is not None
        self.login = LoginDialog(self.services, self.runner, self.lang, demo=self.demo, login=login)
        self.login.language_changed.connect(self._change_language)
        self.login.logged_in.connect(self.show_main)
        self.login.rejected.connect(self.quit)
        self.login.open()

    def _change_language(self, lang: str) -> None:
        self.lang = i18n.set_language(lang)
        self.translators.set(self.lang)
        set_display_name(self.app)
        self.prefs = self.prefs.changed(language=self.lang)
        prefs = self.prefs
        self.runner.run(lambda: save_preferences(prefs), None,
                        lambda e: log.warning("the language could not be kept: %s", e), lane=IO)
        log.info("language: %s", self.lang)
        if self.login is not None:
            self.login.retranslate()

    # step 3: the main window; closing it quits, logging out goes back to step 2
    def show_main(self, officer: OfficerInfo) -> MainWindow:
        if self.store is None and self._pending_store is not None:  # just unlocked by this sign-in
            self._attach(self._pending_store)
        assert self.services is not None
        log.info("step: officer %s logged in", officer.cert_no)
        self._drop("login")
        self.window = MainWindow(self.services, self.runner, officer, demo=self.demo, hub=self.hub, sync=self.sync)
        self.window.closed.connect(self._main_closed)
        self.window.show()
        return self.window

    def _main_closed(self, logout: bool) -> None:
        self._drop("window")
        if logout:
            log.info("step: logged out")
            self.show_login()
        else:
            self.quit(0)

    def _fatal(self, exc: BaseException) -> None:
        log.info("step: cannot go on: %s", exc)
        QMessageBox.critical(None, _("Enforcement Evidence Kit"), describe_error(exc))
        self.quit(1)

    def shutdown(self) -> None:
        self.closing = True
        self.runner.wait(15000)  # the demo rig may still be starting its simulators
        self.sync_runner.wait(15000)
        if self.hub is not None:
            self.hub.shutdown()
        if self.rig is not None:
            self.rig.stop()
        if self.store is not None:
            if self.services is not None:
                self.services.evidence.blobs.forget_plain()  # decrypted copies opened for viewing
            self.store.close()


def make_qapplication(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("EnforcementEvidenceKit")
    app.setOrganizationName("EnforcementEvidenceKit")
    set_display_name(app)
    return app  # type: ignore[return-value]


def set_display_name(app: QApplication) -> None:
    """The name the window system adds to a window title that does not end with it already."""
    app.setApplicationDisplayName(_("Enforcement Evidence Kit"))


class SignalWakeup:
    """Ctrl+C in the terminal that started the application, and SIGTERM (the system shutting down),
    end the run the way Quit does. Python runs its signal handlers only when it next runs Python
    code, which Qt's event loop may not do for a long time (at login, nothing ticks), so the C
    handler writes the signal number to a socket whose notifier wakes the event loop."""

    def __init__(self, app: QApplication, on_signal: Callable[[int], None]) -> None:
        self.rsock, self.wsock = socket.socketpair()
        for sock in (self.rsock, self.wsock):
            sock.setblocking(False)
        self.on_signal = on_signal
        self.notifier = QSocketNotifier(self.rsock.fileno(), QSocketNotifier.Type.Read, app)
        self.notifier.activated.connect(self._readable)
        signal.set_wakeup_fd(self.wsock.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda _n, _f: None)  # the number is already in the socket

    def _readable(self) -> None:
        try:
            data = self.rsock.recv(64)
        except BlockingIOError:
            return
        for signum in data:
            log.info("signal %d received: quitting", signum)
            self.on_signal(signum)

    def close(self) -> None:
        signal.set_wakeup_fd(-1)
        self.notifier.setEnabled(False)
        self.rsock.close()
        self.wsock.close()


def no_display() -> bool:
    """On Linux without X11 or Wayland (an SSH session, a console), Qt would abort with a core dump."""
    env = os.environ
    return (sys.platform.startswith("linux") and not env.get("QT_QPA_PLATFORM")
            and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"))


def run(args: argparse.Namespace) -> int:
    data_dir = resolve_data_dir(args.data_dir, demo=args.demo)
    setup_logging(data_dir, args.verbose)
    if no_display():
        print(_("The desktop application needs a graphical session (X11 or Wayland), and none was found. "
                "Start it from the desktop, or use the kit-app commands, which work without one."),
              file=sys.stderr)
        return 1
    app = make_qapplication()
    hook = automation.install(app)  # only when the launcher's smoke tests ask for it
    forbid_store_access("the window's thread")  # the GUI never waits for the disk (ui.tasks)
    prefs = load_preferences()
    lang = i18n.set_language(args.lang or prefs.language)
    set_display_name(app)
    family = load_fonts(app)
    log.info("start: data dir %s, language %s, font %s", data_dir, lang, family)
    install_crash_handler(data_dir)
    kit = Application(app, data_dir, args.demo, lang, prefs)
    wakeup = SignalWakeup(app, lambda signum: kit.quit(128 + signum))
    kit.start()
    code = app.exec()
    kit.shutdown()
    del hook
    wakeup.close()
    log.info("stopped (%d)", code)
    return code
