"""decision letters

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:00:00.000000

* `letters`: one row per letter owed to a person, written in the transaction of the decision
  (or reconsideration) it tells of (`app.letters`, docs/letters.md). The PDF is rendered from
  the row and the decision on download, so nothing binary is stored.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "letters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("reconsideration_request_id", sa.Uuid(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("addressee", sa.String(length=16), nullable=False),
        sa.Column("local_authority", sa.String(length=9), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("until_on", sa.Date(), nullable=True),
        sa.Column("reconsider_by", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "addressee IN ('person', 'local_authority')", name=op.f("ck_letters_addressee")
        ),
        sa.CheckConstraint(
            "kind IN ('rg_positive', 'rg_negative', 'cg_positive', 'cg_negative', "
            "'reconsideration_accepted', 'reconsideration_declined')",
            name=op.f("ck_letters_kind"),
        ),
        sa.CheckConstraint("language IN ('en', 'cy')", name=op.f("ck_letters_language")),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_letters_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["reconsideration_request_id"],
            ["reconsideration_requests.id"],
            name=op.f("fk_letters_reconsideration_request_id_reconsideration_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_letters_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letters")),
    )
    with op.batch_alter_table("letters") as batch_op:
        batch_op.create_index(batch_op.f("ix_letters_referral_id"), ["referral_id"], unique=False)


def downgrade() -> None:
    op.drop_table("letters")
