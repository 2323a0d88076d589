"""Who is told what (CASEWORK "Notifications", the table), through the API's real commands,
and that a change rolled back leaves nothing in the outbox."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.identity.models import Organisation
from app.notifications.models import Notification
from tests.notifications.walk import give_mailbox, told
from tests.referrals.builders import (
    CG_NEGATIVE,
    RG_NEGATIVE,
    RG_POSITIVE,
    Cast,
    file_case,
    make_cast_quickly,
    review_case,
    run,
    step,
)


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def mailbox(db: AsyncSession, code: str) -> str:
    await give_mailbox(db, code)
    organisation = await db.scalar(select(Organisation).where(Organisation.code == code))
    assert organisation is not None
    return f"organisation:{organisation.id}"


def users(kind: str, *people: object) -> set[tuple[str, str]]:
    return {(kind, str(p.id)) for p in people}  # type: ignore[attr-defined]


class TestFromFilingToConclusiveGrounds:
    async def test_each_step_tells_the_people_of_the_table(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        unit_box = await mailbox(db, "all-wales-decision-unit")
        referrer_box = await mailbox(db, "south-wales-police")
        deciders = (cast.decision_maker, cast.senior, cast.senior_two)
        case = await file_case(client, cast.responder)
        expected = users("referral.received", cast.responder)
        expected |= users("referral.routed", *deciders) | {("referral.routed", unit_box)}
        assert await told(db, case.id) == expected

        await step(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        effective = users("decision.effective", cast.responder)
        effective |= {("decision.effective", referrer_box)}
        expected |= effective
        assert await told(db, case.id) == expected

        await step(client, cast.decision_maker, case, "decisions", CG_NEGATIVE)
        expected |= users("panel.needed", cast.panel)
        assert await told(db, case.id) == expected

        assert (await review_case(client, cast.panel, case, agree=True)).status_code == 200
        await step(client, cast.responder, case, "reconsideration-requests", {"grounds": "New."})
        expected |= users("reconsideration.requested", *deciders)
        expected |= {("reconsideration.requested", unit_box)}
        assert await told(db, case.id) == expected

        await step(
            client,
            cast.senior,
            case,
            f"reconsideration-requests/{case.request_id}/decision",
            {"accept": False, "reasons": "Nothing new."},
        )
        expected |= users("reconsideration.decided", cast.responder)
        assert await told(db, case.id) == expected
        rows = (
            await db.scalars(select(Notification).where(Notification.kind == "decision.effective"))
        ).all()
        assert sum(1 for r in rows if str(r.referral_id) == case.id) == 4  # RG and CG, 2 each
        assert {r.params["stage"] for r in rows} == {"reasonable_grounds", "conclusive_grounds"}


class TestOtherCommands:
    async def test_a_proposed_negative_rg_asks_the_seniors_for_a_review(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        await step(client, cast.decision_maker, case, "decisions", RG_NEGATIVE)
        kinds = {k for k in await told(db, case.id) if k[0] == "review.needed"}
        assert kinds == users("review.needed", cast.senior, cast.senior_two)

    async def test_suspend_resume_and_a_referrers_withdrawal(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        await step(client, cast.decision_maker, case, "suspend", {"reason": "Missing."})
        await step(client, cast.decision_maker, case, "resume", {"reason": "Found."})
        await step(client, cast.responder, case, "withdraw", {"reason": "Moved away."})
        news = {k for k in await told(db, case.id) if k[0].startswith("referral.")}
        news -= {k for k in news if k[0] in ("referral.received", "referral.routed")}
        deciders = (cast.decision_maker, cast.senior, cast.senior_two)
        assert news == (
            users("referral.suspended", cast.responder)
            | users("referral.resumed", cast.responder)
            | users("referral.withdrawn", cast.responder, *deciders)
        )

    async def test_a_withdrawal_by_the_unit_tells_only_the_filer(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        await step(client, cast.decision_maker, case, "withdraw", {"reason": "Duplicate."})
        withdrawn = {k for k in await told(db, case.id) if k[0] == "referral.withdrawn"}
        assert withdrawn == users("referral.withdrawn", cast.responder)

    async def test_a_reroute_tells_the_new_unit_and_notes_tell_nobody(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        before = await told(db, case.id)
        await step(client, cast.decision_maker, case, "notes", {"text": "More."})
        await step(client, cast.decision_maker, case, "assign", {})
        assert await told(db, case.id) == before
        await step(
            client, cast.senior, case, "reroute", {"to": cast.child_panel, "reason": "A child."}
        )
        assert await told(db, case.id) - before == users("referral.routed", cast.other_unit_maker)

    async def test_an_age_that_moves_the_case_tells_the_new_unit_only(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        """docs/notifications.md: `referral.routed` goes to every active decider of the unit an
        age assessment routes the case to, and its mailbox; the old unit hears nothing."""
        panel_box = await mailbox(db, cast.child_panel)
        old_box = await mailbox(db, "all-wales-decision-unit")
        case = await file_case(client, cast.responder)
        before = await told(db, case.id)
        body = {"estimated_age": 15, "reason": "Assessed by the council."}
        await step(client, cast.decision_maker, case, "age", body)
        news = await told(db, case.id) - before
        assert news == users("referral.routed", cast.other_unit_maker) | {
            ("referral.routed", panel_box)
        }
        assert old_box not in {recipient for _, recipient in news}

    async def test_an_age_that_keeps_the_unit_tells_nobody(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        """docs/notifications.md: an age assessment that keeps the unit tells nobody."""
        await mailbox(db, "all-wales-decision-unit")
        case = await file_case(client, cast.responder)
        before = await told(db, case.id)
        body = {"estimated_age": 30, "reason": "Assessed again."}
        await step(client, cast.decision_maker, case, "age", body)
        assert await told(db, case.id) == before


class TestRolledBack:
    async def test_a_command_whose_commit_fails_leaves_nothing_in_the_outbox(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        case = await file_case(client, cast.responder)
        before = await db.scalar(select(func.count()).select_from(Notification))

        async def failing_commit(self: AsyncSession) -> None:
            raise IntegrityError("COMMIT", {}, Exception("forced"))

        monkeypatch.setattr(AsyncSession, "commit", failing_commit)
        response = await run(client, cast.decision_maker, case, "suspend", {"reason": "Gone."})
        monkeypatch.undo()
        assert response.status_code >= 500
        assert await db.scalar(select(func.count()).select_from(Notification)) == before
