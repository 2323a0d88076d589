"""Concurrent writers never fork a chain or lose an event (DESIGN §6).

Real commits on a database of the test's own: on PostgreSQL 16 writers on separate connections,
on one stream and on many; some of their transactions roll back, which must leave no gap. On
SQLite, whose writers are serialised anyway, a smaller run checks the same.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.audit.models import AuditEvent, AuditStream, Track
from app.audit.verify import verify_trail
from app.db import create_sessionmaker, transaction
from tests.conftest import fresh_engine
from tests.databases import Backend

pytestmark = [pytest.mark.committing, pytest.mark.slow]

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
EACH = 6  # transactions per writer; every third one rolls back


class Aborted(Exception):
    """Raised inside a writer's transaction to roll it back after recording."""


@pytest.fixture
async def engine(throwaway: str) -> AsyncIterator[AsyncEngine]:
    engine = fresh_engine(throwaway)
    try:
        yield engine
    finally:
        await engine.dispose()


def _writers(backend: Backend) -> int:
    return 16 if backend.name == "postgresql" else 4


async def _write(
    factory: async_sessionmaker[AsyncSession], writer: int, stream_of: Callable[[int], str]
) -> int:
    """Append EACH events, rolling every third back after recording; returns how many commit."""
    committed = 0
    for step in range(EACH):
        try:
            async with transaction(factory) as session:
                await audit.record(
                    session,
                    audit.SYSTEM,
                    action="test.concurrent",
                    track=Track.ADMIN,
                    now=NOW,
                    stream=stream_of(writer),
                    changes={"writer": {"after": writer}, "step": {"after": step}},
                )
                if (writer + step) % 3 == 0:
                    raise Aborted
            committed += 1
        except Aborted:
            pass
    return committed


async def _check_streams(session: AsyncSession, expected: dict[str, int]) -> None:
    """Each stream holds exactly its committed events at positions 1..n, its head at the end."""
    for stream, count in expected.items():
        positions = (
            await session.scalars(
                select(AuditEvent.position)
                .where(AuditEvent.stream == stream)
                .order_by(AuditEvent.position)
            )
        ).all()
        assert list(positions) == list(range(1, count + 1))
        head = await session.get(AuditStream, stream)
        newest = await session.scalar(
            select(AuditEvent.hash).where(AuditEvent.stream == stream, AuditEvent.position == count)
        )
        assert head is not None
        assert (head.length, head.head) == (count, newest)


class TestConcurrentWriters:
    async def test_many_writers_on_one_stream_leave_one_gap_free_valid_chain(
        self, backend: Backend, engine: AsyncEngine
    ) -> None:
        factory = create_sessionmaker(engine)
        stream = f"test:{uuid.uuid4()}"
        writers = _writers(backend)
        counts = await asyncio.gather(
            *(_write(factory, writer, lambda _: stream) for writer in range(writers))
        )
        async with factory() as session:
            await _check_streams(session, {stream: sum(counts)})
            report = await verify_trail(session)
        assert sum(counts) > writers * EACH / 2  # most committed; some rolled back
        assert report.valid, report

    async def test_many_writers_on_many_streams_lose_nothing(
        self, backend: Backend, engine: AsyncEngine
    ) -> None:
        factory = create_sessionmaker(engine)
        tag = uuid.uuid4().hex[:8]
        writers = _writers(backend)
        async with factory() as session:
            before = await session.scalar(select(func.count()).select_from(AuditEvent))
        counts = await asyncio.gather(
            *(_write(factory, writer, lambda w: f"test:{tag}:{w}") for writer in range(writers))
        )
        async with factory() as session:
            after = await session.scalar(select(func.count()).select_from(AuditEvent))
            await _check_streams(
                session, {f"test:{tag}:{w}": count for w, count in enumerate(counts)}
            )
            report = await verify_trail(session)
        assert after == (before or 0) + sum(counts)
        assert report.valid, report
