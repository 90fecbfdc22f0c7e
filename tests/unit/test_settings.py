"""Settings declared once (kit_app.settings): the data dir's resolution, and the officer's
preferences — kept across starts, written atomically, and never able to stop the application."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit_app.settings import (
    PREFERENCES_FILE,
    Preferences,
    config_dir,
    load_preferences,
    resolve_data_dir,
    save_preferences,
)


def test_data_dir_from_argument_environment_or_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_data_dir(str(tmp_path / "a")) == tmp_path / "a"
    monkeypatch.setenv("KIT_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(None) == tmp_path / "env"
    assert resolve_data_dir(None, demo=True) == tmp_path / "env" / "demo"
    monkeypatch.delenv("KIT_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir(None) == tmp_path / "xdg" / "EnforcementEvidenceKit"


def test_preferences_default_then_kept(tmp_path: Path) -> None:
    assert config_dir() == tmp_path / "config"  # the tests' own (conftest), never the user's
    assert load_preferences() == Preferences() and Preferences().language is None
    assert Preferences().sync_interval_ms == 5 * 60 * 1000
    path = save_preferences(Preferences().changed(language="en", sync_interval_min=15))
    assert path == tmp_path / "config" / PREFERENCES_FILE
    assert json.loads(path.read_text(encoding="utf-8")) == {"schema": 1, "language": "en", "sync_interval_min": 15}
    assert load_preferences() == Preferences(language="en", sync_interval_min=15)
    assert [p.name for p in path.parent.iterdir()] == [PREFERENCES_FILE]  # no temporary file left


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"schema": "x"}', ""])
def test_a_damaged_file_gives_the_defaults(tmp_path: Path, content: str) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / PREFERENCES_FILE).write_text(content, encoding="utf-8")
    assert load_preferences() == Preferences()


def test_values_out_of_range_or_unknown_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / PREFERENCES_FILE).write_text(json.dumps(
        {"schema": 2, "language": "fr", "sync_interval_min": 0, "colour": "blue"}), encoding="utf-8")
    assert load_preferences() == Preferences()
    (tmp_path / "config" / PREFERENCES_FILE).write_text(json.dumps(
        {"language": "zh_CN", "sync_interval_min": True}), encoding="utf-8")
    assert load_preferences() == Preferences(language="zh_CN")
    assert Preferences().changed(sync_interval_min=100000).sync_interval_min == 5
