"""The decision forms of a referral's page: a decision maker decides reasonable grounds; a
senior proposes a negative decision and another senior reviews it; a reconsideration is
decided; and every refusal (validation, a stale version, separation of duties) shows the page
again, in words, with the typed reasons kept (WEB.md "Forms")."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import AppUser
from tests.referrals.builders import (
    Case,
    Cast,
    drive,
    file_case,
    make_cast,
    referral_form,
    step,
)
from tests.web.helpers import error_summary, sign_in
from tests.web.test_language import _english_sentences, _text

LONG = "She was kept in a locked room.\nHer wages went to the gang & <nobody> else."
KEPT = "She was kept in a locked room.\nHer wages went to the gang &amp; &lt;nobody&gt; else."


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


def version_of(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None, "the page has no versioned form"
    return found.group(1)


def review_action(html: str) -> str | None:
    found = re.search(r'action="(/referrals/[^"]+/review)"', html)
    return found.group(1) if found else None


async def status(client: httpx.AsyncClient, user: AppUser, case: Case) -> str:
    answer = await client.get(f"/api/v1/referrals/{case.id}", headers=user.headers)
    return str(answer.json()["status"])


async def decide(
    client: httpx.AsyncClient, user: AppUser, case: Case, **fields: str
) -> httpx.Response:
    """Sign in as `user`, open the referral's page and send its decision form."""
    csrf = await sign_in(client, user.username)
    page = await client.get(f"/referrals/{case.id}")
    assert f'action="/referrals/{case.id}/decisions"' in page.text
    data = {"csrf_token": csrf, "version": version_of(page.text), **fields}
    return await client.post(f"/referrals/{case.id}/decisions", data=data)


