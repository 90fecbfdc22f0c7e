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


def downgrade() -> None:
    op.drop_table("draws")
