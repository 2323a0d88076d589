"""PostgreSQL plans every statement of the service for its own values (`plan_cache_mode`):
a generic plan of a prepared statement walked the whole audit trail for a one-hour window."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import create_engine
from tests.databases import Backend, settings_for


async def test_the_service_plans_each_statement_for_its_values(db: AsyncSession) -> None:
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no plan cache to configure")
    assert await db.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"


async def test_so_does_the_command_line(backend: Backend, session_database: str) -> None:
    if backend.name != "postgresql":
        pytest.skip("SQLite has no plan cache to configure")
    engine = create_engine(settings_for(session_database))
    try:
        async with engine.connect() as connection:
            mode = await connection.scalar(text("SHOW plan_cache_mode"))
    finally:
        await engine.dispose()
    assert mode == "force_custom_plan"
