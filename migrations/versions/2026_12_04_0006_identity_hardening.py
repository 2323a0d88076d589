"""identity hardening

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 09:00:00.000000

* `users.token_generation`: bumped when a user is deactivated; tokens of an older generation are
  refused, so reactivating a user never revives their old tokens. Existing users start at 0,
  which is what tokens issued before this revision count as: they stay valid until they expire.
* `login_throttles`: failed log-ins counted per username and per client address
  (`app.identity.throttle`); the throttle no longer reads the audit trail.
* The sector `oversight` (inspectors and auditors; decides nothing) joins the CHECK constraint
  on `organisations.sector` (batch mode: SQLite recreates the table), and the demo's oversight
  office, seeded before as a `decision_unit`, becomes one. No audit event records that change:
  migrations write none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SECTORS = ("police", "health", "local_authority", "charity", "home_office", "decision_unit")


def _sector_check(sectors: Sequence[str]) -> str:
    return "sector IN ({})".format(", ".join(f"'{s}'" for s in sectors))


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("token_generation", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    op.create_table(
        "login_throttles",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", UTCDateTime(), nullable=True),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('username', 'address')", name=op.f("ck_login_throttles_kind")),
        sa.CheckConstraint(
            "failures >= 0 AND lockouts >= 0", name=op.f("ck_login_throttles_counts")
        ),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_login_throttles")),
    )
    with op.batch_alter_table("login_throttles") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttles_expires_at"), ["expires_at"], unique=False
        )
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.drop_constraint(op.f("ck_organisations_sector"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_organisations_sector"), _sector_check((*_SECTORS, "oversight"))
        )
    op.execute("UPDATE organisations SET sector = 'oversight' WHERE code = 'wales-nrm-oversight'")


def downgrade() -> None:
    # Every oversight organisation falls back to the sector the demo gave it before.
    op.execute("UPDATE organisations SET sector = 'decision_unit' WHERE sector = 'oversight'")
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.drop_constraint(op.f("ck_organisations_sector"), type_="check")
        batch_op.create_check_constraint(op.f("ck_organisations_sector"), _sector_check(_SECTORS))
    with op.batch_alter_table("login_throttles") as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_expires_at"))
    op.drop_table("login_throttles")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("token_generation")
