"""Every setting of the application, declared once and typed.

- **Paths**: the data dir (``--data-dir``, else ``$KIT_DATA_DIR``, else the platform's user data
  dir; ``demo/`` under it for ``--demo``) and the files the kit keeps in it.
- **Preferences**: what the officer chose on this computer — the language and how often the kit
  syncs — in ``settings.json`` in the user's config dir (``$KIT_CONFIG_DIR`` overrides it). A
  missing or damaged file gives the defaults (the damage is logged, never fatal); a value out of
  range is ignored, so a hand-edited file cannot stop the application.
- **Device configuration**: ``devices.json`` in the data dir, format ``DEVICES_SCHEMA``, read and
  written by ``devices.registry.DeviceConfigs``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger(__name__)

APP_NAME = "EnforcementEvidenceKit"
ENV_DATA_DIR = "KIT_DATA_DIR"
ENV_CONFIG_DIR = "KIT_CONFIG_DIR"

# files in the data dir
DATABASE_FILE = "kit.sqlite3"
DEVICES_FILE = "devices.json"
DEVICES_SCHEMA = 1  # devices.json's format: an older kit refuses a newer file, untouched

# files in the config dir
PREFERENCES_FILE = "settings.json"
PREFERENCES_SCHEMA = 1

LANGUAGES = ("zh_CN", "en")
SYNC_INTERVAL_RANGE = (1, 24 * 60)  # minutes


# ---------------------------------------------------------------- paths
def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_data_dir(arg: str | None, demo: bool = False) -> Path:
    """--data-dir, else $KIT_DATA_DIR, else the platform's user data dir (``demo/`` under it for --demo)."""
    if arg:
        return Path(arg).expanduser().resolve()
    env = os.environ.get(ENV_DATA_DIR)
    base = Path(env).expanduser().resolve() if env else default_data_dir()
    return base / "demo" if demo else base


def config_dir() -> Path:
    env = os.environ.get(ENV_CONFIG_DIR)
    return Path(env).expanduser().resolve() if env else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


# ---------------------------------------------------------------- preferences
@dataclass(frozen=True)
class Preferences:
    """The officer's choices on this computer."""

    language: str | None = None  # zh_CN or en; None: the system's (Chinese unless it is English)
    sync_interval_min: int = 5  # how often the kit syncs while enrolled and connected

    @property
    def sync_interval_ms(self) -> int:
        return self.sync_interval_min * 60 * 1000

    def changed(self, **values: Any) -> Preferences:
        return _valid(replace(self, **values))


def _valid(p: Preferences) -> Preferences:
    """The preferences with every out-of-range value back at its default."""
    default = Preferences()
    lo, hi = SYNC_INTERVAL_RANGE
    return Preferences(
        language=p.language if p.language in LANGUAGES else default.language,
        sync_interval_min=p.sync_interval_min if isinstance(p.sync_interval_min, int)
        and not isinstance(p.sync_interval_min, bool) and lo <= p.sync_interval_min <= hi
        else default.sync_interval_min,
    )


def load_preferences(directory: Path | None = None) -> Preferences:
    path = (directory or config_dir()) / PREFERENCES_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Preferences()
    except (OSError, ValueError) as exc:
        log.warning("%s cannot be read (%s): the defaults are used", path, exc)
        return Preferences()
    if not isinstance(raw, dict) or not isinstance(raw.get("schema", 1), int):
        log.warning("%s is not a settings file: the defaults are used", path)
        return Preferences()
    known = {f.name for f in fields(Preferences)}
    values = {k: v for k, v in raw.items() if k in known}
    return _valid(Preferences(**values))


def save_preferences(prefs: Preferences, directory: Path | None = None) -> Path:
    """Write the preferences atomically (a crash leaves the old file or the new one)."""
    d = directory or config_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / PREFERENCES_FILE
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"schema": PREFERENCES_SCHEMA, **asdict(_valid(prefs))}, fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


__all__ = ["APP_NAME", "DATABASE_FILE", "DEVICES_FILE", "DEVICES_SCHEMA", "ENV_CONFIG_DIR", "ENV_DATA_DIR",
           "LANGUAGES", "Preferences", "config_dir", "default_data_dir", "load_preferences", "resolve_data_dir",
           "save_preferences"]
