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
    with op.batch_alter_table("agencies") as b:
        b.drop_column("court")
        b.drop_column("review_body")
