"""Administrators' changes kept as an append-only log; an agency's seal text.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False, index=True),
        sa.Column("kit_id", sa.String(36), nullable=False),
        sa.Column("actor_id", sa.String(36)),
        sa.Column("actor_name", sa.String(64)),
        sa.Column("actor_cert", sa.String(32)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(200)),
        sa.Column("details", sa.Text, nullable=False, server_default="{}"),
    )
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER admin_events_no_{verb.lower()} BEFORE {verb} ON admin_events "
                   "BEGIN SELECT RAISE(ABORT, 'the administration log is append-only'); END")
    with op.batch_alter_table("agencies") as b:
        b.add_column(sa.Column("seal_text", sa.String(60)))


def downgrade() -> None:
    op.execute("ALTER TABLE agencies DROP COLUMN seal_text")
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS admin_events_no_{verb}")
    op.drop_table("admin_events")
