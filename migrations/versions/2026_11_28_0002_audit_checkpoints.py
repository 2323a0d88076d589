"""audit checkpoints

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 18:00:00.000000

Creates the table of signed audit checkpoints and adds `audit_streams.prev_head` (the newest
event's prev_hash, read back by the one-statement append). It leaves `audit_events` alone, so
the append-only triggers of revision 0001 stay in place on SQLite too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("streams", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.add_column("audit_streams", sa.Column("prev_head", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_streams") as batch_op:
        batch_op.drop_column("prev_head")
    op.drop_table("audit_checkpoints")
