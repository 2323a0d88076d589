"""Disclosure control as the statistics endpoints apply it (DESIGN §7, API.md "Statistics").

Referrals are filed through POST /referrals and decisions reached through the workflow's
commands; the threshold is the setting (default 5). The rules themselves are the pure
`suppression` module's (its own tests); these prove that every table goes through them, with
its totals row, its linked counts, and the threshold the service is configured with.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.identity.roles import Role
from tests.factories import AppUser, make_user
from tests.referrals.builders import (
    RG_NEGATIVE,
    RG_POSITIVE,
    Case,
    file_case,
    referral_form,
    review_case,
    service_date,
    step,
)

API = "/api/v1/statistics"
GENDERS = {"female": 6, "male": 7, "other": 2}  # "other" is below 5; "female" is next smallest


class People:
    """The users of these tests, the cases filed per gender, and the day they were filed."""

    def __init__(
        self, users: dict[str, AppUser], cases: dict[str, list[Case]], today: date
    ) -> None:
        self.users, self.cases, self.today = users, cases, today

    def query(self, **params: str) -> dict[str, str]:
        return {"from": self.today.isoformat(), "to": self.today.isoformat(), **params}


@pytest.fixture
async def people(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> People:
    async with sessions() as s:
        unit = "all-wales-decision-unit"
        users = {
            "responder": await make_user(app, s, Role.FIRST_RESPONDER, organisation="bawso"),
            "maker": await make_user(app, s, Role.DECISION_MAKER, organisation=unit),
            "senior": await make_user(app, s, Role.SENIOR_DECISION_MAKER, organisation=unit),
            "senior_two": await make_user(app, s, Role.SENIOR_DECISION_MAKER, organisation=unit),
            "auditor": await make_user(app, s, Role.AUDITOR, organisation=unit),
        }
    cases: dict[str, list[Case]] = {}
    for gender, number in GENDERS.items():
        form = referral_form(potential_victim={"gender": gender})
        cases[gender] = [await file_case(client, users["responder"], form) for _ in range(number)]
    return People(users, cases, await service_date(client, users["auditor"]))


async def _table(
    client: httpx.AsyncClient, people: People, path: str, **params: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/{path}", params=people.query(**params), headers=people.users["auditor"].headers
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


@pytest.fixture
def threshold(app: FastAPI) -> Iterator[Any]:
    """Set the service's suppression threshold for one test (restored after)."""
    original = app.state.settings

    def set_to(value: int) -> None:
        app.state.settings = original.model_copy(update={"suppression_threshold": value})

    yield set_to
    app.state.settings = original


class TestReferralTables:
    async def test_suppresses_a_count_below_the_threshold(
        self, client: httpx.AsyncClient, people: People
    ) -> None:
        rows = {r["group"]: r for r in await _table(client, people, "referrals", by="gender")}

        assert rows["other"]["count"] is None
        assert rows["other"]["suppressed"] is True
        assert rows["other"]["label"] == "Other"  # what the row is stays readable

    async def test_suppresses_the_next_smallest_so_the_total_gives_nothing_back(
        self, client: httpx.AsyncClient, people: People
    ) -> None:
        rows = {r["group"]: r for r in await _table(client, people, "referrals", by="gender")}

        assert rows["female"] == {
            "group": "female",
            "label": "Female",
            "count": None,
            "duty_to_notify": 0,
            "suppressed": True,
        }
        assert (rows["male"]["count"], rows["male"]["suppressed"]) == (7, False)
        assert (rows[None]["count"], rows[None]["suppressed"]) == (15, False)
        # Total minus what is published leaves the sum of two unknowns, not one.
        assert sum(r["count"] is None for g, r in rows.items() if g is not None) == 2

    async def test_publishes_every_count_at_or_above_the_threshold(
        self, client: httpx.AsyncClient, people: People
    ) -> None:
        rows = await _table(client, people, "referrals", by="sector")

        assert rows == [
            {
                "group": "charity",
                "label": "Charity",
                "count": 15,
                "duty_to_notify": 0,
                "suppressed": False,
            },
            {
                "group": None,
                "label": "Total",
                "count": 15,
                "duty_to_notify": 0,
                "suppressed": False,
            },
        ]

    async def test_uses_the_threshold_the_service_is_configured_with(
        self, client: httpx.AsyncClient, people: People, threshold: Any
    ) -> None:
        threshold(8)
        rows = {r["group"]: r for r in await _table(client, people, "referrals", by="gender")}

        assert [rows[g]["count"] for g in GENDERS] == [None, None, None]
        assert rows[None]["count"] == 15


class TestDecisionTables:
    async def _decide_males(self, client: httpx.AsyncClient, people: People) -> None:
        """Seven RG decisions on the men's referrals: five positive, two negative."""
        users = people.users
        for index, case in enumerate(people.cases["male"]):
            if index < 5:
                await step(client, users["maker"], case, "decisions", RG_POSITIVE)
                continue
            await step(client, users["senior"], case, "decisions", RG_NEGATIVE)
            response = await review_case(client, users["senior_two"], case, agree=True)
            assert response.status_code == 200, response.text

    async def test_suppresses_both_outcomes_and_every_derived_figure_together(
        self, client: httpx.AsyncClient, people: People
    ) -> None:
        await self._decide_males(client, people)

        for path in ("decisions", "disparities"):
            male, total = await _table(client, people, path, by="gender")

            # Two negatives are below 5; five positives would give them back from the count.
            assert (male["group"], male["count"]) == ("male", 7)
            assert (male["positive"], male["negative"]) == (None, None)
            assert (male["median_working_days"], male["p90_working_days"]) == (None, None)
            assert male["suppressed"] is True
            assert (total["count"], total["positive"], total["negative"]) == (7, None, None)
            if path == "disparities":
                assert (male["rate"], male["ci_low"], male["ci_high"]) == (None, None, None)
                assert (male["p_value"], male["flagged"]) == (None, None)

    async def test_publishes_outcomes_when_no_cell_is_small(
        self, client: httpx.AsyncClient, people: People, threshold: Any
    ) -> None:
        await self._decide_males(client, people)
        threshold(2)

        male, _total = await _table(client, people, "disparities", by="gender")

        assert (male["positive"], male["negative"], male["suppressed"]) == (5, 2, False)
        assert male["rate"] == pytest.approx(5 / 7)
        assert (male["met"], male["missed"]) == (7, 0)
