"""A source's data logger password (数采仪访问密码), beside its MNs.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("logger_pw", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("logger_pw")
