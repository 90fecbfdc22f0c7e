"""Evidence items and the append-only, hash-chained, signed custody log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("original_name", sa.String(500)),
        sa.Column("size", sa.BigInteger),
        sa.Column("sha256", sa.String(64), index=True),
        sa.Column("media_type", sa.String(100)),
        sa.Column("captured_at", UTCDateTime),
        sa.Column("captured_offset_min", sa.Integer),
        sa.Column("captured_clock", sa.String(16)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("altitude", sa.Float),
        sa.Column("place", sa.String(300)),
        sa.Column("device", sa.String(200)),
        sa.Column("description", sa.Text),
        sa.Column("seal_no", sa.String(64)),
        sa.Column("metadata_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("warnings_json", sa.Text, nullable=False, server_default="[]"),
        sa.Column("imported_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("origin_kit", sa.String(36), nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_table(
        "evidence_officers",
        sa.Column("evidence_id", sa.String(36), sa.ForeignKey("evidence_items.id"), primary_key=True),
        sa.Column("officer_id", sa.String(36), sa.ForeignKey("officers.id"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    )
    # Clustered by (kit, seq): verifying a chain reads it in one sequential pass.
    op.create_table(
        "custody_events",
        sa.Column("kit_id", sa.String(36), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("evidence_id", sa.String(36), sa.ForeignKey("evidence_items.id"), nullable=False, index=True),
        sa.Column("case_id", sa.String(36), nullable=False, index=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),  # ISO 8601 with its offset, as signed
        sa.Column("clock", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),  # the canonical JSON that is hashed
        sa.Column("item_sha256", sa.String(64)),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("signature", sa.String(100), nullable=False),
        sqlite_with_rowid=False,
    )
    for what in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER custody_events_no_{what.lower()} BEFORE {what} ON custody_events "
            "BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS custody_events_no_update")
    op.execute("DROP TRIGGER IF EXISTS custody_events_no_delete")
    op.drop_table("custody_events")
    op.drop_table("evidence_officers")
    op.drop_table("evidence_items")
