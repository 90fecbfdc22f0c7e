"""Security: officers always belong to an agency and lock after failures, with a separate verifier
for offline sign-in on kits; kit credentials expire, are renewed and can be revoked; per-kit
storage accounting. (The receipt-signing key moves out of the database into a key file when the
server first starts: central.signing.)

Revision ID: c0004
Revises: c0003
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from kit_app.db.types import UTCDateTime

revision = "c0004"
down_revision = "c0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT count(*) FROM server_sequence WHERE name = 'server'")).scalar() == 0:
        conn.execute(sa.text("INSERT INTO server_sequence (name, value) VALUES ('server', 0)"))
    if conn.execute(sa.text("SELECT count(*) FROM officers WHERE agency_code IS NULL")).scalar():
        # an officer without an agency saw the whole province: they now belong to the province
        root = conn.execute(sa.text("SELECT code FROM agencies WHERE parent_code IS NULL ORDER BY code")).scalar()
        if root is None:
            root = "45"
            agencies = sa.table("agencies", sa.column("code"), sa.column("name"), sa.column("created_at", UTCDateTime))
            conn.execute(agencies.insert().values(code=root, name="省级", created_at=datetime.now(UTC)))
        conn.execute(sa.text("UPDATE officers SET agency_code = :root WHERE agency_code IS NULL"), {"root": root})
    with op.batch_alter_table("officers") as b:
        b.alter_column("agency_code", existing_type=sa.String(12), nullable=False)
        b.add_column(sa.Column("kit_verifier", sa.String(200)))
        b.add_column(sa.Column("kit_agencies", sa.String(400), nullable=False, server_default=""))
        b.add_column(sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"))
        b.add_column(sa.Column("locked_until", UTCDateTime))
    with op.batch_alter_table("kits") as b:
        b.add_column(sa.Column("revoked_at", UTCDateTime))
        b.add_column(sa.Column("credential_expires_at", UTCDateTime))
        b.add_column(sa.Column("previous_credential_hash", sa.String(64)))
        b.add_column(sa.Column("stored_bytes", sa.BigInteger, nullable=False, server_default="0"))
        b.create_unique_constraint("uq_kits_previous_credential", ["previous_credential_hash"])
    # integers a kit sends are accepted within 63 bits: the columns holding them are 64-bit
    for table, cols in (("server_sequence", ("value",)), ("records", ("row_version", "server_seq")),
                        ("custody_events", ("seq",)), ("batches", ("server_seq",)), ("feed", ("server_seq",))):
        with op.batch_alter_table(table) as b:
            for col in cols:
                b.alter_column(col, existing_type=sa.Integer, type_=sa.BigInteger)


def downgrade() -> None:
    with op.batch_alter_table("kits") as b:
        b.drop_constraint("uq_kits_previous_credential", type_="unique")
        for c in ("stored_bytes", "previous_credential_hash", "credential_expires_at", "revoked_at"):
            b.drop_column(c)
    with op.batch_alter_table("officers") as b:
        for c in ("locked_until", "failed_logins", "kit_agencies", "kit_verifier"):
            b.drop_column(c)
        b.alter_column("agency_code", existing_type=sa.String(12), nullable=True)
