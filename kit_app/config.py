"""Logging set-up (where the kit keeps its data, and every other setting, is ``kit_app.settings``)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path


class _QuietFileHandler(logging.handlers.RotatingFileHandler):
    """The log file: when it cannot be written (a full or read-only disk) it stops trying,
    quietly — the log never breaks the program, and never prints a traceback for it."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        self.failed = True

    def emit(self, record: logging.LogRecord) -> None:
        if not getattr(self, "failed", False):
            super().emit(record)


class _Brief(logging.Formatter):
    """What reaches the terminal: the message, never a traceback (that goes to the log file)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname}: {record.getMessage()}"


def setup_logging(data_dir: Path | None, verbose: bool = False) -> None:
    root = logging.getLogger()
    if getattr(root, "_kit_configured", False):
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr = logging.StreamHandler()
    stderr.setLevel(logging.DEBUG if verbose else logging.ERROR)
    stderr.setFormatter(fmt if verbose else _Brief())
    root.addHandler(stderr)
    if data_dir is not None:
        try:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # private (kit_app.db.store.make_private)
            (data_dir / "logs").mkdir(parents=True, exist_ok=True)
            fh = _QuietFileHandler(data_dir / "logs" / "kit.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8")
            fh.setFormatter(fmt)
            root.addHandler(fh)
        except OSError:
            pass  # a read-only data dir: log to stderr only; the command itself says what fails
    root._kit_configured = True  # type: ignore[attr-defined]
