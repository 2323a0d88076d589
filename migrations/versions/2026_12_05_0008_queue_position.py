"""the queue position kept on each referral

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00.000000

`referrals.next_action` (the work the referral waits for in its unit's queue) and
`referrals.queue_due` (its due date, 9999-12-31 when it has none), kept by every command from
now on (`app.referrals.facts.queue_position`), and `ix_referrals_queue` over (unit, kind of work,
due, reference), so that `GET /queue` is one indexed query instead of loading every waiting
referral. Existing referrals get their position from the same rules, in SQL, below.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIONS = ("rg_decision", "rg_review", "cg_decision", "panel_review", "reconsideration")

# app.referrals.workflow.next_action and facts.queue_position, as they stood at this revision.
NEXT_ACTION = """UPDATE referrals SET next_action = CASE
    WHEN status NOT IN ('awaiting_rg', 'recovery_period', 'rg_negative', 'cg_negative') THEN NULL
    WHEN EXISTS (SELECT 1 FROM decisions d WHERE d.referral_id = referrals.id
        AND d.status = 'proposed' AND d.stage = 'reasonable_grounds') THEN 'rg_review'
    WHEN EXISTS (SELECT 1 FROM decisions d WHERE d.referral_id = referrals.id
        AND d.status = 'proposed' AND d.stage = 'conclusive_grounds') THEN 'panel_review'
    WHEN EXISTS (SELECT 1 FROM reconsideration_requests q WHERE q.referral_id = referrals.id
        AND q.status = 'open') THEN 'reconsideration'
    WHEN status = 'awaiting_rg' THEN 'rg_decision'
    WHEN status = 'recovery_period' THEN 'cg_decision'
    END"""
QUEUE_DUE = """UPDATE referrals SET queue_due = CASE
    WHEN next_action IS NULL THEN NULL
    ELSE coalesce(CASE next_action
        WHEN 'rg_decision' THEN rg_due
        WHEN 'rg_review' THEN rg_due
        WHEN 'cg_decision' THEN recovery_period_ends
        WHEN 'panel_review' THEN panel_review_due
        ELSE (SELECT q.due_on FROM reconsideration_requests q
            WHERE q.referral_id = referrals.id AND q.status = 'open')
        END, '9999-12-31')
    END"""


def upgrade() -> None:
    checked = "next_action IS NULL OR next_action IN ({})".format(
        ", ".join(f"'{a}'" for a in _ACTIONS)
    )
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.add_column(sa.Column("next_action", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("queue_due", sa.Date(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_referrals_next_action"), checked)
    op.execute(NEXT_ACTION)
    op.execute(QUEUE_DUE)
    op.create_index(
        "ix_referrals_queue",
        "referrals",
        ["routed_to_id", "next_action", "queue_due", "reference"],
        unique=False,
        postgresql_where=sa.text("next_action IS NOT NULL"),
        sqlite_where=sa.text("next_action IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_referrals_queue", table_name="referrals")
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.drop_constraint(op.f("ck_referrals_next_action"), type_="check")
        batch_op.drop_column("queue_due")
        batch_op.drop_column("next_action")
