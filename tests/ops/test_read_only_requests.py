"""Read-only requests never wait for SQLite's write lock (issue 9, item 4).

Every SQLite transaction of the service began `BEGIN IMMEDIATE`, reads included, so one long
statistics request held the write lock and every log-in meanwhile got 503. Requests that write
nothing (statistics, the report, the audit trail and its walk, reading the test clock) now read
through `ReadOnlyDbSession`, whose transaction begins deferred: in WAL mode it reads a snapshot
beside the writer. Writes still take the lock up front and queue on the busy timeout.

Staged with a real second connection that holds the lock, on a database of the test's own.
PostgreSQL readers never wait for writers, so these tests are SQLite's.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import AuditEvent, Track
from app.db import mark_read_only
from app.identity.roles import Role
from app.main import create_app
from tests.databases import Backend, settings_for
from tests.factories import PASSWORD, AppUser, make_user
from tests.ops.test_problems import assert_problem

pytestmark = pytest.mark.committing

READS = (
    "/api/v1/statistics/referrals?by=gender",
    "/api/v1/statistics/decisions?by=sector",
    "/api/v1/statistics/disparities?by=nationality",
    "/api/v1/statistics/report",
    "/api/v1/audit/events",
    "/api/v1/audit/verify",
    "/api/v1/test-clock",
)


@dataclass
class Locked:
    app: FastAPI
    client: httpx.AsyncClient
    auditor: AppUser
    path: str

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Another connection holds the write lock, as a long writer would."""
        holder = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()


@pytest.fixture
async def locked(backend: Backend, throwaway: str) -> AsyncIterator[Locked]:
    if backend.name != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    app = create_app(settings_for(throwaway, sqlite_busy_timeout_ms=200))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with app.state.sessionmaker() as session:
            auditor = await make_user(app, session, Role.AUDITOR)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield Locked(app, client, auditor, throwaway.split(":///", 1)[1])
    finally:
        await app.state.engine.dispose()


class TestReadOnlyRequests:
    @pytest.mark.parametrize("path", READS)
    async def test_answer_while_another_connection_holds_the_write_lock(
        self, locked: Locked, path: str
    ) -> None:
        with locked.write_lock():
            response = await locked.client.get(path, headers=locked.auditor.headers)

        assert response.status_code == 200, response.text

    async def test_writes_still_wait_for_the_lock_and_give_up_with_503(
        self, locked: Locked
    ) -> None:
        with locked.write_lock():
            log_in = await locked.client.post(
                "/api/v1/auth/token",
                data={"username": locked.auditor.username, "password": PASSWORD},
            )
            clock = await locked.client.post(
                "/api/v1/test-clock", json={"advance_days": 1}, headers=locked.auditor.headers
            )

        assert_problem(log_in, 503, "database-unavailable")
        assert_problem(clock, 503, "database-unavailable")
        assert log_in.headers["Retry-After"] == "5"

    async def test_an_audit_page_beside_an_append_in_flight_never_passes_it(
        self, locked: Locked
    ) -> None:
        action = Action.NOTE_ADDED  # the database is this test's own: no referral, no other note
        async with locked.app.state.sessionmaker() as session:
            served = await append(session, action)
            await session.commit()
        async with locked.app.state.sessionmaker() as holding:
            late = await append(holding, action)  # holds the write lock, not committed
            page = await locked.client.get(
                "/api/v1/audit/events", params={"action": action}, headers=locked.auditor.headers
            )
            await holding.commit()
        again = await locked.client.get(
            "/api/v1/audit/events", params={"action": action}, headers=locked.auditor.headers
        )

        assert [item["seq"] for item in page.json()["items"]] == [served.seq]
        assert late.seq > served.seq  # writers are serialised: a later commit has a later seq
        assert [item["seq"] for item in again.json()["items"]] == [served.seq, late.seq]


class TestMarkReadOnly:
    async def test_refuses_a_session_whose_transaction_has_begun(
        self, committed_app: FastAPI
    ) -> None:
        async with committed_app.state.sessionmaker() as session:
            await session.connection()
            with pytest.raises(RuntimeError):
                mark_read_only(session)


async def append(session: AsyncSession, action: Action) -> AuditEvent:
    return await audit.record(
        session,
        audit.SYSTEM,
        action=action,
        track=Track.ADMIN,
        now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        stream=f"test:{uuid.uuid4()}",
    )
