"""POST /duty-to-notify: an anonymous report, anonymous by construction (API.md "Duty to notify").

It takes gender, nationality and where the exploitation happened, and nothing that could
identify a person: any other field is 422. Only first responders file one.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.identity.roles import Role
from app.referrals.models import DutyToNotify, Referral
from tests.factories import AppUser as SignedIn
from tests.factories import make_user

URL = "/api/v1/duty-to-notify"
REFERENCE = re.compile(r"^DTN-W-2026-\d{6}$")


def report(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "gender": "male",
        "nationality": "VN",
        "exploitation": {"types": ["criminal"], "location": "uk", "local_authority": "W06000015"},
    }
    body.update(overrides)
    return body


IDENTIFYING = {
    "given_name": "Ana",
    "family_name": "Popescu",
    "other_names": ["Anca"],
    "date_of_birth": "1999-04-02",
    "estimated_age": 30,
    "account": "What the first responder saw.",
    "potential_victim": {"given_name": "Ana", "gender": "female"},
    "home_office_reference": "HO-123456",
    "immigration": {"status": "visa_overstayer"},
    "languages": ["ro"],
    "consent": {"given": False, "recorded_on": "2026-11-27"},
    "indicators": ["threats"],
    "address": "1 Stryd y Castell",
}


@pytest.fixture
async def responder(app: FastAPI, db: AsyncSession) -> SignedIn:
    return await make_user(app, db, Role.FIRST_RESPONDER, organisation="south-wales-police")


async def stored(db: AsyncSession) -> int:
    return await db.scalar(select(func.count()).select_from(DutyToNotify)) or 0


class TestFiling:
    async def test_answers_201_with_id_reference_and_time(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        response = await client.post(URL, json=report(), headers=responder.headers)
        assert response.status_code == 201, response.text
        body = response.json()
        assert REFERENCE.match(body["reference"])
        assert body["created_at"].endswith("Z")
        assert response.headers["location"] == f"{URL}/{body['id']}"
        row = await db.get(DutyToNotify, uuid.UUID(body["id"]))
        assert row is not None
        assert (row.gender, row.nationality, row.local_authority) == ("male", "VN", "W06000015")
        assert row.exploitation_types == ["criminal"]
        assert row.submitted_by_id == responder.id

    async def test_is_counted_apart_from_referrals(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        await client.post(URL, json=report(), headers=responder.headers)
        assert await db.scalar(select(func.count()).select_from(Referral)) == 0

    async def test_writes_one_event_with_no_referral(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        body = (await client.post(URL, json=report(), headers=responder.headers)).json()
        found = list(
            (
                await db.scalars(
                    select(AuditEvent).where(AuditEvent.action == "duty_to_notify.submitted")
                )
            ).all()
        )
        assert len(found) == 1
        assert found[0].actor_id == responder.id
        assert found[0].referral_id is None
        assert found[0].changes == {"reference": {"after": body["reference"]}}

    async def test_takes_its_own_series_of_references(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        first = (await client.post(URL, json=report(), headers=responder.headers)).json()
        second = (await client.post(URL, json=report(), headers=responder.headers)).json()
        assert int(second["reference"][-6:]) == int(first["reference"][-6:]) + 1

    async def test_an_unknown_nationality_and_kosovo_are_accepted(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        for nationality in (None, "XK"):
            response = await client.post(
                URL, json=report(nationality=nationality), headers=responder.headers
            )
            assert response.status_code == 201, response.text


class TestAnonymity:
    @pytest.mark.parametrize("field", sorted(IDENTIFYING))
    async def test_refuses_an_identifying_field(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn, field: str
    ) -> None:
        response = await client.post(
            URL, json=report(**{field: IDENTIFYING[field]}), headers=responder.headers
        )
        assert response.status_code == 422
        assert response.json()["type"] == "/problems/validation-failed"
        assert [e["field"] for e in response.json()["errors"]] == [field]
        assert await stored(db) == 0

    async def test_refuses_more_about_the_exploitation_than_where(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        exploitation = report()["exploitation"] | {"began_on": "2025-06-01"}
        response = await client.post(
            URL, json=report(exploitation=exploitation), headers=responder.headers
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["exploitation.began_on"]
        assert await stored(db) == 0


class TestValidation:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (report(gender="woman"), "gender"),
            ({k: v for k, v in report().items() if k != "gender"}, "gender"),
            (report(nationality="ZZ"), "nationality"),
            (
                report(
                    exploitation={"types": [], "location": "uk", "local_authority": "W06000015"}
                ),
                "exploitation.types",
            ),
            (
                report(
                    exploitation={
                        "types": ["sexual", "sexual"],
                        "location": "uk",
                        "local_authority": "W06000015",
                    }
                ),
                "exploitation.types",
            ),
            (
                report(
                    exploitation={
                        "types": ["sexual"],
                        "location": "uk",
                        "local_authority": "W06000099",
                    }
                ),
                "exploitation.local_authority",
            ),
            (
                report(exploitation={"types": ["sexual"], "location": "uk"}),
                "exploitation.local_authority",
            ),
        ],
    )
    async def test_refuses_an_invalid_report(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        responder: SignedIn,
        body: dict[str, Any],
        field: str,
    ) -> None:
        response = await client.post(URL, json=body, headers=responder.headers)
        assert response.status_code == 422
        assert field in [e["field"] for e in response.json()["errors"]]
        assert await stored(db) == 0


class TestWhoMayFile:
    @pytest.mark.parametrize("role", [r for r in Role if r is not Role.FIRST_RESPONDER])
    async def test_only_first_responders(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient, role: Role
    ) -> None:
        user = await make_user(app, db, role)
        response = await client.post(URL, json=report(), headers=user.headers)
        assert response.status_code == 403
        assert response.json()["type"] == "/problems/forbidden"
        assert await stored(db) == 0

    async def test_needs_a_token(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        assert (await client.post(URL, json=report())).status_code == 401
        assert await stored(db) == 0
