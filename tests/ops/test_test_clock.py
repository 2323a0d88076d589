"""The test clock: moves the service's clock for every rule, kept in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import ClockOffset
from app.main import create_app
from tests.databases import settings_for
from tests.factories import make_user


class TestTestClock:
    async def test_advances_by_whole_days_and_stores_the_offset(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        before = datetime.fromisoformat(
            (await client.get("/api/v1/test-clock", headers=user.headers)).json()["now"]
        )
        moved = await client.post(
            "/api/v1/test-clock", json={"advance_days": 3}, headers=user.headers
        )
        after = datetime.fromisoformat(moved.json()["now"])
        assert timedelta(days=3) <= after - before < timedelta(days=3, minutes=1)
        row = await db.get(ClockOffset, 1)
        assert row is not None
        assert row.offset_days == 3

    async def test_refuses_to_move_more_than_a_hundred_years_from_the_real_date(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        # Issue 9, item 5: moved on and on, the clock passed the year 9999 and every request
        # that read it was a 500.
        user = await make_user(app, db)
        for days in (36_500, -36_500, -36_500):
            moved = await client.post(
                "/api/v1/test-clock", json={"advance_days": days}, headers=user.headers
            )
            assert moved.status_code == 200, moved.text

        for days in (-1, -36_500):
            refused = await client.post(
                "/api/v1/test-clock", json={"advance_days": days}, headers=user.headers
            )
            assert refused.status_code == 422
            assert refused.json()["type"] == "/problems/validation-failed"
            assert [e["field"] for e in refused.json()["errors"]] == ["advance_days"]
        row = await db.get(ClockOffset, 1)
        assert row is not None
        await db.refresh(row)
        assert row.offset_days == -36_500
        assert (await client.get("/api/v1/test-clock", headers=user.headers)).status_code == 200

    async def test_needs_a_signed_in_user(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/test-clock")).status_code == 401

    async def test_advance_days_must_be_an_integer(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        for value in ("1", 1.5, True, None):
            response = await client.post(
                "/api/v1/test-clock", json={"advance_days": value}, headers=user.headers
            )
            assert response.status_code == 422, value

    async def test_absent_unless_the_setting_is_on(self, session_database: str) -> None:
        app = create_app(settings_for(session_database, test_clock=False))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/api/v1/test-clock")).status_code == 404
        await app.state.engine.dispose()
