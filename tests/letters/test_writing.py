"""Which commands write a letter, in their own transaction (CASEWORK "Decision letters"), and
how the referral representation lists letters for each kind of reader."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.letters.models import Letter
from tests.letters.helpers import letters_of
from tests.referrals.builders import (
    RG_POSITIVE,
    Cast,
    drive,
    make_cast_quickly,
    review_case,
    run,
    step,
)


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def _rows(db: AsyncSession, case_id: str) -> list[Letter]:
    query = select(Letter).where(Letter.referral_id == uuid.UUID(case_id))
    return list((await db.scalars(query.order_by(Letter.created_at))).all())


class TestWhichCommandsWriteALetter:
    @pytest.mark.parametrize(
        ("state", "kinds"),
        [
            ("awaiting_rg", []),
            ("rg_proposed", []),
            ("recovery_period", ["rg_positive"]),
            ("rg_negative", ["rg_negative"]),
            ("cg_proposed", ["rg_positive"]),
            ("cg_positive", ["rg_positive", "cg_positive"]),
            ("cg_negative", ["rg_positive", "cg_negative"]),
            ("rg_reconsidering", ["rg_negative"]),
        ],
    )
    async def test_each_effective_decision_has_one_letter_and_a_proposal_none(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, state: str, kinds: list[str]
    ) -> None:
        case = await drive(client, cast, state)
        listed = await letters_of(client, cast.responder, case)
        assert [x["kind"] for x in listed] == kinds
        assert [x.kind for x in await _rows(db, case.id)] == kinds

    async def test_a_confirmed_negative_letter_names_the_decision_and_states_its_dates(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_negative")
        [letter] = await _rows(db, case.id)
        assert str(letter.decision_id) == case.decision_id
        assert (letter.language, letter.addressee, letter.local_authority) == ("en", "person", None)
        assert letter.until_on is not None
        assert letter.until_on > letter.decided_on
        assert (letter.reconsider_by - letter.decided_on).days == 30  # type: ignore[operator]

    async def test_a_rejected_proposal_writes_no_letter(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_proposed")
        response = await review_case(client, cast.senior_two, case, agree=False)
        assert response.status_code == 200, response.text
        assert await _rows(db, case.id) == []

    @pytest.mark.parametrize(("accept", "kind"), [(True, "accepted"), (False, "declined")])
    async def test_a_decided_reconsideration_writes_its_letter(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, accept: bool, kind: str
    ) -> None:
        case = await drive(client, cast, "rg_reconsidering")
        await step(
            client,
            cast.decision_maker,
            case,
            f"reconsideration-requests/{case.request_id}/decision",
            {"accept": accept, "reasons": "Looked again."},
        )
        rows = await _rows(db, case.id)
        assert [x.kind for x in rows] == ["rg_negative", f"reconsideration_{kind}"]
        assert str(rows[1].reconsideration_request_id) == case.request_id
        assert rows[1].decision_id == rows[0].decision_id  # the decision it questioned

    async def test_a_welsh_speakers_letter_is_in_welsh(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        from tests.referrals.builders import file_case, referral_form

        form = referral_form(potential_victim={"correspondence_language": "cy"})
        case = await file_case(client, cast.responder, form)
        await step(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        [letter] = await letters_of(client, cast.responder, case)
        assert letter["language"] == "cy"


class TestRolledBack:
    async def test_a_command_whose_commit_fails_leaves_no_letter(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")

        async def failing_commit(self: AsyncSession) -> None:
            raise IntegrityError("COMMIT", {}, Exception("forced"))

        monkeypatch.setattr(AsyncSession, "commit", failing_commit)
        response = await run(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        monkeypatch.undo()
        assert response.status_code >= 500
        assert await _rows(db, case.id) == []
        assert await letters_of(client, cast.responder, case) == []


class TestRepresentation:
    async def test_those_who_work_the_case_see_each_letter_with_its_language(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        for user in (cast.responder, cast.decision_maker, cast.panel):
            [letter] = await letters_of(client, user, case)
            assert set(letter) == {"id", "kind", "decision_id", "language", "created_at"}
            assert (letter["kind"], letter["decision_id"]) == ("rg_positive", case.decision_id)

    async def test_an_auditor_sees_the_same_list_as_everyone_who_may_read_the_referral(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        # CASEWORK lists the letters with their language for users who may read the referral;
        # the auditor's pseudonymised view leaves out what API.md names, never the letters.
        case = await drive(client, cast, "recovery_period")
        [letter] = await letters_of(client, cast.auditor, case)
        assert set(letter) == {"id", "kind", "decision_id", "language", "created_at"}
        assert letter["language"] == "en"
        [theirs] = await letters_of(client, cast.responder, case)
        assert letter == theirs

    async def test_the_command_that_writes_a_letter_returns_it_in_its_representation(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_reconsidering")
        response = await step(
            client,
            cast.decision_maker,
            case,
            f"reconsideration-requests/{case.request_id}/decision",
            {"accept": True, "reasons": "New evidence."},
        )
        kinds = [x["kind"] for x in response.json()["letters"]]
        assert kinds == ["rg_negative", "reconsideration_accepted"]
