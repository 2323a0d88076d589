"""Control values are the API's codes (WEB.md "Forms"): a yes/no question's radios are `true`
and `false`, as the API's booleans; `yes` and `no`, which the radios sent before, are still
read (a page open since then still works), and the radio chosen stays checked on a 422."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.referrals.models import Referral
from tests.referrals.builders import Cast, drive, make_cast
from tests.web.conftest import SignedIn
from tests.web.helpers import key_of, referral_fields, sign_in

BOOLEANS = (
    "potential_victim.interpreter_needed",
    "consent.given",
    "exploitation.ongoing",
    "exploitation.exploited_as_child",
)


def radio_values(html: str, name: str) -> list[str]:
    """The values of the radios named `name`, in page order."""
    inputs = re.findall(r"<input [^>]*>", html)
    return [
        re.search(r'value="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
        for tag in inputs
        if f'name="{name}"' in tag and 'type="radio"' in tag
    ]


def checked(html: str, name: str) -> list[str]:
    inputs = re.findall(r"<input [^>]*>", html)
    return [
        re.search(r'value="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
        for tag in inputs
        if f'name="{name}"' in tag and 'type="radio"' in tag and "checked" in tag
    ]


async def _post(client: httpx.AsyncClient, csrf: str, **overrides: object) -> httpx.Response:
    form = await client.get("/referrals/new")
    data = {"csrf_token": csrf, "idempotency_key": key_of(form.text)}
    return await client.post("/referrals/new", data=data | referral_fields(**overrides))


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


class TestReferralForm:
    async def test_the_yes_no_radios_are_true_and_false(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        page = (await client.get("/referrals/new")).text
        for name in BOOLEANS:
            assert radio_values(page, name) == ["true", "false"], name

    async def test_true_and_false_file_the_referral_as_the_api_reads_them(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        answer = await _post(
            client,
            signed_in.csrf,
            **{
                "potential_victim.interpreter_needed": "true",
                "consent.given": "true",
                "exploitation.ongoing": "true",
                "exploitation.exploited_as_child": "false",
            },
        )
        assert answer.status_code == 303, answer.text
        referral_id = answer.headers["location"].split("/")[2].split("?")[0]
        read = await client.get(f"/api/v1/referrals/{referral_id}", headers=signed_in.user.headers)
        body = read.json()
        assert body["potential_victim"]["interpreter_needed"] is True
        assert body["consent"]["given"] is True
        assert body["exploitation"]["ongoing"] is True
        assert body["exploitation"]["exploited_as_child"] is False

    async def test_false_consent_of_an_adult_goes_to_the_duty_to_notify_form(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        answer = await _post(client, signed_in.csrf, **{"consent.given": "false"})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/duty-to-notify/new?reason=no-consent")
        assert int(await db.scalar(select(func.count()).select_from(Referral)) or 0) == 0

    @pytest.mark.parametrize(("sent", "shown"), [("true", "true"), ("yes", "true")])
    async def test_the_chosen_radio_stays_checked_on_a_422(
        self, client: httpx.AsyncClient, signed_in: SignedIn, sent: str, shown: str
    ) -> None:
        answer = await _post(
            client,
            signed_in.csrf,
            **{"potential_victim.gender": "", "consent.given": sent, "exploitation.ongoing": sent},
        )
        assert answer.status_code == 422
        assert checked(answer.text, "consent.given") == [shown]
        assert checked(answer.text, "exploitation.ongoing") == [shown]
        assert checked(answer.text, "exploitation.exploited_as_child") == []


class TestDecisionForms:
    async def test_the_review_radios_are_true_and_false(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_proposed")
        await sign_in(client, cast.panel.username)
        page = (await client.get(f"/referrals/{case.id}")).text
        assert radio_values(page, "agree") == ["true", "false"]

    async def test_the_reconsideration_radios_are_true_and_false(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_reconsidering")
        await sign_in(client, cast.decision_maker.username)
        page = (await client.get(f"/referrals/{case.id}")).text
        assert radio_values(page, "accept") == ["true", "false"]
