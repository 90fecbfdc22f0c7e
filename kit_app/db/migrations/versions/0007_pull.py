"""What the kit pulls from the central server: definitions and checklists, assignments (as last
applied, the base of the three-way merge) and review comments.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "central_items",
        sa.Column("kind", sa.String(24), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer),
        sa.Column("server_seq", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "case_assignments",
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("server_seq", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("applied_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "case_comments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False, index=True),
        sa.Column("author_name", sa.String(64), nullable=False),
        sa.Column("author_cert", sa.String(32)),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("server_seq", sa.Integer, nullable=False),
    )
    # Rows written before the outbox existed (revision 0005) were never queued: queue every case,
    # evidence item and document once, so an upgraded kit pushes its whole history (the server
    # answers "unchanged" for what it holds already).
    for entity, table in (("case", "cases"), ("evidence", "evidence_items"), ("document", "documents")):
        op.execute(f"INSERT INTO sync_outbox (entity, entity_id, created_at) "  # noqa: S608 - constants
                   f"SELECT '{entity}', id, created_at FROM {table} "
                   f"WHERE id NOT IN (SELECT entity_id FROM sync_outbox WHERE entity = '{entity}')")


def downgrade() -> None:
    for t in ("case_comments", "case_assignments", "central_items"):
        op.drop_table(t)
