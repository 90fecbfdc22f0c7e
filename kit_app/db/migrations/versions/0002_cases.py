"""Cases and the officers working them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("number", sa.String(48), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(24), nullable=False, server_default="open"),
        sa.Column("source_id", sa.String(36), sa.ForeignKey("sources.id"), index=True),
        sa.Column("party_name", sa.String(200), nullable=False),
        sa.Column("party_credit_code", sa.String(18)),
        sa.Column("party_address", sa.String(300)),
        sa.Column("agency_id", sa.String(36), sa.ForeignKey("agencies.id")),
        sa.Column("created_by_id", sa.String(36), sa.ForeignKey("officers.id")),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("origin_kit", sa.String(36), nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_table(
        "case_officers",
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("officer_id", sa.String(36), sa.ForeignKey("officers.id"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_case_officers_officer", "case_officers", ["officer_id"])


def downgrade() -> None:
    op.drop_index("ix_case_officers_officer", "case_officers")
    op.drop_table("case_officers")
    op.drop_table("cases")
