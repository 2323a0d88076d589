"""More requests at once than the pool has connections, for longer than the pool waits: the
request answers 503 `database-unavailable` with `Retry-After`, never 500 (issue 11, item 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.main import create_app
from tests.databases import settings_for
from tests.ops.test_problems import assert_problem

pytestmark = pytest.mark.committing


@pytest.fixture
async def exhausted_app(throwaway: str) -> AsyncIterator[FastAPI]:
    app = create_app(settings_for(throwaway))

    async def no_connection_came_free() -> None:
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached, timed out")

    app.add_api_route("/api/v1/__exhausted", no_connection_came_free)
    try:
        yield app
    finally:
        await app.state.engine.dispose()


async def test_a_pool_that_times_out_answers_503(exhausted_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=exhausted_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/api/v1/__exhausted")
    assert_problem(response, 503, "database-unavailable")
    assert "Retry-After" in response.headers
