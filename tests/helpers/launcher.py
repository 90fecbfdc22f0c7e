"""The real ``kit-app`` launcher in a subprocess, on a virtual X display (Xvfb) where there is one
and offscreen otherwise, driven through its remote control (``ui/automation.py``)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def kit_app_command() -> str:
    """``kit-app`` as the README's set-up installs it: the console script next to this Python (or,
    with ``KIT_APP_COMMAND``, another build of it, such as the PyInstaller bundle)."""
    if os.environ.get("KIT_APP_COMMAND"):
        return os.environ["KIT_APP_COMMAND"]
    found = shutil.which("kit-app", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError(f"kit-app is not installed next to {sys.executable}: run `make test`")
    return found


class Xvfb:
    """A private virtual X server (no TCP, its own display number)."""

    def __init__(self) -> None:
        self._read, write = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        # Xvfb writes its display number, then a newline, once it accepts clients; the pipe stays
        # open while it runs (closing it early broke the server's start here)
        number = b""
        deadline = time.monotonic() + 20
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            ready, _w, _x = select.select([self._read], [], [], 1)
            if ready and not (chunk := os.read(self._read, 16)):
                break
            number += chunk if ready else b""
        if not number.strip().isdigit():
            self.stop()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number.decode().strip()}"

    def titles(self) -> list[str]:
        """The titles of the windows the X server shows, as any other X client sees them."""
        out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", ".", "getwindowname", "%@"],
                             env={**os.environ, "DISPLAY": self.display}, capture_output=True, text=True,
                             timeout=10)
        return out.stdout.splitlines()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        os.close(self._read)

    @staticmethod
    def available() -> bool:
        return shutil.which("Xvfb") is not None and shutil.which("xdotool") is not None


class AppDied(AssertionError):
    pass


class KitApp:
    """One run of ``kit-app`` with its own home, settings and data dirs under ``home``."""

    def __init__(self, home: Path, args: list[str], display: Xvfb | None, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.display = display
        self._sockdir = tempfile.mkdtemp(prefix="kit-hook-")  # a socket path must stay short
        self.sock_path = os.path.join(self._sockdir, "hook")
        home.mkdir(parents=True, exist_ok=True)
        full = {k: v for k, v in os.environ.items() if not k.startswith(("KIT_", "QT_", "DISPLAY", "WAYLAND"))}
        full.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
                    KIT_TEST_HOOK=self.sock_path, LANG="C.UTF-8")
        if display is not None:
            full.update(DISPLAY=display.display, QT_QPA_PLATFORM="xcb")
        else:
            full.update(QT_QPA_PLATFORM="offscreen")
        full.update(env or {})
        self.stderr_path = home / f"stderr-{time.monotonic_ns()}.txt"
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen([kit_app_command(), *args], env=full, stdin=subprocess.DEVNULL,
                                     stdout=self._stderr, stderr=subprocess.STDOUT, start_new_session=True)
        self._sock: socket.socket | None = None
        self._buf = b""

    # ------------------------------------------------------------ state
    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text("utf-8", "replace")

    def _died(self, doing: str) -> AppDied:
        return AppDied(f"kit-app exited ({self.proc.returncode}) while {doing}; its output:\n{self.output()[-3000:]}")

    # ------------------------------------------------------------ remote control
    def _connect(self, timeout: float) -> socket.socket:
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise self._died("starting")
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(10)
                sock.connect(self.sock_path)
                return sock
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"kit-app did not open its remote control in {timeout} s") from None
                time.sleep(0.05)

    def request(self, **req: Any) -> dict[str, Any]:
        if self._sock is None:
            self._sock = self._connect(30)
        try:
            self._sock.sendall(json.dumps(req).encode() + b"\n")
            while b"\n" not in self._buf:
                chunk = self._sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                self._buf += chunk
        except OSError as exc:
            self._sock.close()
            self._sock = None
            try:  # the connection ends a moment before the process
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                raise exc from None
            raise self._died(f"answering {req}") from None
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def do(self, **req: Any) -> dict[str, Any]:
        reply = self.request(**req)
        assert reply.get("ok"), f"{req} → {reply}"
        return reply

    def windows(self) -> list[dict[str, Any]]:
        return self.do(cmd="windows")["windows"]

    def platform(self) -> str:
        return self.do(cmd="windows")["platform"]

    def wait_for(self, what: str, check: Callable[[list[dict[str, Any]]], Any], timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise self._died(f"waiting for {what}")
            windows = self.windows()
            if found := check(windows):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} within {timeout} s; on screen: {windows}")
            time.sleep(0.05)

    def wait_window(self, cls: str, timeout: float = 30, **match: Any) -> dict[str, Any]:
        """Wait until a window of ``cls`` is on screen (exposed), its fields matching ``match``
        (a string: contained in the field)."""
        def check(windows: list[dict[str, Any]]) -> dict[str, Any] | None:
            for w in windows:
                if w["class"] == cls and w["exposed"] and all(
                        (v in w.get(k, "")) if isinstance(v, str) else w.get(k) == v for k, v in match.items()):
                    return w
            return None

        return self.wait_for(f"{cls} {match or ''}", check, timeout)

    def wait_gone(self, cls: str, timeout: float = 30) -> None:
        self.wait_for(f"{cls} to close", lambda ws: all(w["class"] != cls for w in ws), timeout)

    def classes(self) -> list[str]:
        return [w["class"] for w in self.windows()]

    # ------------------------------------------------------------ the end
    def wait_exit(self, timeout: float = 30) -> int:
        try:
            code = self.proc.wait(timeout)
        finally:
            self.close()
        return code

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._stderr.close()
        shutil.rmtree(self._sockdir, ignore_errors=True)
