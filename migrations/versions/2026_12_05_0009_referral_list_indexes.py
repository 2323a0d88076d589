"""referral list indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 11:00:00.000000

`GET /referrals` pages newest first on (created_at, id) and resumes after the last item with
one row comparison, `(created_at, id) < (…, …)`. These indexes carry the whole key after each
way a list narrows (everything for an auditor, the referring organisation for a first
responder, the routed unit for a decider, a status filter), so that a page deep in a list
starts where the index says rather than after reading every newer referral.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = {
    "ix_referrals_created_at_id": ["created_at", "id"],
    "ix_referrals_referring_organisation_id_created_at_id": [
        "referring_organisation_id",
        "created_at",
        "id",
    ],
    "ix_referrals_routed_to_id_created_at_id": ["routed_to_id", "created_at", "id"],
    "ix_referrals_status_created_at_id": ["status", "created_at", "id"],
}
_OLD = {
    "ix_referrals_created_at": ["created_at"],
    "ix_referrals_referring_organisation_id_created_at": [
        "referring_organisation_id",
        "created_at",
    ],
}


def upgrade() -> None:
    for name, columns in _NEW.items():
        op.create_index(name, "referrals", columns, unique=False)
    for name in _OLD:
        op.drop_index(name, table_name="referrals")


def downgrade() -> None:
    for name, columns in _OLD.items():
        op.create_index(name, "referrals", columns, unique=False)
    for name in _NEW:
        op.drop_index(name, table_name="referrals")
