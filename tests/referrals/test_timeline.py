"""GET /referrals/{id}/timeline: each stage with its time, actor, due date, working days taken
and met or missed; the audit events of the victim track (and the access track for auditors),
never the immigration track; who may read it.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from tests.factories import AppUser
from tests.referrals.builders import (
    CG_NEGATIVE,
    RG_POSITIVE,
    Case,
    Cast,
    drive,
    file_case,
    make_cast_quickly,
    review_case,
    set_service_date,
    step,
)

EVENT_KEYS = {
    "seq", "id", "at", "actor", "action", "track", "referral_id", "stream", "position",
    "changes", "request_id", "hash", "prev_hash",
}  # fmt: skip


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def timeline(client: httpx.AsyncClient, user: AppUser, case: Case) -> httpx.Response:
    return await client.get(f"/api/v1/referrals/{case.id}/timeline", headers=user.headers)


def stages(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json()["stages"])


async def a_whole_case(client: httpx.AsyncClient, cast: Cast) -> Case:
    """Filed Tue 1 Dec; RG positive Thu 3 Dec; CG negative proposed and agreed the same day;
    reconsideration asked Fri 4 Dec and declined Mon 7 Dec."""
    await set_service_date(client, cast.responder, date(2026, 12, 1))
    case = await file_case(client, cast.responder)
    await set_service_date(client, cast.responder, date(2026, 12, 3))
    await step(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
    await step(client, cast.decision_maker, case, "decisions", CG_NEGATIVE)
    assert (await review_case(client, cast.panel, case, agree=True)).status_code == 200
    await set_service_date(client, cast.responder, date(2026, 12, 4))
    await step(client, cast.responder, case, "reconsideration-requests", {"grounds": "New."})
    await set_service_date(client, cast.responder, date(2026, 12, 7))
    path = f"reconsideration-requests/{case.request_id}/decision"
    await step(client, cast.senior, case, path, {"accept": False, "reasons": "Nothing new."})
    return case


class TestStages:
    async def test_each_stage_has_its_actor_due_date_working_days_and_verdict(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await a_whole_case(client, cast)
        response = await timeline(client, cast.decision_maker, case)
        got = stages(response)

        assert response.json()["reference"] == case.reference
        assert response.headers["ETag"] == case.etag  # the referral's, as every read carries
        assert [s["name"] for s in got] == [
            "submitted", "reasonable_grounds", "conclusive_grounds", "reconsideration",
        ]  # fmt: skip
        submitted, rg, cg, reconsideration = got
        assert submitted["actor"]["id"] == str(cast.responder.id)
        assert submitted["at"].startswith("2026-12-01")
        assert (rg["due"], rg["working_days"], rg["met"]) == ("2026-12-08", 2, True)
        assert rg["actor"]["id"] == str(cast.decision_maker.id)
        assert rg["at"].startswith("2026-12-03")
        assert (cg["due"], cg["working_days"], cg["met"]) == (None, 0, None)  # no CG deadline
        assert reconsideration["actor"]["id"] == str(cast.senior.id)
        assert reconsideration["at"].startswith("2026-12-07")
        assert (reconsideration["due"], reconsideration["working_days"]) == ("2026-12-11", 1)
        assert reconsideration["met"] is True

    async def test_a_withdrawal_is_a_stage_of_its_own(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "withdrawn")
        got = stages(await timeline(client, cast.auditor, case))
        assert [s["name"] for s in got] == ["submitted", "withdrawal"]
        assert got[1]["actor"]["id"] == str(cast.responder.id)

    async def test_a_proposal_awaiting_review_is_not_yet_a_stage(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_proposed")
        assert [s["name"] for s in stages(await timeline(client, cast.senior, case))] == [
            "submitted"
        ]


class TestEvents:
    async def test_a_decision_maker_sees_the_victim_track_only_never_immigration(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await a_whole_case(client, cast)  # filed with immigration facts (the form's)
        await client.get(f"/api/v1/referrals/{case.id}", headers=cast.decision_maker.headers)
        stored = await db.scalars(
            select(AuditEvent.track).where(AuditEvent.referral_id == uuid.UUID(case.id))
        )
        assert {"victim", "immigration", "access"} <= set(stored.all())  # all three exist

        events = (await timeline(client, cast.decision_maker, case)).json()["events"]
        assert {e["track"] for e in events} == {"victim"}
        assert [e["action"] for e in events] == [
            "referral.submitted", "referral.routed", "decision.effective", "decision.proposed",
            "decision.reviewed",
            "reconsideration.requested", "reconsideration.declined",
        ]  # fmt: skip
        assert all(set(e) == EVENT_KEYS for e in events)
        assert [e["position"] for e in events] == sorted(e["position"] for e in events)
        assert events[1]["prev_hash"] == events[0]["hash"]
        assert events[2]["actor"]["id"] == str(cast.decision_maker.id)

    async def test_an_auditor_also_sees_the_access_track_but_never_immigration(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        await client.get(f"/api/v1/referrals/{case.id}", headers=cast.decision_maker.headers)
        events = (await timeline(client, cast.auditor, case)).json()["events"]
        assert {e["track"] for e in events} == {"victim", "access"}
        assert "immigration.updated" not in {e["action"] for e in events}


class TestWhoMayRead:
    async def test_refuses_a_decision_maker_of_another_unit_as_if_it_did_not_exist(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        response = await timeline(client, cast.other_unit_maker, case)
        assert (response.status_code, response.json()["type"]) == (404, "/problems/not-found")
        missing = Case(id=str(uuid.uuid4()), reference="", version=1)
        assert (await timeline(client, cast.auditor, missing)).status_code == 404

    async def test_refuses_roles_that_do_not_read_timelines(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        for user in (cast.responder, cast.panel, cast.immigration, cast.admin):
            response = await timeline(client, user, case)
            assert (response.status_code, response.json()["type"]) == (403, "/problems/forbidden")
