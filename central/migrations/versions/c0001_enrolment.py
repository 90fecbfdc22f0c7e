"""Agencies, officers, enrol codes and kits.

Revision ID: c0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("parent_code", sa.String(12), sa.ForeignKey("agencies.code")),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "officers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("cert_no", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("roles", sa.String(64), nullable=False),
        sa.Column("agency_code", sa.String(12), sa.ForeignKey("agencies.code"), index=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "enrol_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("agency_code", sa.String(12), sa.ForeignKey("agencies.code"), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
        sa.Column("used_by_kit", sa.String(36)),
    )
    op.create_table(
        "kits",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("agency_code", sa.String(12), sa.ForeignKey("agencies.code"), nullable=False, index=True),
        sa.Column("public_key_pem", sa.Text, nullable=False),
        sa.Column("credential_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(100)),
        sa.Column("enrolled_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_table("server_meta", sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))
    op.create_table("server_sequence", sa.Column("name", sa.String(32), primary_key=True),
                    sa.Column("value", sa.Integer, nullable=False))


def downgrade() -> None:
    for t in ("server_sequence", "server_meta", "kits", "enrol_codes", "officers", "agencies"):
        op.drop_table(t)
