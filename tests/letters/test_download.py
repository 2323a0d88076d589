"""GET /referrals/{id}/letters/{letter_id}: who may download a letter, in API.md's order of
checks, and the `letter.downloaded` event each download writes."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.letters.helpers import fetch, letters_of
from tests.referrals.builders import Cast, drive, events_of_request, make_cast_quickly, refused


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


class TestDownload:
    @pytest.mark.parametrize("who", ["responder", "decision_maker", "senior", "panel"])
    async def test_the_referrer_and_the_deciding_unit_get_the_pdf_as_an_attachment(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, who: str
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        [letter] = await letters_of(client, cast.responder, case)
        response = await fetch(client, getattr(cast, who), case, letter["id"])
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        disposition = response.headers["content-disposition"]
        assert disposition == f'attachment; filename="{case.reference}-rg_positive.pdf"'
        assert response.content.startswith(b"%PDF-")
        [event] = await events_of_request(db, response)
        assert (event.action, event.track) == ("letter.downloaded", "access")
        assert str(event.referral_id) == case.id
        assert event.changes == {"letter_id": letter["id"], "kind": "rg_positive"}

    async def test_every_download_of_a_letter_is_the_same_document(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_negative")
        [letter] = await letters_of(client, cast.responder, case)
        first = await fetch(client, cast.responder, case, letter["id"])
        again = await fetch(client, cast.decision_maker, case, letter["id"])
        assert first.content == again.content


class TestRefused:
    @pytest.mark.parametrize("who", ["auditor", "immigration", "admin"])
    async def test_a_role_that_passes_no_letter_on_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, who: str
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        [letter] = await letters_of(client, cast.responder, case)
        response = await fetch(client, getattr(cast, who), case, letter["id"])
        await refused(db, response, 403, "forbidden")

    @pytest.mark.parametrize("who", ["other_responder", "other_unit_maker"])
    async def test_another_organisation_cannot_tell_the_referral_exists(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, who: str
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        [letter] = await letters_of(client, cast.responder, case)
        response = await fetch(client, getattr(cast, who), case, letter["id"])
        await refused(db, response, 404, "not-found")

    async def test_a_letter_of_another_referral_or_none_at_all_is_not_found(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        other = await drive(client, cast, "recovery_period")
        [letter] = await letters_of(client, cast.responder, other)
        for letter_id in (letter["id"], str(uuid.uuid4())):
            response = await fetch(client, cast.responder, case, letter_id)
            await refused(db, response, 404, "not-found")

    async def test_a_malformed_letter_id_is_404_after_the_role_gate(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        path = f"/api/v1/referrals/{case.id}/letters/nope"
        assert (await client.get(path, headers=cast.responder.headers)).status_code == 404
        assert (await client.get(path, headers=cast.auditor.headers)).status_code == 403

    async def test_without_a_token_it_is_401(self, client: httpx.AsyncClient, cast: Cast) -> None:
        case = await drive(client, cast, "recovery_period")
        response = await client.get(f"/api/v1/referrals/{case.id}/letters/{uuid.uuid4()}")
        assert response.status_code == 401
