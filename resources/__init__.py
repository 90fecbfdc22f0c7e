"""Data files of the application (fonts, translations, reference data), loaded through importlib.resources."""

from __future__ import annotations

from importlib import resources as _res
from pathlib import Path


def path(*parts: str) -> Path:
    """Filesystem path of a bundled resource (the package is installed as files, never zipped)."""
    return Path(str(_res.files(__name__).joinpath(*parts)))
