"""Smoke tests of the application as a user starts it: the installed ``kit-app`` in its own process
with its real event loop, on a virtual X display where there is one. Each hand-over between windows
(progress → first administrator → login → main window; logout → login; a failed open → the error
dialog; a language switch at login) must leave the application running with the next window on
screen, and only an explicit exit ends it."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.launcher import KitApp, Xvfb, kit_app_command

pytestmark = pytest.mark.launcher

Launch = Callable[..., KitApp]
LOGIN_TITLE = "登录 — 环境执法取证工作站"


def on_screen(app: KitApp, display: Xvfb | None, title: str) -> None:
    """The window is on screen as the window system sees it, and the application is running."""
    assert app.alive()
    if display is not None:
        assert app.platform() == "xcb"
        titles = display.titles()  # Qt may add " — 环境执法取证工作站" (the application's display name)
        assert any(t == title or t.startswith(title + " — ") for t in titles), titles


def log_in(app: KitApp, cert: str, password: str = "demo1234") -> dict:  # type: ignore[type-arg]
    app.do(cmd="set_text", window="LoginDialog", name="cert", value=cert)
    app.do(cmd="set_text", window="LoginDialog", name="password", value=password)
    app.do(cmd="click", window="LoginDialog", button="ok")
    main = app.wait_window("MainWindow")
    assert "LoginDialog" not in app.classes()
    return main


def cli(*args: str, stdin: str = "", password: str | None = None) -> str:
    env = {"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"} | ({"KIT_PASSWORD": password} if password else {})
    out = subprocess.run([kit_app_command(), *args], input=stdin, capture_output=True, text=True, timeout=120,
                         env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def steps(data_dir: Path) -> list[str]:
    lines = (data_dir / "logs" / "kit.log").read_text("utf-8").splitlines()
    return [line.split("ui.app: ", 1)[1] for line in lines if " ui.app: " in line]


def test_empty_data_dir_first_administrator_then_login_then_quit(launch: Launch, display: Xvfb | None,
                                                                 tmp_path: Path) -> None:
    data = tmp_path / "kit"
    app = launch("--data-dir", str(data))
    first = app.wait_window("FirstAdminDialog")
    on_screen(app, display, first["title"])
    for name, value in (("name", "管理员"), ("cert", "ADMIN01"), ("password", "a-long-password"),
                        ("password_again", "a-long-password")):
        app.do(cmd="set_text", window="FirstAdminDialog", name=name, value=value)
    app.do(cmd="click", window="FirstAdminDialog", button="ok")
    app.wait_window("LoginDialog", title=LOGIN_TITLE)
    app.wait_gone("FirstAdminDialog")
    on_screen(app, display, LOGIN_TITLE)
    main = log_in(app, "ADMIN01", "a-long-password")
    on_screen(app, display, main["title"])
    app.do(cmd="trigger", window="MainWindow", action="quit")
    assert app.wait_exit() == 0
    assert steps(data)[-1] == "stopped (0)"
    assert "step: a new data dir; asking for the first administrator" in steps(data)
    # a new kit is encrypted from its first byte: the database is no SQLite file without the key
    assert (data / "keys" / "keyring.json").exists()
    assert (data / "kit.sqlite3").read_bytes()[:16] != b"SQLite format 3\x00"
    # and the next start unlocks it with the same sign-in
    app = launch("--data-dir", str(data))
    app.wait_window("LoginDialog", title=LOGIN_TITLE)
    log_in(app, "ADMIN01", "a-long-password")
    app.do(cmd="trigger", window="MainWindow", action="quit")
    assert app.wait_exit() == 0
    assert "step: the data dir is encrypted; sign in to unlock it" in steps(data)


def kept_language(path: Path, expected: str, timeout: float = 10.0) -> str | None:
    """The language in the preferences file: ``expected`` once it is written there (off the GUI
    thread, so a moment after the switch), else what it holds when the time is up."""
    deadline = time.monotonic() + timeout
    last = None
    while last != expected and time.monotonic() < deadline:
        try:
            last = json.loads(path.read_text(encoding="utf-8")).get("language")
        except (OSError, ValueError):
            time.sleep(0.1)
            continue
        if last != expected:
            time.sleep(0.1)
    return last


def test_demo_first_start_generates_then_login_language_logout_login(launch: Launch, display: Xvfb | None,
                                                                     tmp_path: Path) -> None:
    """The README's first command on a new machine: `kit-app --demo` on no data at all."""
    app = launch("--demo")
    progress = app.wait_window("QProgressDialog", text="正在生成演示基础数据", timeout=60)
    on_screen(app, display, progress["title"])
    login = app.wait_window("LoginDialog", timeout=120)
    app.wait_gone("QProgressDialog")
    assert login["title"] == LOGIN_TITLE
    on_screen(app, display, LOGIN_TITLE)
    hint = app.do(cmd="read", window="LoginDialog", name="hint")
    assert hint["visible"] and "45010320231" in hint["text"] and "demo1234" in hint["text"]

    # a language switch at login keeps the dialog (and the application)
    prefs = tmp_path / "home" / "config" / "EnforcementEvidenceKit" / "settings.json"
    app.do(cmd="choose", window="LoginDialog", name="language", value="en")
    app.wait_window("LoginDialog", title="Log in — Enforcement Evidence Kit")
    assert kept_language(prefs, "en") == "en"  # the choice is kept for the next start
    app.do(cmd="choose", window="LoginDialog", name="language", value="zh_CN")
    app.wait_window("LoginDialog", title=LOGIN_TITLE)
    on_screen(app, display, LOGIN_TITLE)
    assert kept_language(prefs, "zh_CN") == "zh_CN"

    main = log_in(app, "45010320231")
    assert "演示数据" in main["title"]
    on_screen(app, display, main["title"])
    app.do(cmd="trigger", window="MainWindow", action="logout")
    app.wait_window("LoginDialog", title=LOGIN_TITLE)
    app.wait_gone("MainWindow")
    on_screen(app, display, LOGIN_TITLE)
    log_in(app, "45010020105")  # the reviewer, in the same run
    assert app.classes().count("MainWindow") == 1
    app.do(cmd="close", window="MainWindow")  # the window manager's close button
    assert app.wait_exit() == 0
    demo = tmp_path / "home" / "data" / "EnforcementEvidenceKit" / "demo"
    log = steps(demo)
    assert log.count("step: login") == 2 and log[-1] == "stopped (0)"
    # the demo kit is encrypted as any other: the command line unlocks it as an officer
    assert (demo / "keys" / "keyring.json").exists()
    status = json.loads(cli("--data-dir", str(demo), "--unlock", "GXADMIN001", "status", "--json", password="demo1234"))
    # 23,000 generated plus those born from accepted projects
    assert status["sources"] >= 23000 and status["projects"] == 3000 and status["officers"] == 5


