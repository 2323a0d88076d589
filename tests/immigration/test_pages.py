"""The immigration liaison's pages (WEB.md `/immigration`): the look-up by Home Office reference,
the record page with its form (change with the version as If-Match, create where there is no
record), the identification outcome and nothing else of the referral, the role gate (a decider
never sees an immigration fact), the audit events of the API, and Welsh.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.immigration.models import ImmigrationRecord
from tests.factories import AppUser
from tests.immigration.helpers import canary_form, canary_reference
from tests.referrals.builders import Cast, command, file_referral, make_cast, referral_form
from tests.web.helpers import error_summary, sign_in
from tests.web.test_language import _english_sentences, _text

REASONS = "REASONS-CANARY the account was consistent and detailed"


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


@pytest.fixture
def token() -> str:
    return uuid.uuid4().hex


@pytest.fixture
async def referral(client: httpx.AsyncClient, cast: Cast, token: str) -> dict[str, Any]:
    """A referral with a canary immigration record and an effective positive RG decision."""
    filed = (await file_referral(client, cast.responder, canary_form(token))).json()
    body = {"stage": "reasonable_grounds", "outcome": "positive", "reasons": REASONS}
    decided = await command(client, cast.decision_maker, filed, "decisions", body)
    assert decided.status_code == 201, decided.text
    return dict(filed)


@pytest.fixture
async def bare(client: httpx.AsyncClient, cast: Cast) -> dict[str, Any]:
    """A referral filed without immigration facts: the API lets its record be created."""
    form = referral_form()
    del form["immigration"]
    return dict((await file_referral(client, cast.responder, form)).json())


@pytest.fixture
async def officer(app: FastAPI, cast: Cast) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser of the immigration officer, signed in: the client and the CSRF token."""
    async with _browser(app) as browser:
        yield browser, await sign_in(browser, cast.immigration.username)


def _browser(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def record_path(referral: dict[str, Any]) -> str:
    return f"/immigration/{referral['id']}"


async def events(db: AsyncSession, referral_id: str, *actions: str) -> list[str]:
    rows = await db.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.referral_id == uuid.UUID(referral_id), AuditEvent.action.in_(actions))
        .order_by(AuditEvent.seq)
    )
    return list(rows.all())


