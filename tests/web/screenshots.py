"""`make screenshots`: every page of the first responder's and the decision maker's journeys, in
English and in Welsh, as PNG files for review (not part of `make test`).

Runs its own server on a throwaway SQLite database with the demo data, and Debian's Chromium.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Page, async_playwright

from tests.databases import Backend
from tests.web import live

PAGES = (
    ("start", "/"),
    ("sign-in", "/sign-in"),
    ("home", "/"),
    ("referral-form", "/referrals/new"),
    ("referrals", "/referrals"),
    ("duty-to-notify", "/duty-to-notify/new"),
    ("account", "/me"),
    ("not-found", "/no-such-page"),
)


async def _shoot(page: Page, folder: Path, name: str, language: str) -> None:
    await page.screenshot(path=str(folder / f"{name}-{language}.png"), full_page=True)


async def _journey(page: Page, folder: Path, language: str) -> None:
    await page.goto(f"/?lang={language}")
    await _shoot(page, folder, "start", language)
    await page.goto("/sign-in")
    await _shoot(page, folder, "sign-in", language)
    await page.fill("#username", live.RESPONDER)
    await page.fill("#password", live.PASSWORD)
    await page.press("#password", "Enter")
    await page.wait_for_url(re.compile(r"/$"))
    for name, path in PAGES[2:]:
        await page.goto(path)
        await _shoot(page, folder, name, language)
    await page.goto("/referrals/new")
    await page.click("#file-referral")
    await _shoot(page, folder, "referral-form-errors", language)
    await page.goto("/referrals")
    await page.click("table a.govuk-link")
    await _shoot(page, folder, "referral", language)


async def _sign_in(page: Page, username: str, language: str) -> None:
    await page.goto(f"/sign-in?lang={language}")
    await page.fill("#username", username)
    await page.fill("#password", live.PASSWORD)
    await page.press("#password", "Enter")
    await page.wait_for_url(re.compile(r"/$"))


async def _decider(page: Page, folder: Path, language: str) -> None:
    """The queue, a case with its decision form, and the form refused for what it lacks."""
    await _sign_in(page, "demo-decision-maker", language)
    await page.goto("/queue")
    await _shoot(page, folder, "queue", language)
    await page.click("table a.govuk-link")
    await _shoot(page, folder, "referral-decider", language)
    case = page.url.split("?")[0]
    await page.goto(case + "/timeline")
    await _shoot(page, folder, "timeline", language)
    await page.goto(case)
    if await page.locator("#decide").count():
        await page.click("#decide")
        await _shoot(page, folder, "decision-form-errors", language)


# The other roles' pages: (user, [(name, path)]), each shot after signing in as that user.
ROLE_PAGES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "demo-auditor",
        (
            ("audit", "/audit"),
            ("audit-verified", "/audit?verify=1"),
            ("audit-bad-filter", "/audit?since=yesterday"),
            ("statistics", "/statistics?table=decisions&by=gender"),
            ("statistics-disparities", "/statistics?table=referrals&by=nationality"),
            ("referrals-auditor", "/referrals"),
        ),
    ),
    (
        "demo-senior-decision-maker",
        (("statistics-senior", "/statistics"), ("queue-senior", "/queue")),
    ),
    ("demo-panel-member", (("queue-panel", "/queue"),)),
    (
        "demo-immigration-officer",
        (
            ("immigration-lookup", "/immigration"),
            ("immigration-record", "/immigration?home_office_reference=HO-DEMO-0001"),
            ("immigration-not-found", "/immigration?home_office_reference=HO-NONE"),
        ),
    ),
    (
        "demo-admin",
        (
            ("admin", "/admin"),
            ("admin-user-new", "/admin/users/new"),
            ("admin-organisation-new", "/admin/organisations/new"),
            ("admin-mailbox", "/admin/organisations/bawso/email"),
            ("admin-notifications", "/admin/notifications"),
        ),
    ),
)


async def _role_pages(
    page: Page, folder: Path, language: str, username: str, pages: tuple[tuple[str, str], ...]
) -> None:
    await _sign_in(page, username, language)
    for name, path in pages:
        await page.goto(path)
        await _shoot(page, folder, name, language)


async def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=live.CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        for language in ("en", "cy"):
            context = await browser.new_context(base_url=SERVER.url)
            await _journey(await context.new_page(), folder, language)
            await context.close()
            context = await browser.new_context(base_url=SERVER.url)
            await _decider(await context.new_page(), folder, language)
            await context.close()
            for username, pages in ROLE_PAGES:
                context = await browser.new_context(base_url=SERVER.url)
                await _role_pages(await context.new_page(), folder, language, username, pages)
                await context.close()
        await browser.close()


if __name__ == "__main__":
    backend = Backend(name="sqlite", workdir=Path(tempfile.mkdtemp(prefix="nrm-shots-")))
    backend.prepare_template()
    SERVER = live.start(backend)
    try:
        asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/screenshots")))
    finally:
        SERVER.stop()
        backend.drop_all()
