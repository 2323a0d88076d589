"""POST /referrals/{id}/reconsideration-requests and .../{rid}/decision: the referrer asks for a
negative decision to be reconsidered; a decision maker of the routed unit accepts (back to the
state before the decision, on a fresh RG deadline) or declines. One open request at a time.
Who may not decide it (the questioned decider) is in `test_commands_separation.py`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.referrals.builders import (
    CG_POSITIVE,
    RG_POSITIVE,
    Case,
    Cast,
    case_events,
    drive,
    make_cast_quickly,
    run,
    set_service_date,
)

GROUNDS = {"grounds": "The person has disclosed more since."}


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def read(client: httpx.AsyncClient, cast: Cast, case: Case) -> dict[str, Any]:
    response = await client.get(f"/api/v1/referrals/{case.id}", headers=cast.decision_maker.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def decide(
    client: httpx.AsyncClient, cast: Cast, case: Case, *, accept: bool
) -> httpx.Response:
    path = f"reconsideration-requests/{case.request_id}/decision"
    return await run(client, cast.senior_two, case, path, {"accept": accept, "reasons": "Weighed."})


class TestRequestReconsideration:
    async def test_opens_a_request_due_in_five_working_days(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        await set_service_date(client, cast.responder, date(2026, 12, 18))  # a Friday
        case = await drive(client, cast, "rg_negative")
        before = len(await case_events(db, case))
        response = await run(client, cast.responder, case, "reconsideration-requests", GROUNDS)

        assert response.status_code == 201, response.text
        assert response.headers["ETag"] == case.etag
        body = response.json()
        assert body["status"] == "open"
        assert body["grounds"] == GROUNDS["grounds"]
        assert body["requested_by"]["id"] == str(cast.responder.id)
        assert body["due"] == "2026-12-29"  # 21, 22, 23, 24, (25 and 28 are holidays) 29 Dec
        events = (await case_events(db, case))[before:]
        assert [e.action for e in events] == ["reconsideration.requested"]
        assert GROUNDS["grounds"] not in str(events[0].changes)
        assert (await read(client, cast, case))["status"] == "rg_negative"

    async def test_refuses_a_second_request_while_one_is_open(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_reconsidering")
        count = len(await case_events(db, case))
        response = await run(client, cast.responder, case, "reconsideration-requests", GROUNDS)
        assert response.status_code == 409, response.text
        assert response.json()["type"] == "/problems/invalid-state"
        assert len(await case_events(db, case)) == count

    async def test_refuses_a_request_when_no_negative_decision_is_in_effect(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        response = await run(client, cast.responder, case, "reconsideration-requests", GROUNDS)
        assert response.status_code == 409, response.text
        assert "recovery_period" in response.json()["detail"]

    async def test_refuses_a_request_from_a_decision_maker(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_negative")
        response = await run(client, cast.decision_maker, case, "reconsideration-requests", GROUNDS)
        assert response.status_code == 403
        assert response.json()["type"] == "/problems/forbidden"

    async def test_refuses_a_request_without_grounds_or_with_immigration_facts(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_negative")
        for body, field in [
            ({}, "grounds"),
            ({"grounds": "  "}, "grounds"),
            (GROUNDS | {"immigration_status": "no_leave"}, "immigration_status"),
            (GROUNDS | {"status": "accepted"}, "status"),
        ]:
            response = await run(client, cast.responder, case, "reconsideration-requests", body)
            assert response.status_code == 422, response.text
            assert [e["field"] for e in response.json()["errors"]] == [field]


class TestDecideReconsideration:
    async def test_accepting_a_negative_rg_returns_to_awaiting_rg_on_a_fresh_deadline(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        await set_service_date(client, cast.responder, date(2026, 12, 1))
        case = await drive(client, cast, "rg_reconsidering")
        await set_service_date(client, cast.responder, date(2026, 12, 10))  # a Thursday
        before = len(await case_events(db, case))
        response = await decide(client, cast, case, accept=True)

        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == case.etag
        body = response.json()
        assert body["status"] == "awaiting_rg"
        assert body["deadlines"]["rg_due"] == "2026-12-17"  # 5 working days after Thu 10 Dec
        assert body["reconsideration_requests"][0]["status"] == "accepted"
        assert body["reconsideration_requests"][0]["reasons"] == "Weighed."
        events = (await case_events(db, case))[before:]
        assert [e.action for e in events] == ["reconsideration.accepted"]
        fresh = await run(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        assert fresh.status_code == 201, fresh.text

    async def test_accepting_a_negative_cg_returns_to_the_recovery_period(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_reconsidering")
        response = await decide(client, cast, case, accept=True)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "recovery_period"
        fresh = await run(client, cast.senior, case, "decisions", CG_POSITIVE)
        assert fresh.status_code == 201, fresh.text

    async def test_declining_keeps_the_decision_and_allows_a_later_request(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_reconsidering")
        before = len(await case_events(db, case))
        response = await decide(client, cast, case, accept=False)

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "rg_negative"
        assert response.json()["reconsideration_requests"][0]["status"] == "declined"
        assert [e.action for e in (await case_events(db, case))[before:]] == [
            "reconsideration.declined"
        ]
        again = await run(client, cast.responder, case, "reconsideration-requests", GROUNDS)
        assert again.status_code == 201, again.text

    async def test_refuses_to_decide_a_request_twice(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_reconsidering")
        assert (await decide(client, cast, case, accept=False)).status_code == 200
        response = await decide(client, cast, case, accept=True)
        assert response.status_code == 409, response.text
        assert "cg_negative" in response.json()["detail"]

    async def test_refuses_a_decision_without_reasons_or_with_immigration_facts(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_reconsidering")
        path = f"reconsideration-requests/{case.request_id}/decision"
        for body, field in [
            ({"accept": True}, "reasons"),
            ({"accept": 1, "reasons": "x"}, "accept"),
            (
                {"accept": True, "reasons": "x", "home_office_reference": "HO-1"},
                "home_office_reference",
            ),
        ]:
            response = await run(client, cast.decision_maker, case, path, body)
            assert response.status_code == 422, response.text
            assert [e["field"] for e in response.json()["errors"]] == [field]
