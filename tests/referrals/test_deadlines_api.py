"""Deadlines through the API with the test clock: across Christmas, Easter 2027 and weekends,
the working days each decision records and whether it met its due date, the recovery period
and the panel's deadline, and how a suspension moves each date.

Every expected date is worked out by hand from the calendar in the comment beside it, never by
the service's own arithmetic. The test clock is the real clock plus an offset, so each test
moves it to the Welsh date it needs (`set_service_date` reads GET /test-clock first).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.referrals.builders import (
    CG_NEGATIVE,
    RG_POSITIVE,
    Case,
    Cast,
    case_events,
    drive,
    file_case,
    make_cast_quickly,
    run,
    set_service_date,
    step,
)


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def deadlines(client: httpx.AsyncClient, cast: Cast, case: Case) -> dict[str, Any]:
    response = await client.get(f"/api/v1/referrals/{case.id}", headers=cast.decision_maker.headers)
    assert response.status_code == 200, response.text
    return dict(response.json()["deadlines"])


async def on(client: httpx.AsyncClient, cast: Cast, day: date) -> None:
    await set_service_date(client, cast.responder, day)


class TestReasonableGroundsDecision:
    @pytest.mark.parametrize(
        ("filed", "due", "decided", "working_days", "met"),
        [
            # Christmas: Tue 22 Dec; 23, 24, (Fri 25, Mon 28 bank holidays) 29, 30, 31 Dec.
            (date(2026, 12, 22), date(2026, 12, 31), date(2026, 12, 31), 5, True),
            # ... and New Year's Day (Fri 1 Jan) too: Mon 4 Jan is the sixth working day.
            (date(2026, 12, 22), date(2026, 12, 31), date(2027, 1, 4), 6, False),
            # Easter 2027: Wed 24 Mar; 25, (Good Friday 26, Easter Monday 29) 30, 31 Mar, 1, 2 Apr.
            (date(2027, 3, 24), date(2027, 4, 2), date(2027, 4, 2), 5, True),
            (date(2027, 3, 24), date(2027, 4, 2), date(2027, 4, 5), 6, False),
            # A weekend: Fri 27 Nov is due Fri 4 Dec (API.md); decided on Sun 6 Dec, late, yet
            # the weekend adds no working day.
            (date(2026, 11, 27), date(2026, 12, 4), date(2026, 12, 6), 5, False),
            # Filed on a Saturday, decided the Monday after: one working day.
            (date(2026, 11, 28), date(2026, 12, 4), date(2026, 11, 30), 1, True),
        ],
    )
    async def test_records_the_welsh_working_days_it_took_and_whether_it_was_met(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        filed: date,
        due: date,
        decided: date,
        working_days: int,
        met: bool,
    ) -> None:
        await on(client, cast, filed)
        case = await file_case(client, cast.responder)
        assert (await deadlines(client, cast, case))["rg_due"] == due.isoformat()
        await on(client, cast, decided)
        response = await run(client, cast.decision_maker, case, "decisions", RG_POSITIVE)

        assert response.status_code == 201, response.text
        decision = response.json()
        assert decision["due"] == due.isoformat()
        assert decision["working_days"] == working_days
        assert decision["met"] is met


class TestRecoveryPeriodAndPanel:
    async def test_the_recovery_period_is_thirty_calendar_days_holidays_included(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        await on(client, cast, date(2026, 12, 22))
        case = await drive(client, cast, "recovery_period")
        assert (await deadlines(client, cast, case))["recovery_period_ends"] == "2027-01-21"

    async def test_the_panel_is_due_ten_working_days_after_the_proposal(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        await on(client, cast, date(2026, 12, 22))
        case = await drive(client, cast, "cg_proposed")
        # 23, 24, 29, 30, 31 Dec, (1 Jan) 4, 5, 6, 7, 8 Jan.
        assert (await deadlines(client, cast, case))["panel_review_due"] == "2027-01-08"


class TestSuspension:
    async def test_resuming_counts_the_rg_deadline_afresh_from_the_resume_date(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        await on(client, cast, date(2026, 12, 1))
        case = await file_case(client, cast.responder)
        assert (await deadlines(client, cast, case))["rg_due"] == "2026-12-08"
        await on(client, cast, date(2026, 12, 3))
        await step(client, cast.decision_maker, case, "suspend", {"reason": "Missing."})
        await on(client, cast, date(2027, 3, 24))
        response = await run(client, cast.decision_maker, case, "resume", {"reason": "Found."})

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "awaiting_rg"
        assert response.json()["deadlines"]["rg_due"] == "2027-04-02"  # across Easter
        resumed = (await case_events(db, case))[-1]
        assert resumed.action == "referral.resumed"
        assert resumed.changes["rg_due"] == {"before": "2026-12-08", "after": "2027-04-02"}

    async def test_resuming_moves_the_recovery_period_on_by_the_days_suspended(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        await on(client, cast, date(2026, 12, 1))
        case = await drive(client, cast, "recovery_period")
        assert (await deadlines(client, cast, case))["recovery_period_ends"] == "2026-12-31"
        await on(client, cast, date(2026, 12, 10))
        await step(client, cast.decision_maker, case, "suspend", {"reason": "Missing."})
        await on(client, cast, date(2026, 12, 24))  # 14 calendar days later
        response = await run(client, cast.decision_maker, case, "resume", {"reason": "Found."})

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "recovery_period"
        assert body["deadlines"]["recovery_period_ends"] == "2027-01-14"
        assert body["deadlines"]["rg_due"] == "2026-12-08"  # a past stage's date stays

    async def test_a_conclusive_decision_after_resuming_waits_for_the_moved_end(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        await on(client, cast, date(2026, 12, 1))
        case = await drive(client, cast, "recovery_period")
        await step(client, cast.decision_maker, case, "suspend", {"reason": "Missing."})
        await on(client, cast, date(2026, 12, 11))
        await step(client, cast.decision_maker, case, "resume", {"reason": "Found."})
        await on(client, cast, date(2026, 12, 31))  # the old end; the new one is 10 Jan
        body = {k: v for k, v in CG_NEGATIVE.items() if k != "early_decision_reason"}
        response = await run(client, cast.decision_maker, case, "decisions", body)
        assert response.status_code == 422, response.text
        assert response.json()["type"] == "/problems/rule-violation"
