"""The forms on the case itself for the deciders of its unit: suspend and resume, each offered
only when the workflow allows it, carrying the version, and on a refusal (validation, a stale
version, the workflow's state) showing the page again, in words, with the typed reason kept;
and withdrawal, which the unit's deciders may make too (WEB.md "Pages")."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import AppUser
from tests.referrals.builders import Case, Cast, drive, file_case, make_cast, referral_form, step
from tests.web.helpers import error_summary, sign_in
from tests.web.test_decision_forms import KEPT, LONG, status, version_of
from tests.web.test_language import _english_sentences, _text


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


def action(case: Case, command: str) -> str:
    return f'action="/referrals/{case.id}/{command}"'


async def send(
    client: httpx.AsyncClient, user: AppUser, case: Case, command: str, **fields: str
) -> httpx.Response:
    """Sign in as `user`, open the referral's page and send the command's form."""
    csrf = await sign_in(client, user.username)
    page = await client.get(f"/referrals/{case.id}")
    assert action(case, command) in page.text
    data = {"csrf_token": csrf, "version": version_of(page.text), **fields}
    return await client.post(f"/referrals/{case.id}/{command}", data=data)


class TestOffered:
    async def test_a_decider_is_offered_suspend_and_not_resume_on_a_running_case(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        await sign_in(client, cast.decision_maker.username)
        page = (await client.get(f"/referrals/{case.id}")).text
        assert action(case, "suspend") in page
        assert action(case, "resume") not in page
        assert action(case, "withdraw") in page  # the unit's deciders may withdraw too

    async def test_the_referrer_is_offered_neither(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        page = (await client.get(f"/referrals/{case.id}")).text
        assert action(case, "suspend") not in page
        assert action(case, "resume") not in page

    async def test_a_pending_proposal_means_no_suspension_and_says_why(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_proposed")
        csrf = await sign_in(client, cast.decision_maker.username)
        page = await client.get(f"/referrals/{case.id}")
        assert action(case, "suspend") not in page.text
        answer = await client.post(
            f"/referrals/{case.id}/suspend",
            data={"csrf_token": csrf, "version": version_of(page.text), "reason": LONG},
        )
        assert answer.status_code == 409
        assert "the referral cannot be suspended, until it is reviewed" in answer.text
        assert KEPT in answer.text
        assert await status(client, cast.decision_maker, case) == "awaiting_rg"


class TestSuspendAndResume:
    async def test_a_decider_suspends_then_resumes(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(client, cast.decision_maker, case, "suspend", reason="She is missing.")
        assert answer.status_code == 303
        page = (await client.get(answer.headers["location"])).text
        assert "The referral is suspended" in page
        assert action(case, "suspend") not in page
        assert await status(client, cast.decision_maker, case) == "suspended"
        answer = await send(client, cast.decision_maker, case, "resume", reason="She is found.")
        assert answer.status_code == 303
        assert "The referral is resumed" in (await client.get(answer.headers["location"])).text
        assert await status(client, cast.decision_maker, case) == "awaiting_rg"

    async def test_a_blank_reason_is_422_in_plain_words(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(client, cast.decision_maker, case, "suspend", reason="")
        assert answer.status_code == 422
        assert error_summary(answer.text) == [
            ("#suspend_reason", "Enter why the referral is suspended")
        ]
        assert await status(client, cast.decision_maker, case) == "awaiting_rg"

    async def test_a_reason_too_long_is_422_and_keeps_the_typed_text(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "suspended")
        typed = LONG + " " + "x" * 15_000
        answer = await send(client, cast.decision_maker, case, "resume", reason=typed)
        assert answer.status_code == 422
        assert error_summary(answer.text)[0][0] == "#resume_reason"
        assert KEPT in answer.text
        assert 'id="reason"' in answer.text  # the withdrawal form is offered too
        assert LONG[:20] not in _withdraw_reason(answer.text)  # and keeps only its own text
        assert await status(client, cast.decision_maker, case) == "suspended"

    async def test_a_stale_version_keeps_the_typed_reason(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        csrf = await sign_in(client, cast.decision_maker.username)
        page = await client.get(f"/referrals/{case.id}")
        await step(client, cast.responder, case, "withdraw", {"reason": "She left."})
        answer = await client.post(
            f"/referrals/{case.id}/suspend",
            data={"csrf_token": csrf, "version": version_of(page.text), "reason": LONG},
        )
        assert answer.status_code == 412
        assert "Someone changed this referral" in answer.text
        assert "Its status is now: Withdrawn." in answer.text
        assert KEPT in answer.text


def _withdraw_reason(html: str) -> str:
    """The withdrawal form's textarea, which keeps only its own typed text."""
    start = html.find('id="reason"')
    return html[start : html.find("</textarea>", start)] if start >= 0 else ""


