"""The command centre: 双随机 draws (kept and published, append-only); the console's sessions are
officer tokens like the API's.

Revision ID: c0008
Revises: c0007
"""
import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "c0008"
down_revision = "c0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draws",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("agency_code", sa.String(12), sa.ForeignKey("agencies.code"), nullable=False, index=True),
        sa.Column("at", UTCDateTime, nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("drawn_by", sa.Text, nullable=False),  # JSON: name, cert_no, agency
        sa.Column("params", sa.Text, nullable=False),  # JSON: parties, team size, the pool's filters
        sa.Column("pool_sha256", sa.String(64), nullable=False),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("result", sa.Text, nullable=False),  # JSON: the parties drawn, each with its team
    )


    # where each evidence item was gathered, for the console's map without reading every record's body
    with op.batch_alter_table("records") as b:
        b.add_column(sa.Column("latitude", sa.Float))
        b.add_column(sa.Column("longitude", sa.Float))
    _backfill()
    if op.get_bind().dialect.name == "postgresql":  # receipts numbered without locking the feed's counter
        op.execute("CREATE SEQUENCE receipt_seq")
        op.execute("SELECT setval('receipt_seq', (SELECT COALESCE(MAX(value), 0) + 1 FROM server_sequence), false)")


def _backfill() -> None:
    import json

    conn = op.get_bind()
    records = sa.table("records", sa.column("entity", sa.String), sa.column("id", sa.String),
                       sa.column("body", sa.Text), sa.column("latitude", sa.Float), sa.column("longitude", sa.Float))
    rows = conn.execute(sa.select(records.c.id, records.c.body).where(records.c.entity == "evidence")).all()
    for rid, body in rows:
        b = json.loads(body)
        lat, lon = b.get("latitude"), b.get("longitude")
        if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
            conn.execute(sa.update(records).where(records.c.entity == "evidence", records.c.id == rid)
                         .values(latitude=float(lat), longitude=float(lon)))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE receipt_seq")
    with op.batch_alter_table("records") as b:
        b.drop_column("longitude")
        b.drop_column("latitude")
    op.drop_table("draws")
