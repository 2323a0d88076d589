"""The messages: every kind in English, Welsh and both (Welsh first), and never a piece of
personal data, checked on the mail a real case produces from filing to its last decision."""

from __future__ import annotations

import re
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.days import add_working_days
from app.i18n.core import catalogue
from app.notifications import messages
from app.notifications.models import Kind
from tests.notifications.test_reminders import find
from tests.notifications.walk import (
    deliver,
    give_addresses,
    give_mailbox,
    told,
    worker_settings,
)
from tests.referrals.builders import (
    CG_NEGATIVE,
    FORM,
    RG_NEGATIVE,
    RG_POSITIVE,
    Cast,
    file_case,
    make_cast_quickly,
    review_case,
    service_date,
    set_service_date,
    step,
)

FACTS = messages.Facts(
    reference="NRM-W-2026-000042",
    link="http://127.0.0.1:8000/referrals/0b7c",
    stage="rg_decision",
    due=date(2026, 12, 11),
)


class TestEveryKind:
    @pytest.mark.parametrize("kind", list(Kind))
    def test_says_the_reference_the_link_and_what_is_due_in_each_language(self, kind: Kind) -> None:
        english = messages.render(kind, FACTS, "en")
        welsh = messages.render(kind, FACTS, "cy")
        for rendered in (english, welsh):
            assert FACTS.reference in rendered.subject
            assert FACTS.reference in rendered.body
            assert FACTS.link in rendered.body
            assert "{" not in rendered.subject + rendered.body
        assert "11 December 2026" in english.body
        assert "11 Rhagfyr 2026" in welsh.body
        assert welsh.subject != english.subject
        assert welsh.body != english.body

    @pytest.mark.parametrize("kind", list(Kind))
    def test_every_text_has_its_welsh_in_the_catalogue(self, kind: Kind) -> None:
        welsh = catalogue("cy")
        for text in messages.TEXTS[kind]:
            assert welsh.gettext(text) != text

    def test_a_mailbox_gets_welsh_first_then_english(self) -> None:
        both = messages.render_bilingual(Kind.REFERRAL_ROUTED, FACTS)
        welsh = messages.render(Kind.REFERRAL_ROUTED, FACTS, "cy")
        english = messages.render(Kind.REFERRAL_ROUTED, FACTS, "en")
        assert both.body.index(welsh.body) < both.body.index(english.body)
        assert both.subject == f"{welsh.subject} / {english.subject}"


def personal_data() -> list[str]:
    """What the form says of the person, in the forms a message could show it."""
    victim = FORM["potential_victim"]
    return [
        victim["given_name"],
        victim["family_name"],
        victim["date_of_birth"],
        "2 April 1999",
        "2 Ebrill 1999",
        "Romania",
        "Rwmania",
        FORM["account"],
        FORM["immigration"]["home_office_reference"],
        FORM["immigration"]["status"],
        "overstayer",
    ]


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    cast = await make_cast_quickly(app, sessions)
    async with sessions() as session:
        everyone = (cast.responder, cast.decision_maker, cast.senior, cast.senior_two, cast.panel)
        await give_addresses(session, *everyone, language="cy")
        await give_mailbox(session, "all-wales-decision-unit")
        await give_mailbox(session, "south-wales-police")
    return cast


class TestNoPersonalData:
    async def test_no_message_of_a_whole_case_holds_any(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        tmp_path: Path,
    ) -> None:
        first = await file_case(client, cast.responder)
        await step(client, cast.senior, first, "decisions", RG_NEGATIVE)  # review.needed
        assert (await review_case(client, cast.senior_two, first, agree=True)).is_success
        await step(client, cast.responder, first, "reconsideration-requests", {"grounds": "New."})
        await step(
            client,
            cast.decision_maker,
            first,
            f"reconsideration-requests/{first.request_id}/decision",
            {"accept": True, "reasons": "New evidence."},
        )
        second = await file_case(client, cast.responder)
        await step(client, cast.decision_maker, second, "decisions", RG_POSITIVE)
        await step(client, cast.decision_maker, second, "decisions", CG_NEGATIVE)
        assert (await review_case(client, cast.panel, second, agree=True)).is_success
        third = await file_case(client, cast.responder)
        await step(client, cast.decision_maker, third, "suspend", {"reason": "Missing."})
        await step(client, cast.decision_maker, third, "resume", {"reason": "Found."})
        await step(client, cast.responder, third, "withdraw", {"reason": "Moved."})
        filed = await service_date(client, cast.admin)
        await set_service_date(client, cast.admin, add_working_days(filed, 4))
        await find(app, sessions)
        await set_service_date(client, cast.admin, add_working_days(filed, 10))
        await find(app, sessions)
        folder = tmp_path / "mail"
        await deliver(app, sessions, worker_settings(app, smtp_url=None, mail_dir=str(folder)))
        mail = [_read(path) for path in folder.glob("*.eml")]
        kinds = {k for case in (first, second, third) for k, _ in await told(db, case.id)}
        assert kinds == {k.value for k in Kind}  # every kind, rendered for real
        texts = [str(m["Subject"]) + "\n" + m.get_content() for m in mail]
        assert len(texts) == len(list(folder.glob("*.eml"))) > 30
        for text in texts:
            for value in personal_data():
                assert not re.search(re.escape(value), text, re.IGNORECASE), (value, text)
            assert not re.search(r"\bRO\b", text)


def _read(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message