class TestWithdrawByDecider:
    async def test_a_decider_withdraws_the_referral(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(client, cast.decision_maker, case, "withdraw", reason="Referred twice.")
        assert answer.status_code == 303
        assert await status(client, cast.decision_maker, case) == "withdrawn"


class TestWelsh:
    @pytest.mark.parametrize("state", ["awaiting_rg", "suspended"])
    async def test_the_case_forms_are_in_welsh(
        self, client: httpx.AsyncClient, cast: Cast, state: str
    ) -> None:
        case = await drive(client, cast, state)
        await sign_in(client, cast.decision_maker.username)
        client.cookies.set("nrm_lang", "cy")
        page = await client.get(f"/referrals/{case.id}")
        assert (
            'id="suspend_reason" name="reason"' in page.text
            or 'id="resume_reason" name="reason"' in page.text
        )
        account = referral_form()["account"]  # what the responder typed stays as typed
        english = [s for s in _english_sentences() if s not in account]
        assert [s for s in english if s in _text(page.text)] == []


class TestAssign:
    async def test_a_decider_is_offered_the_units_decision_makers_only(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        assert action(case, "assign") not in (await client.get(f"/referrals/{case.id}")).text
        await sign_in(client, cast.decision_maker.username)
        page = (await client.get(f"/referrals/{case.id}")).text
        assert action(case, "assign") in page
        for user in (cast.decision_maker, cast.senior, cast.senior_two):
            assert f'value="{user.id}"' in page
        for user in (cast.panel, cast.other_unit_maker, cast.auditor):
            assert f'value="{user.id}"' not in page
        assert "(you)" in page

    async def test_a_decider_assigns_a_senior(self, client: httpx.AsyncClient, cast: Cast) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(
            client, cast.decision_maker, case, "assign", user_id=str(cast.senior.id)
        )
        assert answer.status_code == 303
        assert "The referral is assigned" in (await client.get(answer.headers["location"])).text
        read = await client.get(f"/api/v1/referrals/{case.id}", headers=cast.senior.headers)
        assert read.json()["assigned_to"]["id"] == str(cast.senior.id)

    async def test_no_choice_is_422_in_plain_words(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(client, cast.decision_maker, case, "assign")
        assert answer.status_code == 422
        assert error_summary(answer.text) == [
            ("#user_id", "Select who the referral is assigned to")
        ]

    async def test_someone_outside_the_unit_is_422_in_words(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        other = str(cast.other_unit_maker.id)
        answer = await send(client, cast.decision_maker, case, "assign", user_id=other)
        assert answer.status_code == 422
        assert error_summary(answer.text)[0][0] == "#user_id"
        assert "not an active decision maker of the unit" in answer.text

    async def test_a_stale_version_keeps_the_choice(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        csrf = await sign_in(client, cast.decision_maker.username)
        page = await client.get(f"/referrals/{case.id}")
        await step(client, cast.responder, case, "withdraw", {"reason": "She left."})
        chosen = str(cast.senior_two.id)
        answer = await client.post(
            f"/referrals/{case.id}/assign",
            data={"csrf_token": csrf, "version": version_of(page.text), "user_id": chosen},
        )
        assert answer.status_code == 412
        assert "Someone changed this referral" in answer.text
        assert f'value="{chosen}" checked' in answer.text
