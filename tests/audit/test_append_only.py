"""Events are append-only in the database itself (DESIGN §6), and the production grants suffice.

The triggers refuse UPDATE and DELETE on both databases and TRUNCATE on PostgreSQL; with the
grants of docs/operations.md the service's role could not edit history even without them, yet
can still append, page (the horizon's lock) and make checkpoints.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit import checkpoints, queries, triggers
from app.audit import service as audit
from app.audit.models import AuditEvent, Track
from app.db import create_sessionmaker, transaction
from tests.conftest import fresh_engine
from tests.databases import Backend, settings_for

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
APP = Path(__file__).resolve().parents[2] / "app"


async def _one_event(db: AsyncSession) -> AuditEvent:
    return await audit.record(
        db, audit.SYSTEM, action="test.kept", track=Track.ADMIN, now=NOW, stream="test:kept"
    )


class TestTriggers:
    async def test_refuse_update(self, db: AsyncSession) -> None:
        kept = await _one_event(db)
        with pytest.raises(DBAPIError, match="append-only"):
            await db.execute(
                text("UPDATE audit_events SET action = 'forged' WHERE seq = :seq"),
                {"seq": kept.seq},
            )

    async def test_refuse_delete(self, db: AsyncSession) -> None:
        kept = await _one_event(db)
        with pytest.raises(DBAPIError, match="append-only"):
            await db.execute(text("DELETE FROM audit_events WHERE seq = :seq"), {"seq": kept.seq})

    async def test_refuse_truncate_on_postgresql(self, backend: Backend, db: AsyncSession) -> None:
        if backend.name != "postgresql":
            pytest.skip("SQLite has no TRUNCATE")
        await _one_event(db)
        with pytest.raises(DBAPIError, match="append-only"):
            await db.execute(text("TRUNCATE audit_events"))


class TestNoCodePathEditsAnEvent:
    def test_no_module_of_the_app_updates_or_deletes_events(self) -> None:
        edits = re.compile(
            r"(update|delete)\(\s*AuditEvent\b|\b(UPDATE|DELETE FROM)\s+audit_events\b"
        )
        offenders = [
            str(path.relative_to(APP))
            for path in APP.rglob("*.py")
            if edits.search(path.read_text(encoding="utf-8"))
        ]
        assert offenders == []


@pytest.fixture
async def app_role(
    backend: Backend, throwaway: str
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """A role with the grants of docs/operations.md (checkpoints append-only too), acting."""
    if backend.name != "postgresql":
        pytest.skip("grants are PostgreSQL's")
    role = f"nrm_app_{uuid.uuid4().hex[:10]}"
    owner = fresh_engine(throwaway)
    async with owner.begin() as connection:
        for statement in (
            f"CREATE ROLE {role} NOLOGIN",
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_checkpoints FROM {role}",
            f"GRANT SELECT, INSERT ON audit_events, audit_checkpoints TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        ):
            await connection.execute(text(statement))
    engine = fresh_engine(throwaway)

    @event.listens_for(engine.sync_engine, "connect")
    def _act_as_role(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET ROLE {role}")
        cursor.close()
        dbapi_connection.commit()

    try:
        yield engine, owner
    finally:
        await engine.dispose()
        async with owner.begin() as connection:
            await connection.execute(text(f"DROP OWNED BY {role}"))
            await connection.execute(text(f"DROP ROLE {role}"))
        await owner.dispose()


class TestProductionGrants:
    async def test_the_service_role_appends_pages_and_checkpoints_but_cannot_edit(
        self, app_role: tuple[AsyncEngine, AsyncEngine], throwaway: str
    ) -> None:
        engine, owner = app_role
        factory = create_sessionmaker(engine)
        async with transaction(factory) as session:
            assert str(await session.scalar(text("SELECT current_user"))).startswith("nrm_app_")
            kept = await _one_event(session)
        async with transaction(factory) as session:
            assert await queries.horizon(session) >= kept.seq
        settings = settings_for(throwaway)
        document = await checkpoints.make_checkpoint(factory, settings, now=NOW)
        assert document is not None
        assert document["seq"] >= kept.seq
        async with owner.begin() as connection:  # even without the triggers
            for statement in triggers.POSTGRESQL_DROP:
                await connection.execute(text(statement))
        refused = (
            "UPDATE audit_events SET action = 'forged'",
            "DELETE FROM audit_events",
            "UPDATE audit_checkpoints SET root = 'forged'",
            "DELETE FROM audit_checkpoints",
        )
        for statement in refused:
            with pytest.raises(DBAPIError, match="permission denied"):
                async with transaction(factory) as session:
                    await session.execute(text(statement))
        async with transaction(factory) as session:
            count = await session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "forged")
            )
        assert count == 0
