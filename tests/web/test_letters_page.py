"""The letters on a referral's page (docs/letters.md): listed for every reader, with a download
link for those who work the case; the link serves the PDF and writes `letter.downloaded`, as
the API's endpoint does."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.letters.helpers import letters_of
from tests.referrals.builders import Cast, drive, events_of_request, make_cast
from tests.web.helpers import sign_in


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


class TestLettersOnThePage:
    async def test_the_referrer_downloads_a_letter_from_the_page(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        [letter] = await letters_of(client, cast.responder, case)
        await sign_in(client, cast.responder.username)
        page = await client.get(f"/referrals/{case.id}")
        link = f"/referrals/{case.id}/letters/{letter['id']}"
        assert "Letters to the person" in page.text
        assert f'href="{link}"' in page.text
        response = await client.get(link)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert [e.action for e in await events_of_request(db, response)] == ["letter.downloaded"]

    async def test_a_welsh_page_lists_the_letters_in_welsh(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        await sign_in(client, cast.decision_maker.username)
        page = await client.get(f"/referrals/{case.id}?lang=cy")
        assert "Penderfyniad achos rhesymol: cadarnhaol" in page.text

    async def test_an_auditor_sees_that_a_letter_was_written_but_cannot_download_it(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        [letter] = await letters_of(client, cast.responder, case)
        await sign_in(client, cast.auditor.username)
        page = await client.get(f"/referrals/{case.id}")
        assert "Reasonable grounds decision: positive" in page.text
        assert "/letters/" not in page.text
        response = await client.get(f"/referrals/{case.id}/letters/{letter['id']}")
        assert response.status_code == 403
        assert await events_of_request(db, response) == []

    async def test_another_organisations_first_responder_gets_not_found(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        [letter] = await letters_of(client, cast.responder, case)
        await sign_in(client, cast.other_responder.username)
        response = await client.get(f"/referrals/{case.id}/letters/{letter['id']}")
        assert response.status_code == 404
        assert await events_of_request(db, response) == []
