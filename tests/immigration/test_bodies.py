"""The victim side's bodies refuse immigration fields (DESIGN §5): a decision, a review, a
reconsideration request and its decision, and the referral form outside its `immigration`
part, answer 422 naming the field, and change nothing. Each test ends with the same body
without the field succeeding, so the 422 is the field's doing and not another fault.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import AppUser
from tests.referrals.builders import (
    RG_POSITIVE,
    Case,
    Cast,
    drive,
    make_cast,
    referral_form,
    run,
)

IMMIGRATION_FIELDS: dict[str, Any] = {
    "immigration": {"status": "no_leave", "home_office_reference": "HO-1"},
    "immigration_status": "no_leave",
    "home_office_reference": "HO-1",
}


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


async def refuses_each_field(
    client: httpx.AsyncClient,
    user: AppUser,
    case: Case,
    path: str,
    body: dict[str, Any],
) -> None:
    """Every immigration field is 422 naming it; the referral's ETag does not move."""
    version = case.version
    for field, value in IMMIGRATION_FIELDS.items():
        response = await run(client, user, case, path, {**body, field: value})
        assert response.status_code == 422, (field, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], response.text
        assert case.version == version


class TestDecisionBody:
    async def test_refuses_immigration_fields(self, client: httpx.AsyncClient, cast: Cast) -> None:
        case = await drive(client, cast, "awaiting_rg")
        await refuses_each_field(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        response = await run(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        assert response.status_code == 201, response.text


class TestReviewBody:
    async def test_refuses_immigration_fields(self, client: httpx.AsyncClient, cast: Cast) -> None:
        case = await drive(client, cast, "rg_proposed")
        path = f"decisions/{case.decision_id}/review"
        body = {"agree": True, "comments": "Agreed."}
        await refuses_each_field(client, cast.senior_two, case, path, body)
        response = await run(client, cast.senior_two, case, path, body)
        assert response.status_code == 200, response.text


class TestReconsiderationRequestBody:
    async def test_refuses_immigration_fields(self, client: httpx.AsyncClient, cast: Cast) -> None:
        case = await drive(client, cast, "rg_negative")
        body = {"grounds": "New evidence."}
        await refuses_each_field(client, cast.responder, case, "reconsideration-requests", body)
        response = await run(client, cast.responder, case, "reconsideration-requests", body)
        assert response.status_code == 201, response.text


class TestReconsiderationDecisionBody:
    async def test_refuses_immigration_fields(self, client: httpx.AsyncClient, cast: Cast) -> None:
        case = await drive(client, cast, "rg_reconsidering")
        path = f"reconsideration-requests/{case.request_id}/decision"
        body = {"accept": False, "reasons": "The grounds change nothing."}
        await refuses_each_field(client, cast.decision_maker, case, path, body)
        response = await run(client, cast.decision_maker, case, path, body)
        assert response.status_code == 200, response.text


class TestReferralForm:
    @pytest.mark.parametrize("field", ["immigration_status", "home_office_reference"])
    async def test_refuses_immigration_fields_outside_the_immigration_part(
        self, client: httpx.AsyncClient, cast: Cast, field: str
    ) -> None:
        for form in (
            {**referral_form(), field: "no_leave"},
            referral_form(potential_victim={field: "no_leave"}),
            referral_form(exploitation={field: "no_leave"}),
        ):
            response = await client.post(
                "/api/v1/referrals", json=form, headers=cast.responder.headers
            )
            assert response.status_code == 422, response.text
            assert any(e["field"].endswith(field) for e in response.json()["errors"])
        response = await client.post(
            "/api/v1/referrals", json=referral_form(), headers=cast.responder.headers
        )
        assert response.status_code == 201, response.text
