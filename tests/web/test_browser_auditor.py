"""The auditor's journey in a real browser (WEB.md "How it is tested"): keyboard only, in
English and in Welsh, with axe-core on every page: sign in to the audit page, filter by a
referral, verify the trail, read the referral's timeline, choose a breakdown of the
statistics and find the CSV link, open the report and switch its language.

One server per database and one Chromium for the whole run (the fixtures of conftest.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import BrowserContext

from tests.web import live
from tests.web.browsing import BROWSER, check_accessible, file_by_api, press, sign_in, type_into

pytestmark = BROWSER
AUDITOR = "demo-auditor"
HEADINGS = {
    "en": ("Audit trail", "Decision timeline", "Statistics"),
    "cy": ("Trywydd archwilio", "Llinell amser y penderfyniadau", "Ystadegau"),
}
INTACT = {"en": "The audit trail has not been changed", "cy": "Nid yw'r trywydd archwilio"}


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_the_auditors_journey_by_keyboard_with_no_accessibility_violation(
    context: BrowserContext, server: live.LiveServer, language: str
) -> None:
    referral_id = await file_by_api(server)
    audit, timeline, statistics = HEADINGS[language]
    page = await context.new_page()
    await sign_in(page, AUDITOR, language)
    assert await page.get_attribute("html", "lang") == language
    assert await page.inner_text("h1") == audit
    await check_accessible(page)

    await type_into(page, "[id='referral_id']", referral_id)
    await press(page, "#filter")
    await page.wait_for_url(re.compile(rf"/audit\?.*referral_id={referral_id}"))
    rows = page.locator("#events tbody tr")
    assert await rows.count() >= 2  # filed and routed
    for text in await rows.all_inner_texts():
        assert referral_id in text
    await check_accessible(page)

    await press(page, "#verify")
    await page.wait_for_url(re.compile(r"verify=1"))
    assert INTACT[language] in await page.inner_text("#verification-result")
    assert f"referral_id={referral_id}" in page.url  # the filter is kept
    await check_accessible(page)

    await page.locator(f"#events a[href='/referrals/{referral_id}/timeline']").first.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/referrals/{referral_id}/timeline")
    assert await page.inner_text("h1") == timeline
    assert await page.locator("#stages tbody tr").count() >= 1
    await check_accessible(page)

    await press(page, "a.govuk-service-navigation__link[href='/statistics']")
    await page.wait_for_url("**/statistics")
    assert await page.inner_text("h1") == statistics
    await check_accessible(page)
    await page.locator("[id='by']").focus()
    await page.locator("[id='by']").select_option("gender")
    await press(page, "#show")
    await page.wait_for_url(re.compile(r"/statistics\?.*by=gender"))
    chart = page.locator("svg[role='img']")
    assert await chart.count() == 1
    assert await page.locator("#chart-title").count() == 1
    csv = await page.get_attribute("#csv", "href")
    assert csv is not None
    assert csv.startswith("/statistics.csv?table=referrals")
    assert "by=gender" in csv
    await check_accessible(page)

    # The report, a page of its own, has the language link of every page (WEB.md "Language").
    other = "cy" if language == "en" else "en"
    await press(page, "#report")
    await page.wait_for_url(re.compile(r"/statistics/report\?from="))
    assert await page.get_attribute("html", "lang") == language
    await check_accessible(page)
    period = page.url.split("?", 1)[1]
    await press(page, f"a[hreflang='{other}']")
    await page.wait_for_url(f"**/statistics/report?{period}&lang={other}")
    assert await page.get_attribute("html", "lang") == other
    assert await page.locator(f"a[hreflang='{language}']").count() == 1
    await check_accessible(page)
