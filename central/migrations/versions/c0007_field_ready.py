"""Custody chain heads countersigned at each sync; the kits' access logs.

Revision ID: c0007
Revises: c0006
"""
import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "c0007"
down_revision = "c0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custody_heads",
        sa.Column("kit_id", sa.String(36), sa.ForeignKey("kits.id"), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
        sa.Column("countersigned_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "access_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kit_id", sa.String(36), sa.ForeignKey("kits.id"), nullable=False, index=True),
        sa.Column("at", UTCDateTime, nullable=False, index=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("actor_cert", sa.String(32)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("access_events")
    op.drop_table("custody_heads")
