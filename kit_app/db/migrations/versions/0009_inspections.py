"""On-site inspections (现场检查). An inspection is a case of kind ``inspection``: it has the case's
party, team, evidence and documents, starts at the procedure's 现场检查 stage and ends compliant,
with a correction order, or proposed for filing — then it goes on as the case. Here: where it came
from, who confirmed their presence, the opening steps (append-only, with time), checklist answers
and findings.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as b:
        b.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="case"))
    op.create_table(
        "inspections",
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("origin", sa.String(24), nullable=False),
        sa.Column("origin_ref", sa.String(300)),
        sa.Column("place", sa.String(300)),
        sa.Column("checklists", sa.Text, nullable=False, server_default="[]"),
        sa.Column("catalogue", sa.String(48)),
        sa.Column("started_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "inspection_officers",
        sa.Column("case_id", sa.String(36), sa.ForeignKey("inspections.case_id"), primary_key=True),
        sa.Column("officer_id", sa.String(36), sa.ForeignKey("officers.id"), primary_key=True),
        sa.Column("recorder", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("confirmed_at", UTCDateTime),
    )
    op.create_table(
        "inspection_steps",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("inspections.case_id"), nullable=False, index=True),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("officer_id", sa.String(36)),
        sa.Column("details", sa.Text, nullable=False, server_default="{}"),
        sa.Column("evidence_id", sa.String(36)),
    )
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER inspection_steps_no_{verb.lower()} BEFORE {verb} ON inspection_steps "
                   "BEGIN SELECT RAISE(ABORT, 'inspection steps are append-only'); END")
    op.create_table(
        "inspection_answers",
        sa.Column("case_id", sa.String(36), sa.ForeignKey("inspections.case_id"), primary_key=True),
        sa.Column("item_id", sa.String(48), primary_key=True),
        sa.Column("answer", sa.String(24), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("evidence_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("answered_by", sa.String(36)),
        sa.Column("answered_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("item_id", sa.String(48)),
        sa.Column("violation_id", sa.String(48)),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("evidence_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_by", sa.String(36)),
        sa.Column("at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS inspection_steps_no_{verb}")
    for t in ("findings", "inspection_answers", "inspection_steps", "inspection_officers", "inspections"):
        op.drop_table(t)
    with op.batch_alter_table("cases") as b:
        b.drop_column("kind")
