"""POST /referrals/{id}/decisions and /decisions/{id}/review: what a decision records, the
second review of a negative RG, the panel's review of a negative CG, and their refusals.

Each command test asserts the status, the problem `type`, the effect, and exactly one audit
event (none on a refusal). Separation of duties is in `test_commands_separation.py`; the
calendar (Christmas, Easter, weekends) in `test_deadlines_api.py`.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.referrals.models import Decision
from tests.referrals.builders import (
    CG_NEGATIVE,
    CG_POSITIVE,
    RG_NEGATIVE,
    RG_POSITIVE,
    Case,
    Cast,
    case_events,
    drive,
    make_cast_quickly,
    refused,
    review_case,
    run,
    service_date,
    set_service_date,
)

IMMIGRATION_FIELDS: list[dict[str, Any]] = [
    {"immigration": {"status": "no_leave"}},
    {"immigration_status": "visa_overstayer"},
    {"home_office_reference": "HO-123456"},
]
SERVER_OWNED: list[dict[str, Any]] = [
    {"status": "effective"},
    {"decided_by": str(uuid.uuid4())},
    {"unit": "somewhere"},
    {"version": 9},
]
INVALID_REVIEWS: list[tuple[dict[str, Any], str]] = [
    ({"agree": True}, "comments"),
    ({"agree": True, "comments": ""}, "comments"),
    ({"agree": 1, "comments": "x"}, "agree"),
    ({"agree": "true", "comments": "x"}, "agree"),
    ({"agree": True, "comments": "x", "immigration_status": "no_leave"}, "immigration_status"),
    ({"agree": True, "comments": "x", "status": "effective"}, "status"),
]


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def representation(client: httpx.AsyncClient, cast: Cast, case: Case) -> dict[str, Any]:
    response = await client.get(f"/api/v1/referrals/{case.id}", headers=cast.decision_maker.headers)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == case.etag
    return dict(response.json())


def problem(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["type"])


class TestDecideReasonableGrounds:
    async def test_positive_is_effective_at_once_and_starts_the_recovery_period(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        before = await case_events(db, case)
        response = await run(client, cast.decision_maker, case, "decisions", RG_POSITIVE)

        assert response.status_code == 201, response.text
        assert response.headers["ETag"] == '"2"'
        decision = response.json()
        today = await service_date(client, cast.decision_maker)
        assert decision["status"] == "effective"
        assert decision["unit"] == "all-wales-decision-unit"
        assert decision["guidance_version"] == "rg-2023-07"
        assert decision["reasons"] == RG_POSITIVE["reasons"]
        assert decision["decided_by"]["id"] == str(cast.decision_maker.id)
        body = await representation(client, cast, case)
        assert body["status"] == "recovery_period"
        assert body["deadlines"]["recovery_period_ends"] == str(today + timedelta(days=30))
        assert decision["due"] == body["deadlines"]["rg_due"]
        assert decision["working_days"] == 0
        assert decision["met"] is True
        events = (await case_events(db, case))[len(before) :]
        assert [e.action for e in events] == ["decision.effective"]
        assert events[0].changes["status"] == {"before": "awaiting_rg", "after": "recovery_period"}

    async def test_negative_is_only_proposed_and_the_status_stays(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        before = len(await case_events(db, case))
        response = await run(client, cast.senior, case, "decisions", RG_NEGATIVE)

        assert response.status_code == 201, response.text
        assert response.json()["status"] == "proposed"
        assert response.json()["review"] is None
        assert (await representation(client, cast, case))["status"] == "awaiting_rg"
        events = await case_events(db, case)
        assert [e.action for e in events[before:]] == ["decision.proposed"]
        stored = await db.get(Decision, uuid.UUID(response.json()["id"]))
        assert stored is not None
        assert stored.effective_at is None

    async def test_refuses_a_decision_without_reasons(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        without = {"stage": "reasonable_grounds", "outcome": "positive"}
        for body in (without, without | {"reasons": ""}, without | {"reasons": " \n "}):
            response = await run(client, cast.decision_maker, case, "decisions", body)
            await refused(db, response, 422, "validation-failed")
            assert [e["field"] for e in response.json()["errors"]] == ["reasons"], body

    async def test_refuses_immigration_facts_in_the_body(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        for extra in IMMIGRATION_FIELDS:
            body = RG_POSITIVE | extra
            response = await run(client, cast.decision_maker, case, "decisions", body)
            await refused(db, response, 422, "validation-failed")
            assert [e["field"] for e in response.json()["errors"]] == list(extra)

    async def test_refuses_server_owned_fields(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        for extra in SERVER_OWNED:
            body = RG_POSITIVE | extra
            response = await run(client, cast.decision_maker, case, "decisions", body)
            await refused(db, response, 422, "validation-failed")
            assert [e["field"] for e in response.json()["errors"]] == list(extra)

    async def test_refuses_another_decision_while_a_proposal_awaits_review(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_proposed")
        response = await run(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        await refused(db, response, 409, "invalid-state")
        assert response.json()["detail"] == (
            "A proposed reasonable-grounds decision awaits its review: nothing else can be "
            "decided, and the referral cannot be suspended, until it is reviewed "
            "(current status: awaiting_rg)."
        )

    async def test_refuses_a_conclusive_decision_before_reasonable_grounds(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        response = await run(client, cast.decision_maker, case, "decisions", CG_POSITIVE)
        await refused(db, response, 409, "invalid-state")


class TestDecideConclusiveGrounds:
    async def test_refuses_an_early_decision_without_its_reason(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        body = {k: v for k, v in CG_POSITIVE.items() if k != "early_decision_reason"}
        response = await run(client, cast.decision_maker, case, "decisions", body)
        await refused(db, response, 422, "rule-violation")
        assert [e["field"] for e in response.json()["errors"]] == ["early_decision_reason"]

    async def test_takes_an_early_decision_with_its_reason_and_audits_it(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        before = len(await case_events(db, case))
        response = await run(client, cast.senior, case, "decisions", CG_POSITIVE)

        assert response.status_code == 201, response.text
        decision = response.json()
        assert decision["early_decision_reason"] == CG_POSITIVE["early_decision_reason"]
        assert decision["status"] == "effective"
        assert decision["due"] is None
        assert decision["met"] is None
        assert (await representation(client, cast, case))["status"] == "cg_positive"
        events = (await case_events(db, case))[before:]
        assert [e.action for e in events] == ["decision.effective"]
        assert events[0].changes["early_decision_reason"] == "recorded"

    async def test_needs_no_reason_once_the_recovery_period_has_ended(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        await set_service_date(client, cast.responder, date(2026, 12, 1))  # a Tuesday
        case = await drive(client, cast, "recovery_period")
        await set_service_date(client, cast.responder, date(2026, 12, 31))  # the period's end
        body = {k: v for k, v in CG_POSITIVE.items() if k != "early_decision_reason"}
        response = await run(client, cast.decision_maker, case, "decisions", body)

        assert response.status_code == 201, response.text
        # Counted from the RG decision (1 Dec): 22 weekdays to 31 Dec, less 25 and 28 Dec.
        assert response.json()["working_days"] == 20
        assert response.json()["early_decision_reason"] is None

    async def test_refuses_an_early_decision_on_the_day_before_the_period_ends(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        await set_service_date(client, cast.responder, date(2026, 12, 1))
        case = await drive(client, cast, "recovery_period")
        await set_service_date(client, cast.responder, date(2026, 12, 30))
        body = {k: v for k, v in CG_NEGATIVE.items() if k != "early_decision_reason"}
        response = await run(client, cast.decision_maker, case, "decisions", body)
        await refused(db, response, 422, "rule-violation")

    async def test_negative_goes_to_the_panel_due_in_ten_working_days(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        await set_service_date(client, cast.responder, date(2026, 12, 1))
        case = await drive(client, cast, "recovery_period")
        before = len(await case_events(db, case))
        response = await run(client, cast.decision_maker, case, "decisions", CG_NEGATIVE)

        assert response.status_code == 201, response.text
        assert response.json()["status"] == "proposed"
        body = await representation(client, cast, case)
        assert body["status"] == "recovery_period"
        assert body["deadlines"]["panel_review_due"] == "2026-12-15"  # Tue 1 → Tue 15 Dec
        assert [e.action for e in (await case_events(db, case))[before:]] == ["decision.proposed"]


class TestReview:
    async def test_second_review_confirms_a_negative_reasonable_grounds_decision(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_proposed")
        before = len(await case_events(db, case))
        response = await review_case(client, cast.senior_two, case, agree=True, comments="Agreed.")

        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == case.etag
        decision = response.json()
        assert decision["id"] == case.decision_id
        assert decision["status"] == "effective"
        assert decision["review"]["agree"] is True
        assert decision["review"]["comments"] == "Agreed."
        assert decision["review"]["by"]["id"] == str(cast.senior_two.id)
        assert (await representation(client, cast, case))["status"] == "rg_negative"
        stored = await db.get(Decision, uuid.UUID(decision["id"]))
        assert stored is not None
        assert stored.effective_at is not None
        events = (await case_events(db, case))[before:]
        assert [e.action for e in events] == ["decision.reviewed"]

    async def test_second_review_rejects_and_returns_to_awaiting_rg_with_its_comments(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_proposed")
        response = await review_case(
            client, cast.senior_two, case, agree=False, comments="Indicators were missed."
        )

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "rejected"
        body = await representation(client, cast, case)
        assert body["status"] == "awaiting_rg"
        assert body["decisions"][0]["review"]["comments"] == "Indicators were missed."
        fresh = await run(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        assert fresh.status_code == 201, fresh.text

    async def test_panel_agreement_makes_a_negative_conclusive_decision_effective(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_proposed")
        before = len(await case_events(db, case))
        response = await review_case(client, cast.panel, case, agree=True)

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "effective"
        body = await representation(client, cast, case)
        assert body["status"] == "cg_negative"
        assert body["deadlines"]["panel_review_due"] is None
        assert [e.action for e in (await case_events(db, case))[before:]] == ["decision.reviewed"]

    async def test_panel_disagreement_returns_the_case_for_a_fresh_decision(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_proposed")
        response = await review_case(client, cast.panel, case, agree=False)

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "rejected"
        assert (await representation(client, cast, case))["status"] == "recovery_period"
        fresh = await run(client, cast.decision_maker, case, "decisions", CG_POSITIVE)
        assert fresh.status_code == 201, fresh.text

    async def test_refuses_to_review_a_decision_already_in_effect(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_negative")
        response = await review_case(client, cast.senior, case, agree=False)
        await refused(db, response, 409, "invalid-state")
        assert "rg_negative" in response.json()["detail"]

    async def test_refuses_a_decision_the_referral_does_not_have(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_proposed")
        response = await run(
            client, cast.senior_two, case, f"decisions/{uuid.uuid4()}/review",
            {"agree": True, "comments": "x"},
        )  # fmt: skip
        await refused(db, response, 404, "not-found")

    async def test_refuses_an_invalid_review(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_proposed")
        path = f"decisions/{case.decision_id}/review"
        for body, field in INVALID_REVIEWS:
            response = await run(client, cast.senior_two, case, path, body)
            await refused(db, response, 422, "validation-failed")
            assert [e["field"] for e in response.json()["errors"]] == [field], body
