"""An agency's 复议机关 and 管辖法院, as its settings name them (printed on its decisions).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies") as b:
        b.add_column(sa.Column("review_body", sa.String(60)))
        b.add_column(sa.Column("court", sa.String(60)))


def downgrade() -> None:
    # SQLite ≥ 3.35 drops a column in place: a batch copy of the table would delete and re-insert the
    # agencies every officer, case and child agency refers to
    op.execute("ALTER TABLE agencies DROP COLUMN court")
    op.execute("ALTER TABLE agencies DROP COLUMN review_body")
