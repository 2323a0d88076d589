"""notifications: the users' and organisations' e-mail, the outbox and deadline reminders

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 09:00:00.000000

* `users.email`, `organisations.email`: where notifications go (a user's own address, an
  organisation's shared mailbox); both optional.
* `notifications`: the outbox (`app.notifications.models`), written in the transaction of the
  change it tells of and delivered by the worker.
* `deadline_reminders`: one row per referral, stage and kind of deadline reminder written, so
  that each is written once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "referral.received",
    "referral.routed",
    "review.needed",
    "panel.needed",
    "decision.effective",
    "reconsideration.requested",
    "reconsideration.decided",
    "deadline.due_soon",
    "deadline.missed",
    "referral.suspended",
    "referral.resumed",
    "referral.withdrawn",
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("referral_reference", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_notifications_kind")),
        sa.CheckConstraint(
            _in("status", ("queued", "sent", "failed")), name=op.f("ck_notifications_status")
        ),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (organisation_id IS NULL)",
            name=op.f("ck_notifications_one_recipient"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_notifications_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_notifications_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.create_index(
            "ix_notifications_status_next_attempt_at", ["status", "next_attempt_at"]
        )
        batch_op.create_index("ix_notifications_created_at_id", ["created_at", "id"])
        batch_op.create_index(batch_op.f("ix_notifications_referral_id"), ["referral_id"])
    op.create_table(
        "deadline_reminders",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_deadline_reminders_referral_id_referrals"),
        ),
        sa.PrimaryKeyConstraint(
            "referral_id", "stage", "kind", name=op.f("pk_deadline_reminders")
        ),
    )


def downgrade() -> None:
    op.drop_table("deadline_reminders")
    op.drop_table("notifications")
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.drop_column("email")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("email")
