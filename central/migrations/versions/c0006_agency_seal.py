"""The words of an agency's seal, sent to its kits with the agency (printed where the seal is pressed).

Revision ID: c0006
Revises: c0005
"""
import sqlalchemy as sa
from alembic import op

revision = "c0006"
down_revision = "c0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies") as b:
        b.add_column(sa.Column("seal_text", sa.String(60)))


def downgrade() -> None:
    with op.batch_alter_table("agencies") as b:
        b.drop_column("seal_text")
