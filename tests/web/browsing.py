"""What the browser tests share: axe, keyboard steps, signing in, the referral form filled by
keyboard, and a referral filed through the API. The server, browser and context fixtures are in
`tests/web/conftest.py`; every browser test module marks itself with `BROWSER` so that all of
them run in one xdist group and share one server per database and one Chromium.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page

from tests.web import live

BROWSER = [
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(not live.AXE.exists(), reason="run `make browser` first (npm ci)"),
]


async def check_accessible(page: Page) -> None:
    violations = await live.axe_violations(page)
    assert violations == [], f"{page.url}: {violations}"


async def press(page: Page, selector: str, key: str = "Enter") -> None:
    await page.locator(selector).focus()
    await page.keyboard.press(key)


async def type_into(page: Page, selector: str, text: str) -> None:
    await page.locator(selector).focus()
    await page.keyboard.type(text)


async def sign_in(
    page: Page, username: str = live.RESPONDER, language: str = "en", *, axe: bool = True
) -> None:
    await page.goto(f"/sign-in?lang={language}")
    if axe:  # axe runs as a script: not in a page whose JavaScript is off
        await check_accessible(page)
    await type_into(page, "#username", username)
    await type_into(page, "#password", live.PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/$"))


def field(name: str) -> str:
    return "[id='" + name + "']"


async def fill_referral(page: Page, *, gender: bool = True) -> None:
    """The form filled with the keyboard: Tab to a control, type, Space to choose."""
    await type_into(page, field("potential_victim.given_name"), "Ana")
    await type_into(page, field("potential_victim.family_name"), "Popescu")
    await type_into(page, field("potential_victim.date_of_birth.day"), "2")
    await type_into(page, field("potential_victim.date_of_birth.month"), "4")
    await type_into(page, field("potential_victim.date_of_birth.year"), "1999")
    if gender:
        await press(page, field("potential_victim.gender"), "Space")
    await page.locator(field("potential_victim.nationality")).select_option("RO")
    await press(page, field("consent.given"), "Space")
    await type_into(page, field("consent.recorded_on.day"), "1")
    await type_into(page, field("consent.recorded_on.month"), "6")
    await type_into(page, field("consent.recorded_on.year"), "2025")
    await press(page, field("exploitation.types"), "Space")
    await press(page, field("exploitation.location"), "Space")
    await page.locator(field("exploitation.local_authority")).select_option("W06000015")
    await press(page, field("indicators"), "Space")
    await type_into(page, field("account"), "Found working in a car wash, unpaid.")


async def file_by_api(server: live.LiveServer) -> str:
    """A fresh referral filed by the demo first responder: its id (routed to the All-Wales
    unit, whose demo decision maker decides it)."""
    from tests.referrals.builders import referral_form

    async with httpx.AsyncClient(base_url=server.url) as client:
        token = await client.post(
            "/api/v1/auth/token", data={"username": live.RESPONDER, "password": live.PASSWORD}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        filed = await client.post("/api/v1/referrals", json=referral_form(), headers=headers)
        assert filed.status_code == 201, filed.text
        return str(filed.json()["id"])
