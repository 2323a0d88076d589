"""a form kept across signing in again

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:00:00.000000

* `web_sessions.kept_form`: what a person typed in a form sent after their session ended,
  sealed (AES-GCM under the service's key), held by the new session they signed in with until
  the form's page shows it back to them once (`app.web.kept`). Null otherwise.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch_op:
        batch_op.add_column(sa.Column("kept_form", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch_op:
        batch_op.drop_column("kept_form")
