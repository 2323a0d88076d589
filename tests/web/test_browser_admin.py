"""The administrator's journey in a real browser (WEB.md "How it is tested"): keyboard only, in
English and in Welsh, with axe-core on every page: add an organisation, add a user, give them
a role (one the rules refuse first, shown again with the choice kept), and deactivate them.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import BrowserContext, Page

from tests.web.browsing import BROWSER, check_accessible, field, press, sign_in, type_into

pytestmark = BROWSER
ADMIN = "demo-admin"
HEADINGS = {"en": "Organisations and users", "cy": "Sefydliadau a defnyddwyr"}
# The roles' checkboxes in the vocabulary's order: GOV.UK names the first `roles`, then `roles-2`…
FIRST_RESPONDER, DECISION_MAKER, ADMIN_ROLE = "#roles", "#roles-2", "#roles-7"


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_the_admins_journey_by_keyboard_with_no_accessibility_violation(
    context: BrowserContext, language: str
) -> None:
    page = await context.new_page()
    await sign_in(page, ADMIN, language=language)
    assert await page.get_attribute("html", "lang") == language
    assert HEADINGS[language] in await page.inner_text("h1")  # the admin's home
    await check_accessible(page)
    await press(page, "a.govuk-service-navigation__link[href='/admin']")
    await page.wait_for_url("**/admin")
    await check_accessible(page)
    await add_organisation(page, language)
    user_page = await add_user(page)
    await give_a_role(page)
    await press(page, "#active")  # deactivate
    await page.wait_for_url(f"{user_page}?done=deactivated")
    await check_accessible(page)
    assert await page.locator("input[name='active'][value='true']").count() == 1
    await page.goto("/admin")
    assert await page.get_attribute("html", "lang") == language


async def add_organisation(page: Page, language: str) -> None:
    await press(page, "#add-organisation")
    await page.wait_for_url("**/admin/organisations/new")
    await check_accessible(page)
    code = f"kb-{language}-{uuid.uuid4().hex[:8]}"
    await type_into(page, field("code"), code)
    await type_into(page, field("name"), f"Keyboard Refuge {language}")
    await type_into(page, field("name_cy"), f"Lloches Bysellfwrdd {language}")
    await press(page, field("sector"), "Space")
    await press(page, "#save-organisation")
    await page.wait_for_url("**/admin?done=organisation")
    await check_accessible(page)


async def add_user(page: Page) -> str:
    """A first responder of Bawso, by keyboard; the address of their page."""
    await press(page, "#add-user")
    await page.wait_for_url("**/admin/users/new")
    await check_accessible(page)
    username = f"keyboard-{uuid.uuid4().hex[:8]}"
    await type_into(page, field("display_name"), "Keyboard Caseworker")
    await type_into(page, field("username"), username)
    await type_into(page, field("password"), "lantern-orchard-velvet-quarry")
    await page.locator(field("organisation")).focus()
    await page.locator(field("organisation")).select_option("bawso")
    await press(page, FIRST_RESPONDER, "Space")
    await press(page, "#save-user")
    await page.wait_for_url(re.compile(r"/admin/users/[0-9a-f-]{36}\?done=created$"))
    await check_accessible(page)
    assert username in await page.inner_text("main")
    return page.url.split("?")[0]


async def give_a_role(page: Page) -> None:
    """Decision maker instead of first responder, after the rules refuse admin beside it."""
    await press(page, FIRST_RESPONDER, "Space")
    await press(page, DECISION_MAKER, "Space")
    await press(page, ADMIN_ROLE, "Space")
    async with page.expect_navigation():
        await press(page, "#save-roles")
    assert await page.locator(".govuk-error-summary").count() == 1
    assert await page.is_checked(DECISION_MAKER)
    assert await page.is_checked(ADMIN_ROLE)
    await check_accessible(page)
    await press(page, ADMIN_ROLE, "Space")
    await press(page, "#save-roles")
    await page.wait_for_url("**?done=roles")
    assert await page.is_checked(DECISION_MAKER)
    assert not await page.is_checked(FIRST_RESPONDER)
    await check_accessible(page)
