"""What kits push: records (cases, evidence items, documents), custody events, batches with receipts.

Revision ID: c0002
Revises: c0001
"""
import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("entity", sa.String(24), primary_key=True),
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kit_id", sa.String(36), sa.ForeignKey("kits.id"), nullable=False, index=True),
        sa.Column("agency_code", sa.String(12), nullable=False, index=True),
        sa.Column("case_id", sa.String(36), index=True),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("server_seq", sa.Integer, nullable=False, index=True),
    )
    op.create_table(
        "custody_events",
        sa.Column("kit_id", sa.String(36), sa.ForeignKey("kits.id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("evidence_id", sa.String(36), nullable=False, index=True),
        sa.Column("case_id", sa.String(36), nullable=False, index=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.String(36), primary_key=True),
        sa.Column("kit_id", sa.String(36), sa.ForeignKey("kits.id"), nullable=False, index=True),
        sa.Column("server_seq", sa.Integer, nullable=False, unique=True),
        sa.Column("receipt", sa.Text, nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for t in ("batches", "custody_events", "records"):
        op.drop_table(t)
