"""``kit-app --self-test``, as IT staff run it after installing: every check passes on a sound
installation, and a broken part is named with its error while the others still run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kit_app.cli import main


def test_the_self_test_passes_and_says_what_it_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--self-test"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split(":")[0].split("  ")[-1].strip() for ln in lines[:-1]] == [
        "store and migrations", "photo from the simulated camera", "custody chain", "document rendering",
        "simulated instrument (HJ 212)"]
    assert all(ln.startswith("ok ") for ln in lines[:-1]) and lines[-1] == "Self-test passed."


def test_a_broken_part_is_named_and_the_rest_still_runs(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import reports

    def broken(*_a: object, **_k: object) -> None:
        raise OSError("font file missing")

    monkeypatch.setattr(reports, "render", broken)
    assert main(["--self-test"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  document rendering: OSError: font file missing" in out
    assert "ok    simulated instrument (HJ 212)" in out and "Self-test FAILED: 1 checks." in out


def test_the_installed_launcher_runs_it_without_touching_the_officers_data(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), KIT_DATA_DIR=str(tmp_path / "data"))
    exe = Path(sys.executable).with_name("kit-app")
    out = subprocess.run([str(exe), "--self-test"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("\nok ") + out.stdout.startswith("ok ") == 5
    assert not (tmp_path / "data").exists()  # nothing of the officer's data dir was opened
