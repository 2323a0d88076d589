"""The immigration liaison's pages (WEB.md `/immigration`): the role gate (every other role gets
403: a decider never sees an immigration fact), the look-up by Home Office reference, the record
page with the identification outcome and nothing else of the referral, and Welsh. The forms
(change, stale version, create) are in `test_page_forms.py`; the fixtures in `conftest.py`.
"""

from __future__ import annotations

import html
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import AppUser
from tests.immigration.helpers import canary_reference
from tests.immigration.page_support import REASONS, browser_of, events, record_path
from tests.referrals.builders import Cast
from tests.web.helpers import error_summary, sign_in
from tests.web.test_language import _english_sentences, _text


class TestRoleGate:
    @pytest.mark.parametrize(
        "role", ["responder", "decision_maker", "senior", "panel", "auditor", "admin"]
    )
    async def test_every_other_role_gets_403_and_no_immigration_fact(
        self, app: FastAPI, cast: Cast, referral: dict[str, Any], token: str, role: str
    ) -> None:
        user: AppUser = getattr(cast, role)
        async with browser_of(app) as browser:
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
        malformed = [
            await browser.get("/immigration", params={"home_office_reference": typed})
            for typed in ("", "<x>", "H" * 65)
        ]
        assert [answer.status_code for answer in malformed] == [422, 422, 422]
        for answer in (home, record, missing, *malformed):
            assert '<html lang="cy"' in answer.text
            text = _text(answer.text)
            assert [s for s in english if s in text] == []
        assert "Cofnodion mewnfudo" in home.text
        assert "Ffoadur neu amddiffyniad arall" in record.text  # the status by its Welsh name
        assert "Canlyniad adnabod" in record.text
        assert "Nid oes gan unrhyw atgyfeiriad" in missing.text
