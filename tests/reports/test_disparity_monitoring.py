"""GET /statistics/disparities flags a group that differs, and only then (DESIGN §7).

Referrals are filed through POST /referrals; their decisions are PLANTED as Decision rows with
`plant_decision`, because here they are only inputs to a statistic: the outcome and the working
days of each are what the test controls, and reaching them through the commands would add
nothing but minutes (the commands' own tests cover how decisions are made, and the statistics
module's tests reach decisions through them). The threshold is lowered to 1 so that the flags,
not disclosure control, are under test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.identity.models import Organisation
from app.identity.roles import Role
from app.referrals.models import Decision
from tests.factories import AppUser, make_user
from tests.referrals.builders import file_referral, referral_form, service_date

API = "/api/v1/statistics/disparities"
UNIT = "all-wales-decision-unit"


@pytest.fixture(autouse=True)
def no_suppression(app: FastAPI) -> Iterator[None]:
    original = app.state.settings
    app.state.settings = original.model_copy(update={"suppression_threshold": 1})
    yield
    app.state.settings = original


@pytest.fixture
async def users(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> dict[str, AppUser]:
    async with sessions() as s:
        return {
            "responder": await make_user(app, s, Role.FIRST_RESPONDER, organisation="bawso"),
            "maker": await make_user(app, s, Role.DECISION_MAKER, organisation=UNIT),
            "auditor": await make_user(app, s, Role.AUDITOR, organisation=UNIT),
        }


async def plant_decision(
    db: AsyncSession,
    referral_id: str,
    decided_by: AppUser,
    *,
    positive: bool,
    on: date,
    working_days: int,
) -> None:
    """An effective RG decision as a statistics input (see the module's docstring)."""
    unit = await db.scalar(select(Organisation.id).where(Organisation.code == UNIT))
    assert unit is not None
    at = datetime(on.year, on.month, on.day, 12, tzinfo=UTC)
    db.add(
        Decision(
            referral_id=uuid.UUID(referral_id),
            stage="reasonable_grounds",
            outcome="positive" if positive else "negative",
            status="effective",
            reasons="Planted.",
            decided_by_id=decided_by.id,
            decided_at=at,
            decided_on=on,
            unit_id=unit,
            guidance_version="planted",
            working_days=working_days,
            due_on=on,
            met=True,
            effective_at=at,
        )
    )
    await db.commit()


async def plant(
    client: httpx.AsyncClient,
    db: AsyncSession,
    users: dict[str, AppUser],
    plan: dict[str, tuple[int, int, int]],
) -> date:
    """For each nationality: (positive, negative, working days each); returns the day."""
    today = await service_date(client, users["auditor"])
    for nationality, (positive, negative, days) in plan.items():
        form = referral_form(potential_victim={"nationality": nationality})
        for index in range(positive + negative):
            referral = (await file_referral(client, users["responder"], form)).json()
            await plant_decision(
                db,
                referral["id"],
                users["maker"],
                positive=index < positive,
                on=today,
                working_days=days,
            )
    return today


async def disparities(
    client: httpx.AsyncClient, users: dict[str, AppUser], today: date
) -> dict[str, Any]:
    response = await client.get(
        API,
        params={"by": "nationality", "from": today.isoformat(), "to": today.isoformat()},
        headers=users["auditor"].headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestFlags:
    async def test_flags_the_group_planted_with_fewer_positive_decisions(
        self, client: httpx.AsyncClient, db: AsyncSession, users: dict[str, AppUser]
    ) -> None:
        today = await plant(client, db, users, {"GB": (7, 1, 2), "VN": (7, 1, 3), "AL": (1, 7, 9)})

        body = await disparities(client, users, today)

        rows = {r["group"]: r for r in body["rows"]}
        assert rows["AL"]["flagged"] is True
        assert rows["GB"]["flagged"] is False
        assert rows["VN"]["flagged"] is False
        assert rows["AL"]["rate"] == pytest.approx(1 / 8)
        assert rows["AL"]["p_adjusted"] < 0.05 <= rows["GB"]["p_adjusted"]
        assert body["test"] == "fisher-exact"  # expected counts below 5
        assert body["p_value"] < 0.05

    async def test_shows_the_time_each_group_waited(
        self, client: httpx.AsyncClient, db: AsyncSession, users: dict[str, AppUser]
    ) -> None:
        today = await plant(client, db, users, {"GB": (3, 3, 2), "AL": (3, 3, 9)})

        rows = {r["group"]: r for r in (await disparities(client, users, today))["rows"]}

        assert (rows["GB"]["median_working_days"], rows["AL"]["median_working_days"]) == (2, 9)
        assert rows["AL"]["p90_working_days"] == 9
        assert rows[None]["median_working_days"] == pytest.approx(5.5)

    async def test_flags_nothing_when_outcomes_are_balanced(
        self, client: httpx.AsyncClient, db: AsyncSession, users: dict[str, AppUser]
    ) -> None:
        today = await plant(client, db, users, {"GB": (4, 4, 3), "AL": (4, 4, 3)})

        body = await disparities(client, users, today)

        assert [r["flagged"] for r in body["rows"]] == [False, False, None]
        assert [r["p_value"] for r in body["rows"][:2]] == [pytest.approx(1.0)] * 2
        assert body["rows"][-1]["rate"] == pytest.approx(0.5)
