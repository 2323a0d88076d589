"""The migrations and the models agree, on SQLite and PostgreSQL, and the audit triggers exist."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.audit.triggers import TRIGGER_NAMES
from app.models import metadata


def _diff(sync_connection: Any) -> list[Any]:
    context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


class TestSchema:
    async def test_models_and_migrations_agree(self, connection: AsyncConnection) -> None:
        assert await connection.run_sync(_diff) == []

    async def test_audit_triggers_exist_at_head(self, connection: AsyncConnection) -> None:
        dialect = connection.dialect.name
        if dialect == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = (
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass"
                " AND NOT tgisinternal"
            )
        names = set((await connection.execute(text(query))).scalars())
        assert TRIGGER_NAMES[dialect] <= names
