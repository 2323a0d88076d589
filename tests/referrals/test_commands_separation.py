"""Separation of duties (DESIGN §4): nobody decides a referral they filed, nobody reviews their
own proposal, a panel member who took part cannot sit on the case's panel, and nobody decides
the reconsideration of their own decision. Each refusal is 403 `separation-of-duties` and
leaves no audit event.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.identity.roles import Role
from tests.factories import AppUser, make_user
from tests.referrals.builders import (
    CG_NEGATIVE,
    RG_POSITIVE,
    Case,
    Cast,
    drive,
    file_case,
    make_cast_quickly,
    refused,
    review_case,
    run,
    step,
)

UNIT = "all-wales-decision-unit"


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def someone(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession], *roles: Role
) -> AppUser:
    async with sessions() as session:
        return await make_user(app, session, *roles, organisation=UNIT)


async def refused_for_duty(db: AsyncSession, case: Case, response: httpx.Response) -> None:
    await refused(db, response, 403, "separation-of-duties")


class TestTheFiler:
    async def test_may_not_decide_a_referral_they_filed(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
    ) -> None:
        filer = await someone(app, sessions, Role.FIRST_RESPONDER, Role.DECISION_MAKER)
        case = await file_case(client, filer)
        response = await run(client, filer, case, "decisions", RG_POSITIVE)
        await refused_for_duty(db, case, response)

    async def test_is_refused_for_duty_before_a_rule_that_needs_the_state(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
    ) -> None:
        # API.md's order: 403 separation of duties comes before 422 (no early-decision reason).
        filer = await someone(app, sessions, Role.FIRST_RESPONDER, Role.DECISION_MAKER)
        case = await file_case(client, filer)
        await step(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        early = {k: v for k, v in CG_NEGATIVE.items() if k != "early_decision_reason"}
        response = await run(client, filer, case, "decisions", early)
        await refused_for_duty(db, case, response)


class TestTheProposer:
    async def test_may_not_review_their_own_negative_rg_proposal(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_proposed")  # proposed by `senior`
        await refused_for_duty(db, case, await review_case(client, cast.senior, case, agree=True))

    async def test_may_not_review_their_own_negative_cg_proposal_on_the_panel(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
    ) -> None:
        both = await someone(app, sessions, Role.DECISION_MAKER, Role.PANEL_MEMBER)
        case = await drive(client, cast, "recovery_period")
        await step(client, both, case, "decisions", CG_NEGATIVE)
        await refused_for_duty(db, case, await review_case(client, both, case, agree=True))


class TestThePanel:
    async def test_refuses_a_panel_member_who_decided_the_case_earlier(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
    ) -> None:
        both = await someone(app, sessions, Role.DECISION_MAKER, Role.PANEL_MEMBER)
        case = await file_case(client, cast.responder)
        await step(client, both, case, "decisions", RG_POSITIVE)
        await step(client, cast.decision_maker, case, "decisions", CG_NEGATIVE)
        await refused_for_duty(db, case, await review_case(client, both, case, agree=False))

    async def test_refuses_a_panel_member_who_reviewed_the_case_earlier(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
    ) -> None:
        both = await someone(app, sessions, Role.SENIOR_DECISION_MAKER, Role.PANEL_MEMBER)
        case = await file_case(client, cast.responder)
        await step(client, cast.senior, case, "decisions", {**RG_POSITIVE, "outcome": "negative"})
        rejected = await review_case(client, both, case, agree=False)  # a second review
        assert rejected.status_code == 200, rejected.text
        await step(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        await step(client, cast.decision_maker, case, "decisions", CG_NEGATIVE)
        await refused_for_duty(db, case, await review_case(client, both, case, agree=True))

    async def test_accepts_a_panel_member_who_took_no_part(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_proposed")
        assert (await review_case(client, cast.panel, case, agree=True)).status_code == 200


class TestTheQuestionedDecider:
    async def test_may_not_decide_the_reconsideration_of_their_rg_decision(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_reconsidering")  # `senior` proposed the negative
        path = f"reconsideration-requests/{case.request_id}/decision"
        response = await run(client, cast.senior, case, path, {"accept": True, "reasons": "x"})
        await refused_for_duty(db, case, response)

    async def test_may_not_decide_the_reconsideration_of_their_cg_decision(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_reconsidering")  # `decision_maker` proposed it
        path = f"reconsideration-requests/{case.request_id}/decision"
        body = {"accept": False, "reasons": "x"}
        await refused_for_duty(db, case, await run(client, cast.decision_maker, case, path, body))