def test_existing_data_dir_opened_slowly(launch: Launch, display: Xvfb | None, tmp_path: Path) -> None:
    """A slow disk, a laptop busy with antivirus: opening takes longer than the progress dialog's delay."""
    data = tmp_path / "kit"
    cli("--data-dir", str(data), "officer", "add", "--name", "管理员", "--cert", "ADMIN01", "--role", "admin",
        "--password-stdin", stdin="a-long-password\n")
    app = launch("--data-dir", str(data), env={"KIT_TEST_OPEN_DELAY": "2"})
    progress = app.wait_window("QProgressDialog", text="正在打开数据目录")
    on_screen(app, display, progress["title"])
    app.wait_window("LoginDialog", title=LOGIN_TITLE)
    app.wait_gone("QProgressDialog")
    on_screen(app, display, LOGIN_TITLE)
    app.do(cmd="click", window="LoginDialog", button="cancel")  # "退出"
    assert app.wait_exit() == 0


def test_cancel_while_opening_ends_the_run(launch: Launch, tmp_path: Path) -> None:
    data = tmp_path / "kit"
    cli("--data-dir", str(data), "status", "--json")
    app = launch("--data-dir", str(data), env={"KIT_TEST_OPEN_DELAY": "2"})
    app.wait_window("QProgressDialog", text="正在打开数据目录")
    app.do(cmd="click", window="QProgressDialog", button="cancel")
    assert app.wait_exit() == 0  # the store opened a moment later: closed again, no login asked
    assert "step: opening cancelled by the officer" in steps(data) and "step: login" not in steps(data)


