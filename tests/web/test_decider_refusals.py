"""What a decider reads when a command is refused, and what they keep (WEB.md "Forms"): a state
that no longer allows the command (the API's 409) and a separation-of-duties refusal (403) show
the page again, in words in the page's language, with the typed reasons kept; and the CG
decision form asks for `early_decision_reason` when the recovery period has not ended."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.referrals.builders import Cast, drive, file_case, make_cast
from tests.web.helpers import sign_in
from tests.web.test_decision_forms import KEPT, LONG, status, version_of

QUESTIONED = {
    "en": "You took the decision this request questions",
    "cy": "Chi wnaeth y penderfyniad y mae'r cais hwn yn ei gwestiynu",
}


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


async def test_a_state_that_does_not_allow_it_is_409_in_words_with_the_reasons_kept(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    case = await file_case(client, cast.responder)
    csrf = await sign_in(client, cast.decision_maker.username)
    page = await client.get(f"/referrals/{case.id}")
    answer = await client.post(
        f"/referrals/{case.id}/decisions",
        data={"csrf_token": csrf, "version": version_of(page.text)}
        | {"stage": "conclusive_grounds", "outcome": "positive", "reasons": LONG},
    )
    assert answer.status_code == 409
    assert "(current status: awaiting_rg)" in answer.text
    assert KEPT in answer.text
    assert await status(client, cast.decision_maker, case) == "awaiting_rg"


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_the_questioned_decider_is_not_offered_the_request_and_is_told_why(
    client: httpx.AsyncClient, cast: Cast, language: str
) -> None:
    case = await drive(client, cast, "rg_reconsidering")  # `senior` took the negative decision
    csrf = await sign_in(client, cast.senior.username)
    client.cookies.set("nrm_lang", language)
    page = await client.get(f"/referrals/{case.id}")
    action = f"/referrals/{case.id}/reconsideration-requests/{case.request_id}/decision"
    assert f'action="{action}"' not in page.text  # offered only what they may do
    answer = await client.post(
        action,
        data={"csrf_token": csrf, "version": version_of(page.text)}
        | {"accept": "yes", "reasons": LONG},
    )
    assert answer.status_code == 403
    assert QUESTIONED[language] in answer.text.replace("&#39;", "'")
    assert KEPT in answer.text  # the form is shown again, with what was typed
    assert await status(client, cast.senior, case) == "rg_negative"  # the request still open


async def test_an_early_conclusive_decision_form_asks_why_early(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    case = await drive(client, cast, "recovery_period")
    await sign_in(client, cast.decision_maker.username)
    page = (await client.get(f"/referrals/{case.id}")).text
    assert 'name="stage" value="conclusive_grounds"' in page
    assert re.search(r'<textarea[^>]+name="early_decision_reason"', page)
    assert "The recovery period ends on" in page
