"""The immigration liaison's journey in a real browser (WEB.md "How it is tested"): keyboard
only, in English and in Welsh, with axe-core on every page: the look-up by Home Office
reference (found and not found), the record page with the identification outcome, a change,
a change refused because someone else changed the record meanwhile (what was typed kept), and
a record created where a referral had none (a form without a status first: 422, kept).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, Page

from tests.referrals.builders import referral_form
from tests.web import live
from tests.web.browsing import BROWSER, check_accessible, field, press, sign_in, type_into

pytestmark = BROWSER
OFFICER = "demo-immigration-officer"
WORDS = {
    "en": {"look_up": "Find a referral by Home Office reference", "outcome": "Recovery period"},
    "cy": {"look_up": "Dod o hyd i atgyfeiriad", "outcome": "Cyfnod adfer"},
}


async def _token(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    answer = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": live.PASSWORD}
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def file_with_reference(server: live.LiveServer, reference: str | None) -> dict[str, Any]:
    """A referral filed by the demo first responder (with this Home Office reference, or with
    no immigration part), decided positive at reasonable grounds by the demo decision maker."""
    immigration = {"status": "asylum_seeker", "home_office_reference": reference}
    form = referral_form(immigration=immigration)
    if reference is None:
        del form["immigration"]
    async with httpx.AsyncClient(base_url=server.url) as client:
        filed = await client.post(
            "/api/v1/referrals", json=form, headers=await _token(client, live.RESPONDER)
        )
        assert filed.status_code == 201, filed.text
        body = filed.json()
        decided = await client.post(
            f"/api/v1/referrals/{body['id']}/decisions",
            json={"stage": "reasonable_grounds", "outcome": "positive", "reasons": "Clear."},
            headers={
                **await _token(client, "demo-decision-maker"),
                "If-Match": f'"{body["version"]}"',
            },
        )
        assert decided.status_code == 201, decided.text
        return dict(body)


async def change_meanwhile(server: live.LiveServer, referral_id: str) -> None:
    """Another officer changes the record (through the API) while the page is open."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        headers = await _token(client, OFFICER)
        path = f"/api/v1/referrals/{referral_id}/immigration"
        current = await client.get(path, headers=headers)
        changed = await client.put(
            path,
            json={"status": "refugee_or_protection", "home_office_reference": "HO-THEIRS"},
            headers={**headers, "If-Match": current.headers["etag"]},
        )
        assert changed.status_code == 200, changed.text


async def replace_text(page: Page, selector: str, text: str) -> None:
    await page.locator(selector).focus()
    await page.keyboard.press("Control+A")
    await page.keyboard.type(text)


async def look_up(page: Page, reference: str) -> None:
    await replace_text(page, field("home_office_reference"), reference)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def save(page: Page) -> None:
    """The record's form sent by keyboard, waiting for the page that answers."""
    async with page.expect_navigation():
        await press(page, "#save-record")


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_the_officers_journey_by_keyboard_with_no_accessibility_violation(
    context: BrowserContext, server: live.LiveServer, language: str
) -> None:
    reference = f"HO-BR-{uuid.uuid4().hex[:10]}"
    referral = await file_with_reference(server, reference)
    page = await context.new_page()
    await sign_in(page, OFFICER, language)
    assert await page.get_attribute("html", "lang") == language
    assert WORDS[language]["look_up"] in await page.inner_text("h1")
    await check_accessible(page)

    await look_up(page, "HO-NO-SUCH-REFERENCE")
    assert "/immigration?" in page.url
    assert await page.input_value(field("home_office_reference")) == "HO-NO-SUCH-REFERENCE"
    await check_accessible(page)

    await look_up(page, reference)
    main = await page.inner_text("main")
    assert referral["reference"] in main
    assert reference in main
    assert WORDS[language]["outcome"] in main
    assert "Popescu" not in main
    assert await page.is_checked("[id='status-6']")  # asylum_seeker, as recorded
    await check_accessible(page)

    await press(page, "[id='status-8']", "Space")  # no_leave
    await replace_text(page, field("home_office_reference"), reference + "-B")
    await press(page, "#save-record")
    await page.wait_for_url(re.compile(r"/immigration/[0-9a-f-]{36}\?done=changed$"))
    assert reference + "-B" in await page.inner_text("main")
    await check_accessible(page)

    await change_meanwhile(server, referral["id"])
    await press(page, "[id='status-3']", "Space")  # pre_settled
    await replace_text(page, field("home_office_reference"), "HO-MINE")
    await save(page)
    assert "HO-THEIRS" in await page.inner_text("main")  # what changed meanwhile
    assert await page.input_value(field("home_office_reference")) == "HO-MINE"
    assert await page.is_checked("[id='status-3']")
    await check_accessible(page)
    await press(page, "#save-record")  # sent again, on the version it now shows
    await page.wait_for_url("**?done=changed")
    assert "HO-MINE" in await page.inner_text("main")

    await create_a_record(page, server, language)


async def create_a_record(page: Page, server: live.LiveServer, language: str) -> None:
    """A referral with no record: the create form, a refusal that keeps the reference typed."""
    bare = await file_with_reference(server, None)
    await page.goto(f"/immigration/{bare['id']}")
    assert await page.get_attribute("html", "lang") == language
    await check_accessible(page)
    await type_into(page, field("home_office_reference"), "HO-CREATED")
    await save(page)
    assert await page.locator(".govuk-error-summary").count() == 1
    assert await page.input_value(field("home_office_reference")) == "HO-CREATED"
    await check_accessible(page)
    await press(page, "[id='status-5']", "Space")  # visa_overstayer
    await press(page, "#save-record")
    await page.wait_for_url("**?done=created")
    assert "HO-CREATED" in await page.inner_text("main")
    await check_accessible(page)
