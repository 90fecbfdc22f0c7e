"""The reference provincial central server: FastAPI + SQLAlchemy (+ Alembic), PostgreSQL in
production, SQLite as the embedded default. Kits enrol with a one-time code and sync over
``/api/v1``; agencies are identified by their GB/T 2260 division code."""
