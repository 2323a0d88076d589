"""A form sent twice answers the second time as the first (WEB.md "Sessions and safety"): every
command form of a referral's page, and the immigration record's form, carries a hidden
`idempotency_key` (one per form, new at each render) and runs once per key. A refused send is
not remembered: corrected and sent again with the same key, it runs. Every form of the page
carries the referral's version (WEB.md "Pages")."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.immigration.models import ImmigrationRecord
from app.referrals.models import Decision, Note
from tests.factories import AppUser
from tests.immigration.page_support import browser_of, record_path
from tests.referrals.builders import Case, Cast, drive, file_case, make_cast, referral_form
from tests.web.helpers import error_summary, sign_in

_FORM = re.compile(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


def forms_of(html: str) -> dict[str, dict[str, str]]:
    """Each POST form of the page by its action: its hidden fields."""
    return {action: dict(_HIDDEN.findall(body)) for action, body in _FORM.findall(html)}


async def open_form(
    client: httpx.AsyncClient, user: AppUser, page_path: str, suffix: str
) -> tuple[str, dict[str, str]]:
    """Sign in as `user`, open the page, and find the form whose action ends with `suffix`:
    its action and its hidden fields (CSRF token, version, idempotency key)."""
    await sign_in(client, user.username)
    page = await client.get(page_path)
    found = [(a, h) for a, h in forms_of(page.text).items() if a.endswith(suffix)]
    assert len(found) == 1, f"no single form ending {suffix} on {page_path}"
    return found[0]


async def count(db: AsyncSession, model: Any, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(await db.scalar(query) or 0)


async def events(db: AsyncSession, case_id: str, action: str) -> int:
    return await count(db, AuditEvent, referral_id=uuid.UUID(case_id), action=action)


async def twice(
    client: httpx.AsyncClient, action: str, data: dict[str, str]
) -> tuple[httpx.Response, httpx.Response]:
    first = await client.post(action, data=data)
    second = await client.post(action, data=data)
    assert first.status_code == 303, first.text
    assert second.status_code == 303, second.text  # not 412: it was the person's own send
    assert second.headers["location"] == first.headers["location"]
    return first, second


class TestSentTwice:
    async def test_a_note_sent_twice_is_one_note(
        self, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        case = await file_case(client, cast.responder)
        action, hidden = await open_form(client, cast.responder, f"/referrals/{case.id}", "/notes")
        first, _ = await twice(client, action, hidden | {"text": "She has a new address."})
        assert first.headers["location"] == f"/referrals/{case.id}?done=note"
        assert await count(db, Note, referral_id=uuid.UUID(case.id)) == 1
        assert await events(db, case.id, "note.added") == 1

    async def test_another_render_of_the_form_adds_another_note(
        self, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        case = await file_case(client, cast.responder)
        for text in ("First.", "First."):  # the same words, from two renders: two notes
            action, hidden = await open_form(
                client, cast.responder, f"/referrals/{case.id}", "/notes"
            )
            sent = await client.post(action, data=hidden | {"text": text})
            assert sent.status_code == 303
        assert await count(db, Note, referral_id=uuid.UUID(case.id)) == 2

    async def test_a_withdrawal_sent_twice_answers_as_the_first(
        self, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        case = await file_case(client, cast.responder)
        action, hidden = await open_form(
            client, cast.responder, f"/referrals/{case.id}", "/withdraw"
        )
        first, _ = await twice(client, action, hidden | {"reason": "She left the UK."})
        assert first.headers["location"] == f"/referrals/{case.id}?done=withdrawn"
        assert await events(db, case.id, "referral.withdrawn") == 1

    async def test_a_decision_sent_twice_is_one_decision(
        self, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        case = await file_case(client, cast.responder)
        action, hidden = await open_form(
            client, cast.decision_maker, f"/referrals/{case.id}", "/decisions"
        )
        data = hidden | {"outcome": "positive", "reasons": "Credible account."}
        first, _ = await twice(client, action, data)
        assert first.headers["location"] == f"/referrals/{case.id}?done=decided"
        assert await count(db, Decision, referral_id=uuid.UUID(case.id)) == 1
        assert await events(db, case.id, "decision.effective") == 1

    async def test_a_panel_review_sent_twice_is_one_review(
        self, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        case = await drive(client, cast, "cg_proposed")
        action, hidden = await open_form(client, cast.panel, f"/referrals/{case.id}", "/review")
        data = hidden | {"agree": "false", "comments": "The account is credible."}
        first, _ = await twice(client, action, data)
        assert first.headers["location"] == f"/referrals/{case.id}?done=reviewed"
        assert await events(db, case.id, "decision.reviewed") == 1

    async def test_the_same_key_with_other_answers_is_refused_in_words(
        self, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        case = await file_case(client, cast.responder)
        action, hidden = await open_form(client, cast.responder, f"/referrals/{case.id}", "/notes")
        assert (await client.post(action, data=hidden | {"text": "One."})).status_code == 303
        other = await client.post(action, data=hidden | {"text": "Another."})
        assert other.status_code == 422
        assert "This form was sent before with other answers." in other.text
        assert "Another." in other.text  # what was typed is kept
        again = forms_of(other.text)[action]["idempotency_key"]
        assert again != hidden["idempotency_key"]  # sent again, it is a new note
        assert await count(db, Note, referral_id=uuid.UUID(case.id)) == 1


class TestRefusedThenCorrected:
    async def test_a_decision_refused_then_corrected_runs_with_the_same_key(
        self, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        case = await file_case(client, cast.responder)
        action, hidden = await open_form(
            client, cast.decision_maker, f"/referrals/{case.id}", "/decisions"
        )
        refused = await client.post(action, data=hidden | {"reasons": "Credible."})
        assert refused.status_code == 422
        kept = forms_of(refused.text)[action]
        assert kept["idempotency_key"] == hidden["idempotency_key"]  # the form keeps its key
        data = hidden | {"outcome": "positive", "reasons": "Credible."}
        sent = await client.post(action, data=data)
        assert sent.status_code == 303
        assert sent.headers["location"] == f"/referrals/{case.id}?done=decided"
        assert await count(db, Decision, referral_id=uuid.UUID(case.id)) == 1

    async def test_a_withdrawal_refused_then_corrected_runs_with_the_same_key(
        self, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        case = await file_case(client, cast.responder)
        action, hidden = await open_form(
            client, cast.responder, f"/referrals/{case.id}", "/withdraw"
        )
        refused = await client.post(action, data=hidden | {"reason": " "})
        assert refused.status_code == 422
        assert error_summary(refused.text)[0][0] == "#reason"
        sent = await client.post(action, data=hidden | {"reason": "She left the UK."})
        assert sent.status_code == 303
        assert await events(db, case.id, "referral.withdrawn") == 1

    async def test_a_note_refused_then_corrected_is_added(
        self, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        case = await file_case(client, cast.responder)
        action, hidden = await open_form(client, cast.responder, f"/referrals/{case.id}", "/notes")
        assert (await client.post(action, data=hidden | {"text": ""})).status_code == 422
        sent = await client.post(action, data=hidden | {"text": "More."})
        assert sent.status_code == 303
        assert await count(db, Note, referral_id=uuid.UUID(case.id)) == 1


class TestEveryForm:
    @pytest.mark.parametrize(("who", "at_least"), [("responder", 2), ("decision_maker", 3)])
    async def test_every_form_carries_the_version_and_a_key_of_its_own(
        self, client: httpx.AsyncClient, cast: Cast, who: str, at_least: int
    ) -> None:
        case = await file_case(client, cast.responder)
        user: AppUser = getattr(cast, who)
        await sign_in(client, user.username)
        version = (await client.get(f"/api/v1/referrals/{case.id}", headers=user.headers)).json()[
            "version"
        ]
        page = await client.get(f"/referrals/{case.id}")
        forms = {
            action: hidden
            for action, hidden in forms_of(page.text).items()
            if action.startswith(f"/referrals/{case.id}/")
        }
        assert len(forms) >= at_least  # note and withdraw; decide, assign, age…
        for action, hidden in forms.items():
            assert hidden.get("version") == str(version), action
            assert hidden.get("idempotency_key"), action
        keys = [hidden["idempotency_key"] for hidden in forms.values()]
        assert len(set(keys)) == len(keys)  # one key per form


class TestImmigrationRecord:
    async def test_a_create_sent_twice_is_one_record(
        self, app: FastAPI, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        case = await _bare(client, cast)
        path = record_path({"id": case.id})
        async with browser_of(app) as browser:
            await sign_in(browser, cast.immigration.username)
            hidden = forms_of((await browser.get(path)).text)[path]
            assert "version" not in hidden  # a create
            first, _ = await twice(browser, path, hidden | {"status": "visa_holder"})
        assert first.headers["location"] == f"{path}?done=created"
        assert await count(db, ImmigrationRecord, referral_id=uuid.UUID(case.id)) == 1
        assert await events(db, case.id, "immigration.updated") == 1

    async def test_a_create_refused_then_corrected_runs_with_the_same_key(
        self, app: FastAPI, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        case = await _bare(client, cast)
        path = record_path({"id": case.id})
        async with browser_of(app) as browser:
            await sign_in(browser, cast.immigration.username)
            hidden = forms_of((await browser.get(path)).text)[path]
            refused = await browser.post(path, data=hidden)  # no status chosen
            assert refused.status_code == 422
            kept = forms_of(refused.text)[path]
            assert kept["idempotency_key"] == hidden["idempotency_key"]
            sent = await browser.post(path, data=hidden | {"status": "visa_holder"})
        assert sent.status_code == 303
        assert sent.headers["location"] == f"{path}?done=created"
        assert await count(db, ImmigrationRecord, referral_id=uuid.UUID(case.id)) == 1


async def _bare(client: httpx.AsyncClient, cast: Cast) -> Case:
    """A referral filed without immigration facts: its record may be created."""
    form = referral_form()
    del form["immigration"]
    return await file_case(client, cast.responder, form)
