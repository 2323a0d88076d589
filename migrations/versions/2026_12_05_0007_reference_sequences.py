"""reference numbers from a sequence per series and year on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 09:00:00.000000

On PostgreSQL a reference number now comes from a sequence per series and year
(`app.referrals.references`), so that concurrent filings no longer queue on the counter row's
lock. Each counter row becomes its sequence, starting after the last number it gave; the rows
stay (SQLite still counts with them) and are no longer written on PostgreSQL. Downgrading writes
each sequence's last number back into its counter row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.referrals.references import sequence_name

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for series, year, last in bind.execute(
        sa.text("SELECT series, year, last FROM reference_counters")
    ):
        name = sequence_name(series, year)
        op.execute(f'CREATE SEQUENCE IF NOT EXISTS "{name}" START WITH {int(last) + 1}')


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for series, year in bind.execute(sa.text("SELECT series, year FROM reference_counters")):
        name = sequence_name(series, year)
        last = bind.execute(
            sa.text(
                f'SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM "{name}"'
            )
        ).scalar_one_or_none()
        if last is not None:
            bind.execute(
                sa.text(
                    "UPDATE reference_counters SET last = :last WHERE series = :s AND year = :y"
                ),
                {"last": last, "s": series, "y": year},
            )
        op.execute(f'DROP SEQUENCE IF EXISTS "{name}"')
