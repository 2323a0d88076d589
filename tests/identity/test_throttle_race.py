"""Parallel log-in attempts never get past the throttle's limit (app.identity.throttle).

The attempts commit for real (a throwaway database) and run as concurrent asyncio tasks, each
on its own connection from the app's pool, so on PostgreSQL they truly overlap: each one reads
the counters before any other has counted its failure. Only the row lock taken before the
counters are judged keeps the count exact. SQLite serialises writers, so there they queue.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.committing, pytest.mark.slow]

LIMIT = 10
RACERS = 40


async def _attempt(client: httpx.AsyncClient, username: str, password: str) -> int:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    return response.status_code


async def _events(app: FastAPI, action: str) -> int:
    async with app.state.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )
        return int(count or 0)


class TestParallelAttempts:
    async def test_no_more_than_the_limit_of_one_username_are_judged(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        async with committed_app.state.sessionmaker() as session:
            user = await make_user(committed_app, session)
        committed_app.state.settings = committed_app.state.settings.model_copy(
            update={"login_failures_allowed": LIMIT}
        )
        statuses = await asyncio.gather(
            *(_attempt(committed_client, user.username, "wrong-password-1") for _ in range(RACERS))
        )
        assert sorted(statuses) == [401] * LIMIT + [429] * (RACERS - LIMIT)
        assert await _events(committed_app, "auth.login_failed") == LIMIT
        assert await _events(committed_app, "auth.login_throttled") == RACERS - LIMIT
        assert await _attempt(committed_client, user.username, PASSWORD) == 429

    async def test_no_more_than_the_limit_of_one_address_are_judged(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        committed_app.state.settings = committed_app.state.settings.model_copy(
            update={"login_failures_allowed": 100, "login_address_failures_allowed": LIMIT}
        )
        statuses = await asyncio.gather(
            *(_attempt(committed_client, f"name-{n}", "wrong-password-1") for n in range(RACERS))
        )
        assert sorted(statuses) == [401] * LIMIT + [429] * (RACERS - LIMIT)
        assert await _events(committed_app, "auth.login_failed") == LIMIT
