"""Alembic for the central server: ``upgrade(url)`` brings any database to the newest schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> str:
    """Migrate to head; returns the revision."""
    from alembic.runtime.migration import MigrationContext

    from central.db import make_engine, sessions
    from central.service import Central, upgrade_data

    command.upgrade(config(url), "head")
    engine = make_engine(url)
    try:
        upgrade_data(Central(sessions(engine)))
        with engine.connect() as c:
            return MigrationContext.configure(c).get_current_revision() or ""
    finally:
        engine.dispose()
