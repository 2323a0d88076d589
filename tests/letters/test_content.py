"""What a letter says, read from its PDF as a reader would (pypdf): the decision, its date and
what it means, the reasons of a negative one, the reference, help in the person's language;
Welsh first for a Welsh speaker, in an embedded font that has every Welsh letter; a child's
letter to the local authority; never an immigration fact (DESIGN §5)."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.letters.helpers import fetch, fonts, letters_of, pdf_pages, pdf_text
from tests.referrals.builders import (
    RG_NEGATIVE,
    RG_POSITIVE,
    Case,
    Cast,
    child_form,
    drive,
    file_case,
    make_cast_quickly,
    referral_form,
    review_case,
    service_date,
    step,
)

IMMIGRATION = ("HO-123456", "overstay", "visa", "immigration", "mewnfudo", "Home Office")


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def _latest_pdf(client: httpx.AsyncClient, cast: Cast, case: Case) -> bytes:
    letters = await letters_of(client, cast.responder, case)
    response = await fetch(client, cast.responder, case, letters[-1]["id"])
    assert response.status_code == 200, response.text
    return response.content


def _when(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _flat(text: str) -> str:
    return " ".join(text.split())


class TestWhatALetterSays:
    async def test_a_negative_letter_gives_the_reasons_support_and_reconsideration(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_negative")
        text = _flat(pdf_text(await _latest_pdf(client, cast, case)))
        today = await service_date(client, cast.responder)
        assert "Reasonable grounds decision: negative" in text
        assert f"On {_when(today)} we decided that there are not reasonable grounds" in text
        assert RG_NEGATIVE["reasons"] in text
        assert "Any support you have because of this referral ends on" in text
        assert "within 30 calendar days of the decision" in text
        assert f"by {_when(today + timedelta(days=30))}" in text
        assert "new evidence" in text
        assert "guidance was not followed" in text
        assert "explained in your own language" in text
        assert case.reference in text
        assert "To: Ana Popescu" in text

    async def test_a_positive_rg_letter_gives_the_recovery_period_and_its_support(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        body = await client.get(f"/api/v1/referrals/{case.id}", headers=cast.responder.headers)
        ends = date.fromisoformat(body.json()["deadlines"]["recovery_period_ends"])
        text = _flat(pdf_text(await _latest_pdf(client, cast, case)))
        assert "Reasonable grounds decision: positive" in text
        assert "at least until the conclusive grounds decision is made" in text
        assert f"no conclusive grounds decision will be made before {_when(ends)}" in text
        assert "safe accommodation" in text
        assert RG_POSITIVE["reasons"] not in text  # a positive letter gives no reasons

    async def test_a_positive_cg_letter_gives_45_days_of_move_on_support(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_positive")
        today = await service_date(client, cast.responder)
        text = _flat(pdf_text(await _latest_pdf(client, cast, case)))
        assert "Conclusive grounds decision: positive" in text
        until = _when(today + timedelta(days=45))
        assert f"move-on support for at least 45 days, until at least {until}" in text

    async def test_a_declined_reconsideration_gives_its_reasons(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_reconsidering")
        path = f"reconsideration-requests/{case.request_id}/decision"
        reasons = {"accept": False, "reasons": "The new evidence does not change it."}
        await step(client, cast.decision_maker, case, path, reasons)
        text = _flat(pdf_text(await _latest_pdf(client, cast, case)))
        assert "Reconsideration: the decision stands" in text
        assert "The new evidence does not change it." in text

    @pytest.mark.parametrize("state", ["rg_negative", "cg_positive", "cg_negative"])
    async def test_no_letter_holds_an_immigration_fact(
        self, client: httpx.AsyncClient, cast: Cast, state: str
    ) -> None:
        case = await drive(client, cast, state)  # filed with a status and a Home Office reference
        for letter in await letters_of(client, cast.responder, case):
            response = await fetch(client, cast.responder, case, letter["id"])
            text = pdf_text(response.content).lower()
            assert [word for word in IMMIGRATION if word.lower() in text] == []


class TestWelsh:
    async def test_a_welsh_speakers_letter_is_welsh_first_then_english_in_one_document(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        form = referral_form(
            potential_victim={
                "given_name": "Siôn",
                "family_name": "Ŵyn",
                "correspondence_language": "cy",
            }
        )
        case = await file_case(client, cast.responder, form)
        body = {**RG_NEGATIVE, "reasons": "Nid oes tŷ na gŵr yn y stori: ŵ ŷ â ê î ô û."}
        await step(client, cast.senior, case, "decisions", body)
        assert (await review_case(client, cast.senior_two, case, agree=True)).status_code == 200
        content = await _latest_pdf(client, cast, case)
        pages = [_flat(p) for p in pdf_pages(content)]
        text = " ".join(pages)
        welsh = text.index("Penderfyniad achos rhesymol: negyddol")
        english = text.index("Reasonable grounds decision: negative")
        assert welsh < english
        assert "Rhagfyr" in pages[0] or "Ionawr" in pages[0] or "Tachwedd" in pages[0]
        assert "At: Siôn Ŵyn" in text
        assert "To: Siôn Ŵyn" in text
        assert text.count("Nid oes tŷ na gŵr yn y stori: ŵ ŷ â ê î ô û.") == 2
        assert "cysylltu â ni" in text
        used = fonts(content)
        assert used
        assert all(name.startswith("DejaVuSans") for name in used), used
        assert all(used.values()), used  # every font is embedded

    async def test_an_english_letter_has_no_welsh(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_negative")
        text = pdf_text(await _latest_pdf(client, cast, case))
        assert "Penderfyniad" not in text


class TestChild:
    async def test_a_childs_letter_goes_to_the_local_authority_never_to_the_child(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder, child_form())
        await step(client, cast.other_unit_maker, case, "decisions", RG_POSITIVE)
        [letter] = await letters_of(client, cast.responder, case)
        response = await fetch(client, cast.other_unit_maker, case, letter["id"])
        text = _flat(pdf_text(response.content))
        assert "To: Children's services, Cardiff" in text
        assert "About: Ana Popescu, a child in your care" in text
        assert "To: Ana Popescu" not in text
        assert "Independent Child Trafficking Guardian" in text
