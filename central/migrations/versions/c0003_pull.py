"""What flows down to kits (the feed: base data, definitions, number blocks, assignments, review
comments) and officers' sessions.

Revision ID: c0003
Revises: c0002
"""
import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "c0003"
down_revision = "c0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed",
        sa.Column("kind", sa.String(24), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("agency_code", sa.String(12), nullable=False, index=True),
        sa.Column("kit_id", sa.String(36), index=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("server_seq", sa.Integer, nullable=False, unique=True),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "officer_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("officer_id", sa.String(36), sa.ForeignKey("officers.id"), nullable=False, index=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("officer_tokens")
    op.drop_table("feed")
