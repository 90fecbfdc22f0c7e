"""The case lifecycle: each case follows a versioned procedure (forms/procedures) through its
states; its history of actions — who, when, why — is append-only. A case opened before this
revision was already under investigation: it starts there, its history one imported event.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime
from kit_app.ids import new_id

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as b:
        b.add_column(sa.Column("discovered_on", sa.Date))
        b.add_column(sa.Column("outcome", sa.String(24)))
        b.add_column(sa.Column("procedure", sa.String(48)))
    op.create_table(
        "case_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(24)),
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.String(36)),
        sa.Column("actor_name", sa.String(64)),
        sa.Column("actor_cert", sa.String(32)),
        sa.Column("reason", sa.Text),
        sa.Column("details", sa.Text, nullable=False, server_default="{}"),
        sa.Column("kit_id", sa.String(36), nullable=False),
        sa.UniqueConstraint("case_id", "seq", name="uq_case_events_seq"),
    )
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER case_events_no_{verb.lower()} BEFORE {verb} ON case_events "
                   "BEGIN SELECT RAISE(ABORT, 'case history is append-only'); END")
    op.execute("UPDATE cases SET status = 'investigating' WHERE status = 'open'")
    op.execute("UPDATE cases SET procedure = 'case_procedure@1', discovered_on = date(opened_at, '+8 hours')")
    conn = op.get_bind()
    events = sa.table("case_events", *(sa.column(c) for c in (
        "id", "case_id", "seq", "action", "from_state", "to_state", "at", "actor_id", "reason", "details", "kit_id")))
    rows = conn.execute(sa.text("SELECT id, status, opened_at, created_by_id, origin_kit FROM cases")).all()
    if rows:
        conn.execute(events.insert(), [
            {"id": new_id(), "case_id": cid, "seq": 1, "action": "imported", "from_state": None, "to_state": status,
             "at": opened_at, "actor_id": by, "reason": "opened before the case procedure was recorded",
             "details": "{}", "kit_id": kit} for cid, status, opened_at, by, kit in rows])


def downgrade() -> None:
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS case_events_no_{verb}")
    op.drop_table("case_events")
    op.execute("UPDATE cases SET status = 'open' WHERE status NOT IN ('closed')")
    with op.batch_alter_table("cases") as b:
        b.drop_column("procedure")
        b.drop_column("outcome")
        b.drop_column("discovered_on")