def version_of(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found, "the form carries no version"
    return found.group(1)


class TestRoleGate:
    @pytest.mark.parametrize(
        "role", ["responder", "decision_maker", "senior", "panel", "auditor", "admin"]
    )
    async def test_every_other_role_gets_403_and_no_immigration_fact(
        self, app: FastAPI, cast: Cast, referral: dict[str, Any], token: str, role: str
    ) -> None:
        user: AppUser = getattr(cast, role)
        async with _browser(app) as browser:
            csrf = await sign_in(browser, user.username)
            reference = canary_reference(token)
            for path in (
                "/immigration",
                f"/immigration?home_office_reference={reference}",
                record_path(referral),
            ):
                answer = await browser.get(path)
                assert answer.status_code == 403, path
                # Only the language link echoes what was asked; nothing found is shown.
                shown = answer.text.replace(f"home_office_reference={reference}", "")
                assert reference not in shown
                assert "Refugee" not in shown
                assert referral["reference"] not in shown
            posted = await browser.post(
                record_path(referral),
                data={"csrf_token": csrf, "status": "no_leave", "version": "1"},
            )
            assert posted.status_code == 403
            home = await browser.get("/")
            assert 'href="/immigration"' not in home.text

    async def test_not_signed_in_goes_to_sign_in(
        self, client: httpx.AsyncClient, referral: dict[str, Any]
    ) -> None:
        answer = await client.get(record_path(referral))
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/sign-in?next=/immigration/")


class TestLookUp:
    async def test_the_officers_home_is_the_look_up_with_its_navigation_link(
        self, officer: tuple[httpx.AsyncClient, str]
    ) -> None:
        browser, _ = officer
        home = await browser.get("/")
        assert home.status_code == 200
        assert 'action="/immigration"' in home.text
        assert 'method="get"' in home.text
        assert 'href="/immigration"' in home.text
        assert 'href="/referrals"' not in home.text  # a page the role may never use

    async def test_a_known_reference_shows_its_record_page(
        self,
        officer: tuple[httpx.AsyncClient, str],
        referral: dict[str, Any],
        token: str,
        db: AsyncSession,
    ) -> None:
        browser, _ = officer
        page = await browser.get(
            "/immigration", params={"home_office_reference": canary_reference(token)}
        )
        assert page.status_code == 200
        assert f'action="{record_path(referral)}"' in page.text
        assert page.headers["cache-control"] == "no-store"
        assert referral["reference"] in page.text
        assert "Refugee or other protection" in page.text
        assert canary_reference(token) in page.text
        assert "Positive, in effect from" in page.text
        assert await events(
            db,
            referral["id"],
            "immigration.looked_up",
            "immigration.viewed",
            "referral.outcome_viewed",
        ) == ["immigration.looked_up", "referral.outcome_viewed", "immigration.viewed"]

    async def test_an_unknown_reference_is_a_clear_not_found_with_the_reference_kept(
        self, officer: tuple[httpx.AsyncClient, str], referral: dict[str, Any]
    ) -> None:
        browser, _ = officer
        answer = await browser.get("/immigration", params={"home_office_reference": "HO-NOPE-1"})
        assert answer.status_code == 404
        assert error_summary(answer.text) == [
            (
                "#home_office_reference",
                "No referral holds this Home Office reference. Check the reference and try again.",
            )
        ]
        assert 'value="HO-NOPE-1"' in answer.text

    @pytest.mark.parametrize(
        ("typed", "message"),
        [
            ("", "Enter a Home Office reference"),
            ("<script>", "Use letters, digits, spaces and / - . only"),
            ("H" * 65, "64 characters"),
        ],
    )
    async def test_a_malformed_reference_is_422_with_what_was_typed(
        self, officer: tuple[httpx.AsyncClient, str], typed: str, message: str
    ) -> None:
        browser, _ = officer
        answer = await browser.get("/immigration", params={"home_office_reference": typed})
        assert answer.status_code == 422
        [(href, text)] = error_summary(answer.text)
        assert href == "#home_office_reference"
        assert message in text
        assert f'value="{html.escape(typed)}"' in answer.text or typed == ""


class TestRecordPage:
    async def test_shows_the_outcome_and_nothing_else_of_the_referral(
        self, officer: tuple[httpx.AsyncClient, str], referral: dict[str, Any]
    ) -> None:
        browser, _ = officer
        page = (await browser.get(record_path(referral))).text
        for victim_side in (
            "Ana",
            "Popescu",
            "What the first responder saw and was told.",
            REASONS,
            "Forced labour",
            "Add the note",
            "/referrals/" + referral["id"],
        ):
            assert victim_side not in page, victim_side
        assert "Waiting for a reasonable grounds decision" not in page
        assert "Recovery period" in page  # the status after a positive RG decision

    async def test_a_referral_that_does_not_exist_is_404(
        self, officer: tuple[httpx.AsyncClient, str]
    ) -> None:
        browser, csrf = officer
        missing = f"/immigration/{uuid.uuid4()}"
        assert (await browser.get(missing)).status_code == 404
        assert (await browser.get("/immigration/not-an-id")).status_code == 404
        posted = await browser.post(missing, data={"csrf_token": csrf, "status": "no_leave"})
        assert posted.status_code == 404


class TestChange:
    async def test_the_form_changes_the_record_with_its_version(
        self,
        officer: tuple[httpx.AsyncClient, str],
        referral: dict[str, Any],
        db: AsyncSession,
    ) -> None:
        browser, csrf = officer
        page = (await browser.get(record_path(referral))).text
        assert version_of(page) == "1"
        assert re.search(r'value="refugee_or_protection"\s+checked', page)  # as recorded
        sent = await browser.post(
            record_path(referral),
            data={
                "csrf_token": csrf,
                "version": version_of(page),
                "status": "no_leave",
                "home_office_reference": "HO-NEW-77",
            },
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == record_path(referral) + "?done=changed"
        shown = (await browser.get(sent.headers["location"])).text
        assert "The immigration record is changed" in shown
        assert "No permission to be in the UK" in shown
        assert "HO-NEW-77" in shown
        assert version_of(shown) == "2"
        stored = await db.scalar(
            select(ImmigrationRecord)
            .where(ImmigrationRecord.referral_id == uuid.UUID(referral["id"]))
            .execution_options(populate_existing=True)
        )
        assert stored is not None
        assert stored.status == "no_leave"
        assert await events(db, referral["id"], "immigration.updated") == [
            "immigration.updated",  # at intake
            "immigration.updated",
        ]

    async def test_a_stale_version_is_412_with_the_change_shown_and_the_input_kept(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        officer: tuple[httpx.AsyncClient, str],
        referral: dict[str, Any],
        db: AsyncSession,
    ) -> None:
        browser, csrf = officer
        page = (await browser.get(record_path(referral))).text
        meanwhile = await client.put(
            f"/api/v1/referrals/{referral['id']}/immigration",
            json={"status": "asylum_seeker", "home_office_reference": "HO-THEIRS-1"},
            headers={**cast.immigration.headers, "If-Match": '"1"'},
        )
        assert meanwhile.status_code == 200
        typed = {"status": "settled", "home_office_reference": "HO-MINE-2"}
        answer = await browser.post(
            record_path(referral),
            data={"csrf_token": csrf, "version": version_of(page), **typed},
        )
        assert answer.status_code == 412
        summary = _text(answer.text.split('govuk-error-summary__list">')[1].split("</ul>")[0])
        assert "Someone changed this immigration record" in summary
        assert "Its immigration status is now: Asylum seeker." in summary
        assert "HO-THEIRS-1" in answer.text  # the record as it now stands
        assert 'value="HO-MINE-2"' in answer.text
        assert re.search(r'value="settled"\s+checked', answer.text)
        assert version_of(answer.text) == "2"
        stored = await db.scalar(
            select(ImmigrationRecord.status).where(
                ImmigrationRecord.referral_id == uuid.UUID(referral["id"])
            )
        )
        assert stored == "asylum_seeker"

    async def test_an_invalid_form_is_422_with_the_error_summary_and_the_input_kept(
        self, officer: tuple[httpx.AsyncClient, str], referral: dict[str, Any]
    ) -> None:
        browser, csrf = officer
        answer = await browser.post(
            record_path(referral),
            data={"csrf_token": csrf, "version": "1", "home_office_reference": "HO 12/3"},
        )
        assert answer.status_code == 422
        assert error_summary(answer.text) == [("#status", "Select the person's immigration status")]
        assert 'value="HO 12/3"' in answer.text
        bad = await browser.post(
            record_path(referral),
            data={"csrf_token": csrf, "version": "1", "status": "martian"},
        )
        assert bad.status_code == 422
        assert [href for href, _ in error_summary(bad.text)] == ["#status"]

    async def test_a_form_without_the_csrf_token_changes_nothing(
        self, officer: tuple[httpx.AsyncClient, str], referral: dict[str, Any]
    ) -> None:
        browser, _ = officer
        answer = await browser.post(
            record_path(referral), data={"version": "1", "status": "no_leave"}
        )
        assert answer.status_code == 403
        assert "Refugee or other protection" in (await browser.get(record_path(referral))).text


class TestCreate:
    async def test_a_referral_without_a_record_offers_the_create_form(
        self,
        officer: tuple[httpx.AsyncClient, str],
        bare: dict[str, Any],
        db: AsyncSession,
    ) -> None:
        browser, csrf = officer
        page = (await browser.get(record_path(bare))).text
        assert "No immigration record is recorded for this referral." in page
        assert "Record the immigration status" in page
        assert 'name="version"' not in page
        sent = await browser.post(
            record_path(bare),
            data={"csrf_token": csrf, "status": "visa_holder", "home_office_reference": ""},
        )
        assert sent.status_code == 303
        assert sent.headers["location"].endswith("?done=created")
        shown = (await browser.get(sent.headers["location"])).text
        assert "The immigration record is saved" in shown
        assert "Holds a visa" in shown
        assert "None recorded" in shown
        assert await events(db, bare["id"], "immigration.updated") == ["immigration.updated"]

    async def test_creating_a_record_that_exists_meanwhile_is_412(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        officer: tuple[httpx.AsyncClient, str],
        bare: dict[str, Any],
    ) -> None:
        browser, csrf = officer
        await browser.get(record_path(bare))
        created = await client.put(
            f"/api/v1/referrals/{bare['id']}/immigration",
            json={"status": "refugee_or_protection"},
            headers={**cast.immigration.headers, "If-None-Match": "*"},
        )
        assert created.status_code == 200
        answer = await browser.post(
            record_path(bare), data={"csrf_token": csrf, "status": "no_leave"}
        )
        assert answer.status_code == 412
        assert "Its immigration status is now: Refugee or other protection." in answer.text
        assert re.search(r'value="no_leave"\s+checked', answer.text)
        assert version_of(answer.text) == "1"  # sending it again changes the record


class TestWelsh:
    async def test_the_pages_read_in_welsh_with_no_english_sentence(
        self, officer: tuple[httpx.AsyncClient, str], referral: dict[str, Any], token: str
    ) -> None:
        browser, _ = officer
        english = _english_sentences()
        home = await browser.get("/?lang=cy")
        record = await browser.get(
            "/immigration", params={"home_office_reference": canary_reference(token)}
        )
        assert record.status_code == 200
        missing = await browser.get("/immigration", params={"home_office_reference": "HO-X"})
        for answer in (home, record, missing):
            assert '<html lang="cy"' in answer.text
            text = _text(answer.text)
            assert [s for s in english if s in text] == []
        assert "Cofnodion mewnfudo" in home.text
        assert "Ffoadur neu amddiffyniad arall" in record.text  # the status by its Welsh name
        assert "Canlyniad adnabod" in record.text
        assert "Nid oes gan unrhyw atgyfeiriad" in missing.text
