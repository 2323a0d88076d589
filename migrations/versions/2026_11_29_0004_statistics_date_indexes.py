"""statistics date indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 03:10:00.000000

Indexes the Welsh date of submission of referrals and of duty-to-notify reports
(`created_on`), the column every referral statistic filters by. A count of the referrals or
reports in a period reads the narrow index alone (an index-only scan) rather than the wide
tables: the totals of the breakdown by exploitation type, and whole tables for short periods
(docs/statistics.md, "Benchmark").
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.create_index("ix_referrals_created_on", ["created_on"], unique=False)
    with op.batch_alter_table("duty_to_notify_reports") as batch_op:
        batch_op.create_index(
            "ix_duty_to_notify_reports_created_on", ["created_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("duty_to_notify_reports") as batch_op:
        batch_op.drop_index("ix_duty_to_notify_reports_created_on")
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.drop_index("ix_referrals_created_on")