def test_pending_migration_then_login(launch: Launch, display: Xvfb | None, tmp_path: Path) -> None:
    """A data dir written by the previous version: the schema is brought up to date on opening."""
    from alembic import command

    from kit_app.db import open_store
    from kit_app.db.store import _alembic_config, head_revision

    data = tmp_path / "kit"
    cli("--data-dir", str(data), "officer", "add", "--name", "管理员", "--cert", "ADMIN01", "--role", "admin",
        "--password-stdin", stdin="a-long-password\n")
    store = open_store(data)
    cfg = _alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "-1")
    old = store.current_revision()
    store.close()
    assert old != head_revision()
    app = launch("--data-dir", str(data))
    app.wait_window("LoginDialog", title=LOGIN_TITLE)
    on_screen(app, display, LOGIN_TITLE)
    log_in(app, "ADMIN01", "a-long-password")
    app.do(cmd="trigger", window="MainWindow", action="quit")
    assert app.wait_exit() == 0
    con = sqlite3.connect(data / "kit.sqlite3")
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
    con.close()


def test_failed_open_shows_the_error_dialog(launch: Launch, display: Xvfb | None, tmp_path: Path) -> None:
    data = tmp_path / "kit"
    cli("--data-dir", str(data), "status", "--json")
    con = sqlite3.connect(data / "kit.sqlite3")
    con.execute("UPDATE alembic_version SET version_num = 'ffff'")
    con.commit()
    con.close()
    app = launch("--data-dir", str(data))
    box = app.wait_window("QMessageBox", text="更新版本")
    assert str(data) in box["text"] and "ffff" in box["text"]
    on_screen(app, display, box["title"])
    app.do(cmd="click", window="QMessageBox", button="ok")
    assert app.wait_exit() == 1


def test_cancelling_the_first_dialog_ends_the_run(launch: Launch, tmp_path: Path) -> None:
    app = launch("--data-dir", str(tmp_path / "kit"))
    app.wait_window("FirstAdminDialog")
    app.do(cmd="click", window="FirstAdminDialog", button="cancel")
    assert app.wait_exit() == 0


def test_cancelled_demo_generation_quits_and_resumes_next_time(launch: Launch, tmp_path: Path) -> None:
    app = launch("--demo")
    app.wait_window("QProgressDialog", text="正在生成演示基础数据", timeout=60, value=5000)
    app.do(cmd="click", window="QProgressDialog", button="cancel")
    assert app.wait_exit() == 0  # no error dialog: the officer chose to stop
    demo = tmp_path / "home" / "data" / "EnforcementEvidenceKit" / "demo"
    assert "step: opening cancelled by the officer" in steps(demo)
    app = launch("--demo")
    app.wait_window("QProgressDialog", text="正在生成演示基础数据", timeout=60)
    app.wait_window("LoginDialog", timeout=120)
    app.do(cmd="click", window="LoginDialog", button="cancel")
    assert app.wait_exit() == 0
    from sqlcipher3 import dbapi2

    from kit_app.keyring import Keyring

    key = Keyring.load(demo).unlock("GXADMIN001", "demo1234")
    con = dbapi2.connect(str(demo / "kit.sqlite3"))
    con.execute(f"PRAGMA key = \"{key.sqlcipher()}\"")
    recorded = con.execute("SELECT value FROM kit_meta WHERE key = 'demo_generated'").fetchone()[0]
    sources, codes = con.execute("SELECT count(*), count(DISTINCT credit_code) FROM sources").fetchone()
    projects = con.execute("SELECT count(*) FROM projects").fetchone()[0]
    con.close()
    assert recorded == "23000,3000" and projects == 3000
    assert 23000 <= sources < 23000 + 3000 and codes == sources  # nothing generated twice


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_shutdown_ends_the_run_cleanly(launch: Launch, tmp_path: Path, signum: int) -> None:
    data = tmp_path / "kit"
    app = launch("--data-dir", str(data))
    app.wait_window("FirstAdminDialog")  # nothing ticks in the event loop here
    app.signal(signum)
    assert app.wait_exit(15) == 128 + signum
    assert steps(data)[-1] == f"stopped ({128 + signum})"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland sessions")
def test_no_graphical_session_is_said_plainly(tmp_path: Path) -> None:
    out = subprocess.run([kit_app_command(), "--data-dir", str(tmp_path / "kit"), "--lang", "en"],
                         capture_output=True, text=True, timeout=60, env={"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 1
    assert "needs a graphical session" in out.stderr and "Traceback" not in out.stderr
