"""The kit's local store: SQLAlchemy 2.0 on SQLite (WAL, foreign keys), schema managed by Alembic."""

from kit_app.db.store import Store, open_store

__all__ = ["Store", "open_store"]