class TestDecisionForm:
    async def test_a_decision_maker_decides_reasonable_grounds_positive(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await decide(
            client,
            cast.decision_maker,
            case,
            stage="reasonable_grounds",
            outcome="positive",
            reasons="Credible account.",
        )
        assert answer.status_code == 303
        page = await client.get(answer.headers["location"])
        assert "Your decision is recorded" in page.text
        assert "Credible account." in page.text
        assert await status(client, cast.decision_maker, case) == "recovery_period"

    async def test_a_form_without_an_outcome_or_reasons_is_422_and_keeps_what_was_typed(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await decide(
            client, cast.decision_maker, case, stage="reasonable_grounds", reasons=""
        )
        assert answer.status_code == 422
        assert error_summary(answer.text) == [
            ("#outcome", "Select whether the decision is positive or negative"),
            ("#reasons", "Enter the reasons for the decision"),
        ]
        assert await status(client, cast.decision_maker, case) == "awaiting_rg"

    async def test_a_stale_version_keeps_the_typed_reasons(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        csrf = await sign_in(client, cast.decision_maker.username)
        page = await client.get(f"/referrals/{case.id}")
        await step(client, cast.responder, case, "withdraw", {"reason": "She left."})
        answer = await client.post(
            f"/referrals/{case.id}/decisions",
            data={
                "csrf_token": csrf,
                "version": version_of(page.text),
                "stage": "reasonable_grounds",
                "outcome": "positive",
                "reasons": LONG,
            },
        )
        assert answer.status_code == 412
        assert "Someone changed this referral" in answer.text
        assert "Its status is now: Withdrawn." in answer.text
        assert KEPT in answer.text
        assert 'value="positive" checked' in answer.text

    async def test_an_early_conclusive_decision_needs_its_reason(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        answer = await decide(
            client,
            cast.decision_maker,
            case,
            stage="conclusive_grounds",
            outcome="positive",
            reasons=LONG,
        )
        assert answer.status_code == 422
        assert error_summary(answer.text)[0][0] == "#early_decision_reason"
        assert KEPT in answer.text
        again = await decide(
            client,
            cast.decision_maker,
            case,
            stage="conclusive_grounds",
            outcome="positive",
            reasons=LONG,
            early_decision_reason="She asked for an early decision.",
        )
        assert again.status_code == 303
        assert await status(client, cast.decision_maker, case) == "cg_positive"


class TestReview:
    async def test_a_negative_proposal_is_reviewed_by_another_senior(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        proposed = await decide(
            client,
            cast.senior,
            case,
            stage="reasonable_grounds",
            outcome="negative",
            reasons="No indicator is made out.",
        )
        assert proposed.status_code == 303
        assert await status(client, cast.senior, case) == "awaiting_rg"
        own = await client.get(f"/referrals/{case.id}")
        assert review_action(own.text) is None  # nobody is offered a review of their own
        csrf = await sign_in(client, cast.senior_two.username)
        page = await client.get(f"/referrals/{case.id}")
        action = review_action(page.text)
        assert action is not None
        answer = await client.post(
            action,
            data={
                "csrf_token": csrf,
                "version": version_of(page.text),
                "agree": "yes",
                "comments": "I agree.",
            },
        )
        assert answer.status_code == 303
        assert await status(client, cast.senior_two, case) == "rg_negative"

    async def test_the_proposer_is_refused_in_words_and_keeps_the_typed_comments(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        await decide(
            client,
            cast.senior,
            case,
            stage="reasonable_grounds",
            outcome="negative",
            reasons="No indicator is made out.",
        )
        csrf = await sign_in(client, cast.senior_two.username)
        action = review_action((await client.get(f"/referrals/{case.id}")).text)
        assert action is not None
        csrf = await sign_in(client, cast.senior.username)
        page = await client.get(f"/referrals/{case.id}")
        answer = await client.post(
            action,
            data={"csrf_token": csrf, "version": version_of(page.text), "agree": "yes"}
            | {"comments": LONG},
        )
        assert answer.status_code == 403
        assert "you cannot review your own proposal" in answer.text
        assert KEPT in answer.text
        assert await status(client, cast.senior, case) == "awaiting_rg"

    async def test_a_panel_member_reviews_a_conclusive_proposal(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_proposed")
        csrf = await sign_in(client, cast.panel.username)
        page = await client.get(f"/referrals/{case.id}")
        action = review_action(page.text)
        assert action is not None
        answer = await client.post(
            action,
            data={"csrf_token": csrf, "version": version_of(page.text), "comments": LONG},
        )
        assert answer.status_code == 422
        assert error_summary(answer.text) == [
            ("#agree", "Select whether you agree with the proposed decision")
        ]
        assert KEPT in answer.text
        answer = await client.post(
            action,
            data={"csrf_token": csrf, "version": version_of(page.text), "agree": "no"}
            | {"comments": "The account is credible."},
        )
        assert answer.status_code == 303
        assert await status(client, cast.panel, case) == "recovery_period"

    async def test_the_refusal_is_in_welsh_on_a_welsh_page(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_proposed")  # proposed by `senior`
        csrf = await sign_in(client, cast.senior.username)
        client.cookies.set("nrm_lang", "cy")
        page = await client.get(f"/referrals/{case.id}")
        answer = await client.post(
            f"/referrals/{case.id}/decisions/{case.decision_id}/review",
            data={"csrf_token": csrf, "version": version_of(page.text), "agree": "yes"}
            | {"comments": LONG},
        )
        assert answer.status_code == 403
        assert "ni allwch chi adolygu eich cynnig eich hun" in answer.text
        assert KEPT in answer.text


class TestReconsideration:
    async def test_a_decision_maker_accepts_a_request(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_reconsidering")
        csrf = await sign_in(client, cast.decision_maker.username)
        page = await client.get(f"/referrals/{case.id}")
        found = re.search(r'action="(/referrals/[^"]+/decision)"', page.text)
        assert found is not None
        answer = await client.post(
            found.group(1),
            data={
                "csrf_token": csrf,
                "version": version_of(page.text),
                "accept": "yes",
                "reasons": "New evidence.",
            },
        )
        assert answer.status_code == 303
        assert await status(client, cast.decision_maker, case) == "awaiting_rg"


class TestWelsh:
    async def test_the_decision_form_is_in_welsh(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        await sign_in(client, cast.decision_maker.username)
        client.cookies.set("nrm_lang", "cy")
        page = await client.get(f"/referrals/{case.id}")
        assert 'name="outcome"' in page.text
        account = referral_form()["account"]  # what the responder typed stays as typed
        english = [s for s in _english_sentences() if s not in account]
        assert [s for s in english if s in _text(page.text)] == []
        queue = await client.get("/queue")
        assert [s for s in english if s in _text(queue.text)] == []
