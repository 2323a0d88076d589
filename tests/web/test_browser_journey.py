"""The deciders' journey in a real browser (WEB.md "How it is tested"), keyboard only, in
English and in Welsh, with axe-core on every page, each step by a different person whom the
workflow allows (DESIGN §4's separation of duties):

1. a first responder files a referral through the form;
2. a decision maker proposes a negative reasonable grounds decision;
3. a senior decision maker, in the second review, does not agree: the referral returns to the
   decision maker with the reviewer's comments;
4. the decision maker takes the reasonable grounds decision (positive), then proposes a
   negative conclusive grounds decision, early, giving the reason the API asks for (no test
   clock is moved: the live server is shared); the senior is offered no review of that one
   (the panel reviews a CG proposal);
5. a panel member who took no part agrees in the panel review, so the decision takes effect;
6. an auditor reads the decision timeline (`/referrals/{id}/timeline`).

Every browser test module shares one server per database and one Chromium (`BROWSER`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from playwright.async_api import Browser, Page

from tests.web import live
from tests.web.browsing import (
    BROWSER,
    check_accessible,
    field,
    fill_referral,
    press,
    sign_in,
    type_into,
)

pytestmark = BROWSER
DECISION_MAKER = "demo-decision-maker"
SENIOR = "demo-senior-reviewer"
PANEL = "demo-panel-member"
AUDITOR = "demo-auditor"
CG = {"en": "Conclusive grounds", "cy": "Sail bendant"}
NO_REVIEW = "form[action$='/review']"
# The referral each server's journey in each language filed (id, reference), for the auditor.
JOURNEYS: dict[tuple[str, str], tuple[str, str]] = {}


@asynccontextmanager
async def person(
    browser: Browser, server: live.LiveServer, username: str, language: str
) -> AsyncIterator[Page]:
    """A browser of their own for one person, signed in with the keyboard."""
    context = await browser.new_context(base_url=server.url)
    try:
        page = await context.new_page()
        await sign_in(page, username, language=language)
        assert await page.get_attribute("html", "lang") == language
        await check_accessible(page)  # their home page
        yield page
    finally:
        await context.close()


async def open_referral(page: Page, referral_id: str) -> None:
    await page.goto(f"/referrals/{referral_id}")
    await check_accessible(page)


async def status_of(server: live.LiveServer, referral_id: str) -> str:
    async with httpx.AsyncClient(base_url=server.url) as client:
        token = await client.post(
            "/api/v1/auth/token", data={"username": DECISION_MAKER, "password": live.PASSWORD}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answer = await client.get(f"/api/v1/referrals/{referral_id}", headers=headers)
        return str(answer.json()["status"])


async def file_referral(browser: Browser, server: live.LiveServer, language: str) -> str:
    async with person(browser, server, live.RESPONDER, language) as page:
        # The form's own page, by the navigation (the home page holds the same form).
        await press(page, "nav a[href='/referrals/new']")
        await page.wait_for_url("**/referrals/new")
        await check_accessible(page)
        await fill_referral(page)
        await press(page, "#file-referral")
        await page.wait_for_url(re.compile(r"/referrals/[0-9a-f-]{36}\?filed=1"))
        await check_accessible(page)
        found = re.search(r"/referrals/([0-9a-f-]{36})", page.url)
        assert found is not None
        reference = (await page.inner_text("h1")).strip()
        JOURNEYS[server.url, language] = (found.group(1), reference)
        return found.group(1)


async def decide(page: Page, outcome: str, reasons: str, early: str | None = None) -> None:
    """The decision form by keyboard: the outcome's radio, the reasons, Enter on the button."""
    await press(page, field(outcome), "Space")
    await type_into(page, field("reasons"), reasons)
    if early is not None:
        await type_into(page, field("early_decision_reason"), early)
    async with page.expect_navigation():  # the page may already end in ?done=decided
        await press(page, "#decide")
    assert page.url.endswith("?done=decided")
    await check_accessible(page)


async def walk(browser: Browser, server: live.LiveServer, language: str) -> tuple[str, str]:
    """Steps 1 to 5; the referral's id and reference (once per language and run)."""
    if (server.url, language) in JOURNEYS:
        return JOURNEYS[server.url, language]
    referral_id = await file_referral(browser, server, language)
    async with person(browser, server, DECISION_MAKER, language) as page:
        await open_referral(page, referral_id)
        await decide(page, "outcome-2", "Too little is known yet to find reasonable grounds.")
        assert await status_of(server, referral_id) == "awaiting_rg"  # a proposal, under review
    async with person(browser, server, SENIOR, language) as page:
        await open_referral(page, referral_id)
        await press(page, field("agree-2"), "Space")
        await type_into(page, field("comments"), "The indicators are clear: decide again.")
        await press(page, "#review")
        await page.wait_for_url("**?done=reviewed")
        await check_accessible(page)
        assert "The indicators are clear: decide again." in await page.content()
        assert await page.locator(NO_REVIEW).count() == 0  # nothing left to review
    assert await status_of(server, referral_id) == "awaiting_rg"
    async with person(browser, server, DECISION_MAKER, language) as page:
        await open_referral(page, referral_id)
        await decide(page, "outcome", "A credible account with clear indicators.")
        assert await status_of(server, referral_id) == "recovery_period"
        assert await page.locator(field("early_decision_reason")).count() == 1  # CG, early
        await decide(
            page,
            "outcome-2",
            "The account is not borne out by what was found.",
            early="She asked for the decision now, before she leaves Wales.",
        )
        assert "The account is not borne out by what was found." in await page.content()
    async with person(browser, server, SENIOR, language) as page:
        await open_referral(page, referral_id)
        assert await page.locator(NO_REVIEW).count() == 0  # the panel reviews a CG proposal
    async with person(browser, server, PANEL, language) as page:
        await open_referral(page, referral_id)
        await press(page, field("agree"), "Space")
        await type_into(page, field("comments"), "The panel agrees: the reasons are sound.")
        await press(page, "#review")
        await page.wait_for_url("**?done=reviewed")
        await check_accessible(page)
        assert await page.locator(NO_REVIEW).count() == 0
    assert await status_of(server, referral_id) == "cg_negative"
    return JOURNEYS[server.url, language]


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_five_people_take_a_referral_to_its_conclusive_decision(
    browser: Browser, server: live.LiveServer, language: str
) -> None:
    referral_id, reference = await walk(browser, server, language)
    assert reference.startswith("NRM-W-")
    assert await status_of(server, referral_id) == "cg_negative"


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_an_auditor_reads_the_decision_timeline(
    browser: Browser, server: live.LiveServer, language: str
) -> None:
    referral_id, reference = await walk(browser, server, language)  # the journey's referral
    async with person(browser, server, AUDITOR, language) as page:
        answer = await page.goto(f"/referrals/{referral_id}/timeline")
        assert answer is not None
        assert answer.status == 200
        await check_accessible(page)
        text = await page.inner_text("main")
        assert reference in text
        assert CG[language].lower() in text.lower()  # the CG stage, by its name


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_a_decider_of_another_unit_finds_no_such_case(
    browser: Browser, server: live.LiveServer, language: str
) -> None:
    """The journey's referral is the All-Wales unit's: to the child panel's decider it does not
    exist (404, as in the API), and its timeline neither."""
    referral_id, reference = await walk(browser, server, language)
    async with person(browser, server, "demo-child-panel-decider", language) as page:
        for path in (f"/referrals/{referral_id}", f"/referrals/{referral_id}/timeline"):
            answer = await page.goto(path)
            assert answer is not None
            assert answer.status == 404
            assert reference not in await page.content()
            await check_accessible(page)
