"""Issued enforcement documents (append-only) and the document-number blocks of each kit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "number_blocks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("agency_code", sa.String(12), nullable=False),
        sa.Column("doc_type", sa.String(48), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),  # e.g. 南环罚告: printed as 南环罚告〔2026〕12号
        sa.Column("first", sa.Integer, nullable=False),
        sa.Column("last", sa.Integer, nullable=False),
        sa.Column("kit_id", sa.String(36), nullable=False),  # the kit that may use it
        sa.Column("assigned_by", sa.String(36), sa.ForeignKey("officers.id")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("origin_kit", sa.String(36), nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("first >= 1 AND last >= first", name="ck_number_blocks_range"),
    )
    op.create_index("ix_number_blocks_key", "number_blocks", ["agency_code", "doc_type", "year"])
    op.create_table(
        "documents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("doc_type", sa.String(48), nullable=False),
        sa.Column("def_version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("number", sa.String(64), unique=True),
        sa.Column("agency_code", sa.String(12)),
        sa.Column("year", sa.Integer),
        sa.Column("seq", sa.Integer),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("evidence_id", sa.String(36), sa.ForeignKey("evidence_items.id"), nullable=False, unique=True),
        sa.Column("corrects_id", sa.String(36), sa.ForeignKey("documents.id")),
        sa.Column("issued_by", sa.String(36), sa.ForeignKey("officers.id"), nullable=False),
        sa.Column("issued_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("origin_kit", sa.String(36), nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False, server_default="1"),
        sa.UniqueConstraint("agency_code", "doc_type", "year", "seq", name="uq_documents_number"),
    )
    for what in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER documents_no_{what.lower()} BEFORE {what} ON documents "
            "BEGIN SELECT RAISE(ABORT, 'issued documents are append-only'); END"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS documents_no_update")
    op.execute("DROP TRIGGER IF EXISTS documents_no_delete")
    op.drop_table("documents")
    op.drop_index("ix_number_blocks_key", "number_blocks")
    op.drop_table("number_blocks")
