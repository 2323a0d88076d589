"""The administrator's contact details and outbox in a real browser (WEB.md "How it is
tested"): keyboard only, in English and in Welsh, with axe-core on every page: add a user with
an e-mail address, change it (a bad address first, refused and kept), choose their language,
and open the notifications page (a referral filed first, so that it lists some) and filter it.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import BrowserContext, Page

from tests.web.browsing import (
    BROWSER,
    check_accessible,
    field,
    file_by_api,
    press,
    sign_in,
    type_into,
)
from tests.web.live import LiveServer

pytestmark = BROWSER
ADMIN = "demo-admin"
FIRST_RESPONDER = "#roles"
WELSH_CHOICE = "#language-2"  # GOV.UK names the radios `language`, `language-2`
NOTIFICATIONS = {"en": "Notifications", "cy": "Hysbysiadau"}


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_the_admin_sets_an_address_and_watches_the_outbox_by_keyboard(
    context: BrowserContext, server: LiveServer, language: str
) -> None:
    await file_by_api(server)  # the outbox holds its notifications
    page = await context.new_page()
    await sign_in(page, ADMIN, language=language)
    await check_accessible(page)
    user_page = await add_user_with_an_address(page)
    await change_the_address(page, user_page)
    await press(page, WELSH_CHOICE, "Space")
    await press(page, "#save-language")
    await page.wait_for_url(f"{user_page}?done=language")
    assert await page.is_checked(WELSH_CHOICE)
    await check_accessible(page)
    await open_the_outbox(page, language)


async def add_user_with_an_address(page: Page) -> str:
    await page.goto("/admin")
    await press(page, "#add-user")
    await page.wait_for_url("**/admin/users/new")
    await check_accessible(page)
    await type_into(page, field("display_name"), "Keyboard Contact")
    await type_into(page, field("username"), f"contact-{uuid.uuid4().hex[:8]}")
    await type_into(page, field("email"), "first@example.org.uk")
    await type_into(page, field("password"), "lantern-orchard-velvet-quarry")
    await page.locator(field("organisation")).focus()
    await page.locator(field("organisation")).select_option("bawso")
    await press(page, FIRST_RESPONDER, "Space")
    await press(page, "#save-user")
    await page.wait_for_url(re.compile(r"/admin/users/[0-9a-f-]{36}\?done=created$"))
    await check_accessible(page)
    assert await page.input_value(field("email")) == "first@example.org.uk"
    return page.url.split("?")[0]


async def change_the_address(page: Page, user_page: str) -> None:
    """A bad address, refused and kept; then a good one."""
    await press(page, field("email"), "Control+A")
    await page.keyboard.type("not an address")
    async with page.expect_navigation():
        await press(page, "#save-email")
    assert await page.locator(".govuk-error-summary").count() == 1
    assert await page.input_value(field("email")) == "not an address"
    await check_accessible(page)
    await press(page, field("email"), "Control+A")
    await page.keyboard.type("second@example.org.uk")
    await press(page, "#save-email")
    await page.wait_for_url(f"{user_page}?done=email")
    assert await page.input_value(field("email")) == "second@example.org.uk"
    await check_accessible(page)


async def open_the_outbox(page: Page, language: str) -> None:
    await page.goto("/admin")
    await press(page, "#notifications")
    await page.wait_for_url("**/admin/notifications")
    assert NOTIFICATIONS[language] in await page.inner_text("h1")
    assert await page.locator("tr[data-row]").count() > 0
    await check_accessible(page)
    await page.locator(field("status")).focus()
    await page.locator(field("status")).select_option("sent")
    await press(page, "#filter")
    await page.wait_for_url("**/admin/notifications?status=sent*")
    assert await page.get_attribute("html", "lang") == language
    await check_accessible(page)
