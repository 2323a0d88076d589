"""Requests have a time limit (issue 9, item 4): a statement that runs past
`NRM_STATEMENT_TIMEOUT_MS` is stopped by the database (PostgreSQL's `statement_timeout`, a
progress handler on SQLite) and the request answers 503 `time-limit-exceeded` with
`Retry-After`. `GET /audit/verify` walks under its own, longer limit; the CLI has none.

The runaway statement is a recursive query that never ends, so nothing here depends on how fast
the machine is: the limit always stops it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from app import db as app_db
from app.db import allow_time, create_engine, create_sessionmaker, unavailable_error
from app.errors import TimeLimitExceeded
from app.http import DbSession
from app.identity.roles import Role
from app.main import create_app
from tests.databases import settings_for
from tests.factories import make_user
from tests.ops.test_problems import assert_problem

pytestmark = pytest.mark.committing

LIMIT_MS = 300
RUNAWAY = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
)
RUNAWAY_PATH = "/api/v1/__runaway"


@pytest.fixture
async def limited_app(throwaway: str) -> AsyncIterator[FastAPI]:
    app = create_app(settings_for(throwaway, statement_timeout_ms=LIMIT_MS))
    try:
        yield app
    finally:
        await app.state.engine.dispose()


@pytest.fixture
def runaway_route(limited_app: FastAPI) -> Iterator[str]:
    async def runaway(session: DbSession) -> dict[str, Any]:
        return {"count": await session.scalar(RUNAWAY)}

    limited_app.add_api_route(RUNAWAY_PATH, runaway)
    try:
        yield RUNAWAY_PATH
    finally:
        limited_app.router.routes.pop()


async def statement_timeout(session: AsyncSession) -> str | None:
    """PostgreSQL's limit as the session sees it (None on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return str(await session.scalar(text("SHOW statement_timeout")))


class TestTimeLimit:
    async def test_stops_a_runaway_statement_as_a_time_limit_error(
        self, limited_app: FastAPI
    ) -> None:
        async with limited_app.state.sessionmaker() as session:
            with pytest.raises(OperationalError) as stopped:
                await session.scalar(RUNAWAY)

        assert isinstance(unavailable_error(stopped.value), TimeLimitExceeded)

    async def test_answers_503_with_retry_after_and_serves_the_next_request(
        self, limited_app: FastAPI, runaway_route: str
    ) -> None:
        transport = httpx.ASGITransport(app=limited_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get(runaway_route)
            ready = await client.get("/readyz")

        body = assert_problem(response, 503, "time-limit-exceeded")
        assert response.headers["Retry-After"] == "5"
        assert body["detail"] == "The request ran past its time limit"
        assert ready.status_code == 200  # the connection went back to the pool usable

    async def test_gives_the_audit_walk_its_longer_limit(self, limited_app: FastAPI) -> None:
        async with limited_app.state.sessionmaker() as session:
            user = await make_user(limited_app, session, Role.AUDITOR)
        deadlines = record_deadlines(limited_app)
        transport = httpx.ASGITransport(app=limited_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/api/v1/audit/verify", headers=user.headers)

        assert response.status_code == 200, response.text
        if deadlines is not None:  # SQLite: the walk's statements had the longer deadline
            assert max(deadlines) > LIMIT_MS / 1000 * 10

    async def test_postgresql_holds_the_limits_in_statement_timeout(
        self, limited_app: FastAPI
    ) -> None:
        async with limited_app.state.sessionmaker() as session:
            before = await statement_timeout(session)
            await allow_time(session, time_limit_ms=900_000)
            after = await statement_timeout(session)
        if before is None:
            pytest.skip("SQLite keeps its deadline per statement: see the walk's test")
        assert (before, after) == (f"{LIMIT_MS}ms", "15min")

    async def test_leaves_the_command_line_unlimited(self, throwaway: str) -> None:
        engine = create_engine(settings_for(throwaway))  # as every `nrm` command makes it
        try:
            async with create_sessionmaker(engine)() as session:
                if session.get_bind().dialect.name == "postgresql":
                    assert await statement_timeout(session) == "0"
                else:  # no deadline is kept, so no progress handler looks at one
                    raw = await (await session.connection()).get_raw_connection()
                    assert app_db.DEADLINE_INFO not in raw.info
        finally:
            await engine.dispose()


def record_deadlines(app: FastAPI) -> list[float] | None:
    """On SQLite, how far ahead each statement's deadline was set (None on PostgreSQL)."""
    engine = app.state.engine.sync_engine
    if engine.dialect.name != "sqlite":
        return None
    seen: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn: Any, *_args: Any) -> None:
        deadline = conn.info[app_db.DEADLINE_INFO].at  # set by the limit's own listener, first
        if deadline is not None:
            seen.append(deadline - time.monotonic())

    return seen
