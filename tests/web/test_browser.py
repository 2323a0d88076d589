"""The first responder's journey in a real browser (WEB.md "How it is tested"): keyboard only,
in English and in Welsh, with axe-core on every page; a failed form keeps every field; a double
click files one referral; CSRF, session end and another organisation's referral.

One server per database and one Chromium for the whole run; every test here is in one xdist
group, so they share them.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.web import live
from tests.web.browsing import (
    BROWSER,
    check_accessible,
    field,
    file_by_api,
    fill_referral,
    press,
    sign_in,
    type_into,
)

pytestmark = BROWSER
HEADINGS = {"en": "Refer a potential victim", "cy": "Atgyfeirio dioddefwr posibl"}


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_the_journey_by_keyboard_with_no_accessibility_violation(
    context: BrowserContext, language: str
) -> None:
    page = await context.new_page()
    await page.goto(f"/?lang={language}")
    await check_accessible(page)
    await sign_in(page, language=language)
    assert await page.get_attribute("html", "lang") == language
    await check_accessible(page)
    # The home page is the main task: the referral form itself (WEB.md "Pages").
    assert HEADINGS[language] in await page.inner_text("main h2")
    await fill_referral(page)
    await press(page, "#file-referral")
    await page.wait_for_url(re.compile(r"/referrals/[0-9a-f-]{36}\?filed=1"))
    reference = await page.inner_text("h1")
    assert reference.startswith("NRM-W-")
    await check_accessible(page)
    await type_into(page, "[id='text']", "She has a brother in Swansea.")
    await press(page, "#add-note")
    await page.wait_for_url("**?done=note")
    assert "She has a brother in Swansea." in await page.content()
    for path in ("/referrals", "/me", "/no-such-page"):
        await page.goto(path)
        assert await page.get_attribute("html", "lang") == language
        await check_accessible(page)
    await page.goto("/referrals")
    assert reference in await page.content()
    await report_duty_to_notify(page)


async def report_duty_to_notify(page: Page) -> None:
    """The duty-to-notify form by keyboard, and the page that confirms it."""
    await page.goto("/duty-to-notify/new")
    await check_accessible(page)
    await press(page, field("gender"), "Space")
    await press(page, field("exploitation.types"), "Space")
    await press(page, field("exploitation.location"), "Space")
    await page.locator(field("exploitation.local_authority")).select_option("W06000015")
    await press(page, "#file-report")
    await page.wait_for_url("**/duty-to-notify/filed?reference=*")
    assert "DTN-W-" in await page.inner_text("main")
    await check_accessible(page)


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_a_failed_form_keeps_every_field_and_is_accessible(
    context: BrowserContext, language: str
) -> None:
    page = await context.new_page()
    await sign_in(page, language=language)
    await page.goto("/referrals/new")
    await fill_referral(page, gender=False)
    await press(page, "#file-referral")
    await page.wait_for_selector(".govuk-error-summary")
    await check_accessible(page)
    assert await page.input_value(field("potential_victim.given_name")) == "Ana"
    assert await page.input_value(field("potential_victim.date_of_birth.year")) == "1999"
    assert await page.input_value(field("account")) == "Found working in a car wash, unpaid."
    assert await page.input_value(field("potential_victim.nationality")) == "RO"
    assert await page.is_checked(field("consent.given"))
    assert await page.is_checked(field("exploitation.types"))
    focused = await page.evaluate("document.activeElement.className")
    assert "govuk-error-summary" in focused  # GOV.UK Frontend moves focus to the summary
    await press(page, ".govuk-error-summary__list a")
    focused_id = await page.evaluate("document.activeElement.id")
    assert focused_id == "potential_victim.gender"


async def _count_referrals(server: live.LiveServer) -> int:
    async with httpx.AsyncClient(base_url=server.url) as client:
        token = await client.post(
            "/api/v1/auth/token", data={"username": live.RESPONDER, "password": live.PASSWORD}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        listed = await client.get("/api/v1/referrals?limit=200", headers=headers)
        return len(listed.json()["items"])


async def test_a_double_click_files_one_referral_even_without_javascript(
    browser: Browser, server: live.LiveServer
) -> None:
    context = await browser.new_context(base_url=server.url, java_script_enabled=False)
    try:
        page = await context.new_page()
        await sign_in(page, axe=False)
        before = await _count_referrals(server)
        await page.goto("/referrals/new")
        await fill_referral(page)
        await page.dblclick("#file-referral")
        # The second click aborts the first navigation (net::ERR_ABORTED), so wait for where
        # the page ends up rather than for one navigation.
        await expect(page).to_have_url(re.compile(r"/referrals/[0-9a-f-]{36}\?filed=1"))
        assert await _count_referrals(server) == before + 1
    finally:
        await context.close()


async def test_a_forged_csrf_token_is_refused(context: BrowserContext) -> None:
    page = await context.new_page()
    await sign_in(page)
    await page.goto("/me")
    await page.evaluate(
        "document.querySelectorAll('input[name=csrf_token]').forEach(e => e.value = 'forged')"
    )
    await press(page, field("language-2"), "Space")
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await press(page, "form[action='/me'] button")
    assert (await posted.value).status == 403
    await page.wait_for_selector("main h1")
    assert "nothing was changed" in await page.inner_text("main")
    await check_accessible(page)


async def test_a_signed_out_session_stays_ended(
    browser: Browser, context: BrowserContext, server: live.LiveServer
) -> None:
    page = await context.new_page()
    await sign_in(page)
    cookies: list[Any] = await context.cookies()
    await press(page, "#sign-out")
    await page.wait_for_url("**/sign-in")
    replay = await browser.new_context(base_url=server.url)
    try:
        await replay.add_cookies(cookies)
        other = await replay.new_page()
        await other.goto("/referrals")
        assert "/sign-in?next=/referrals" in other.url
    finally:
        await replay.close()


async def test_another_organisations_referral_is_not_found(
    browser: Browser, context: BrowserContext, server: live.LiveServer
) -> None:
    page = await context.new_page()
    await sign_in(page)
    await page.goto("/referrals")
    href = await page.get_attribute("table a.govuk-link", "href")
    assert href is not None
    other = await browser.new_context(base_url=server.url)
    try:
        theirs = await other.new_page()
        await sign_in(theirs, live.OTHER_RESPONDER)
        answer = await theirs.goto(href)
        assert answer is not None
        assert answer.status == 404
        await check_accessible(theirs)
    finally:
        await other.close()


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_a_decision_maker_decides_by_keyboard_from_the_queue(
    context: BrowserContext, server: live.LiveServer, language: str
) -> None:
    referral_id = await file_by_api(server)
    page = await context.new_page()
    await sign_in(page, "demo-decision-maker", language=language)
    await check_accessible(page)  # the home page: the queue
    await page.goto("/queue")
    await check_accessible(page)
    assert f"/referrals/{referral_id}" in await page.content()
    await press(page, f"a[href='/referrals/{referral_id}']")
    await page.wait_for_url(f"**/referrals/{referral_id}")
    await check_accessible(page)
    await press(page, field("outcome"), "Space")
    await type_into(page, field("reasons"), "A credible account with clear indicators.")
    await press(page, "#decide")
    await page.wait_for_url("**?done=decided")
    assert "A credible account with clear indicators." in await page.content()
    await check_accessible(page)
