"""Remote control of a running application, for the launcher's smoke tests.

Off unless the environment variable ``KIT_TEST_HOOK`` names a socket path (the tests set it; an
officer never does). Then the application listens on that local socket, readable by this user
only, for one JSON object a line and answers each with one JSON object a line:

- ``{"cmd": "windows"}`` — the visible top-level windows: class, title, whether the window system
  shows them (``exposed``), the text of a message box or progress dialog; and the platform.
- ``{"cmd": "read", "window": CLASS, "name": OBJECT_NAME}`` — a child widget's text and visibility.
- ``{"cmd": "set_text" | "choose", "window": CLASS, "name": OBJECT_NAME, "value": ...}`` — fill a
  line edit; pick a combo box entry by its data.
- ``{"cmd": "click", "window": CLASS, "button": "ok" | "cancel" | ... | OBJECT_NAME}`` — press a
  button as the officer would; ``{"cmd": "trigger", "window": CLASS, "action": OBJECT_NAME}`` — a
  menu command; ``{"cmd": "close", "window": CLASS}`` — the window manager's close button.
- ``{"cmd": "grab", "window": CLASS, "path": PNG}`` — a screenshot of the window.

Actions run from the event loop after the answer is sent (a button may open a modal dialog that
runs its own loop), so a test polls ``windows`` for their effect. ``KIT_TEST_OPEN_DELAY`` (seconds)
makes opening the data dir slow, as a slow disk or a long migration would.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QWidget,
)

log = logging.getLogger("ui.automation")

ENV_HOOK = "KIT_TEST_HOOK"
ENV_OPEN_DELAY = "KIT_TEST_OPEN_DELAY"


class AutomationError(Exception):
    """A request names a window or widget that is not there, or is malformed."""


def active() -> bool:
    return bool(os.environ.get(ENV_HOOK))


def pause(step: str) -> None:
    """Called in the worker while the data dir opens: sleep for the configured test delay."""
    if step == "open" and active() and (delay := float(os.environ.get(ENV_OPEN_DELAY) or 0)) > 0:
        log.warning("automation: opening the data dir %.1f s slower", delay)
        time.sleep(delay)


def _window(cls: str) -> QWidget:
    for w in QApplication.topLevelWidgets():
        if w.isVisible() and type(w).__name__ == cls:
            return w
    raise AutomationError(f"no visible window of class {cls}")


def _child(window: QWidget, name: str) -> QWidget:
    child = window.findChild(QWidget, name)
    if child is None:
        raise AutomationError(f"{type(window).__name__} has no widget named {name!r}")
    return child


def _press(window: QWidget, which: str, click: bool) -> None:
    """Find the button (a standard one by its role name, else by object name) and click it.

    The lookup and the click happen in one scope on purpose: PySide invalidates the wrapper of a
    child when the wrapper of the parent it was found through goes away (a message box's buttons
    are found through its button box), so the button must not outlive ``boxes``."""
    boxes = window.findChildren(QDialogButtonBox)
    button: QAbstractButton | None = None
    standard = getattr(QDialogButtonBox.StandardButton, which.capitalize(), None)
    if standard is not None:
        button = next((b for box in boxes if (b := box.button(standard)) is not None), None)
        if button is None and isinstance(window, QProgressDialog) and which == "cancel":
            button = window.findChild(QPushButton)
    if button is None:
        child = _child(window, which)
        if not isinstance(child, QAbstractButton):
            raise AutomationError(f"{which!r} in {type(window).__name__} is not a button")
        button = child
    if click:
        button.click()


def _text_field(window: QWidget, name: str) -> QLineEdit:
    edit = _child(window, name)
    if not isinstance(edit, QLineEdit):
        raise AutomationError(f"{name!r} is not a text field")
    return edit


def _entry(window: QWidget, name: str, data: object) -> Callable[[], None]:
    combo = _child(window, name)
    if not isinstance(combo, QComboBox) or (i := combo.findData(data)) < 0:
        raise AutomationError(f"{name!r} has no entry {data!r}")
    return lambda: combo.setCurrentIndex(i)


def _action(window: QWidget, name: str) -> QAction:
    found = window.findChild(QAction, name)
    if found is None:
        raise AutomationError(f"{type(window).__name__} has no command named {name!r}")
    return found


def _run(action: Callable[[], object]) -> None:
    try:
        action()
    except AutomationError as exc:  # the window went away before the action ran
        log.warning("automation: %s", exc)
    except Exception:  # noqa: BLE001 - a remote-control fault never ends the application
        log.exception("automation: the action failed")


def _describe(w: QWidget) -> dict[str, Any]:
    handle = w.windowHandle()
    out: dict[str, Any] = {
        "class": type(w).__name__,
        "title": w.windowTitle(),
        "exposed": bool(handle is not None and handle.isExposed()),
        "modal": w.isModal(),
    }
    if isinstance(w, QMessageBox):
        out["text"] = w.text()
    elif isinstance(w, QProgressDialog):
        out["text"] = w.labelText()
        out["value"], out["maximum"] = w.value(), w.maximum()
    return out


class Automation(QObject):
    """The local socket server; requests are handled on the GUI thread."""

    def __init__(self, path: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(path)
        if not self.server.listen(path):
            raise OSError(f"cannot listen on {path}: {self.server.errorString()}")
        self.server.newConnection.connect(self._accept)
        log.warning("automation: remote control listening on %s (KIT_TEST_HOOK)", path)

    def _accept(self) -> None:
        while (sock := self.server.nextPendingConnection()) is not None:
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)

    def _read(self, sock: QLocalSocket) -> None:
        while sock.canReadLine():
            line = bytes(sock.readLine().data()).decode("utf-8", "replace")
            try:
                reply = self.handle(json.loads(line))
            except (AutomationError, ValueError, KeyError, TypeError) as exc:
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            sock.write((json.dumps(reply, ensure_ascii=False) + "\n").encode())
            sock.flush()

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        cmd = req["cmd"]
        if cmd == "windows":
            return {"ok": True, "pid": os.getpid(), "platform": QApplication.platformName(),
                    "windows": [_describe(w) for w in QApplication.topLevelWidgets() if w.isVisible()]}
        window = _window(req["window"])
        if cmd == "read":
            child = _child(window, req["name"])
            text = child.text() if isinstance(child, (QLabel, QLineEdit, QAbstractButton)) else None
            if isinstance(child, QComboBox):
                text = child.currentData()
            return {"ok": True, "text": text, "visible": child.isVisible()}
        if cmd == "grab":
            return {"ok": window.grab().save(req["path"])}
        # Check the request now (so that a wrong one is answered as such), act later: the widgets
        # are looked up again when the action runs, the window may have changed in between.
        cls = req["window"]
        action: Callable[[], object]
        if cmd == "set_text":
            _text_field(window, req["name"])
            action = lambda: _text_field(_window(cls), req["name"]).setText(str(req["value"]))  # noqa: E731
        elif cmd == "choose":
            _entry(window, req["name"], req["value"])
            action = lambda: _entry(_window(cls), req["name"], req["value"])()  # noqa: E731
        elif cmd == "click":
            _press(window, req["button"], click=False)
            action = lambda: _press(_window(cls), req["button"], click=True)  # noqa: E731
        elif cmd == "trigger":
            _action(window, req["action"])
            action = lambda: _action(_window(cls), req["action"]).trigger()  # noqa: E731
        elif cmd == "close":
            action = lambda: _window(cls).close()  # noqa: E731
        else:
            raise AutomationError(f"unknown command {cmd!r}")
        QTimer.singleShot(0, lambda: _run(action))
        return {"ok": True}


def install(app: QApplication) -> Automation | None:
    """Start the remote control if the environment asks for it."""
    path = os.environ.get(ENV_HOOK)
    if not path:
        return None
    return Automation(path, app)
