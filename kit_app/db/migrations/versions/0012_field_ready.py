"""Heads of the custody chain countersigned by the central server; the access log.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custody_heads",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("countersigned_at", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
    )
    op.create_table(
        "access_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False, index=True),
        sa.Column("kit_id", sa.String(36), nullable=False),
        sa.Column("actor_id", sa.String(36)),
        sa.Column("actor_name", sa.String(64)),
        sa.Column("actor_cert", sa.String(32)),
        sa.Column("action", sa.String(40), nullable=False, index=True),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("target", sa.String(200)),
        sa.Column("case_id", sa.String(36)),
        sa.Column("details", sa.Text, nullable=False, server_default="{}"),
    )
    for table, what in (("custody_heads", "countersigned heads"), ("access_events", "access log")):
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'the {what} are append-only'); END")


def downgrade() -> None:
    for table in ("custody_heads", "access_events"):
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        op.drop_table(table)
