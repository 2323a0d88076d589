"""The language link of a page shown in answer to a form (WEB.md "Language": every page has a
link to the other language "that keeps the person on the same page").

A form refused (422, 403, 409…) is answered at the address it was sent to, which for most forms
only takes a POST: the link must lead to the page the form lives on, never back to that address
(a 405). Every POST form of the web service is tried here, as the person who would send it.
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI, routing
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from app.web.language_links import page_address, switch_language_url
from tests.factories import AppUser
from tests.immigration.page_support import browser_of
from tests.referrals.builders import Cast, command, file_referral, make_cast
from tests.web.helpers import csrf_of, sign_in

_LINK = re.compile(r'<a class="govuk-link" href="([^"]+)" hreflang="(cy|en)"')

ANYONE = "anyone"
# Each POST form of the pages: who sends it, and the page it lives on.
FORMS: dict[str, tuple[str, str]] = {
    "/sign-in": (ANYONE, "/sign-in"),
    "/sign-out": ("responder", "/"),
    "/me": ("responder", "/me"),
    "/me/email": ("responder", "/me"),
    "/referrals/new": ("responder", "/referrals/new"),
    "/duty-to-notify/new": ("responder", "/duty-to-notify/new"),
    "/referrals/{referral_id}/notes": ("decision_maker", "/referrals/{referral_id}"),
    "/referrals/{referral_id}/reconsideration-requests": (
        "responder",
        "/referrals/{referral_id}",
    ),
    "/referrals/{referral_id}/withdraw": ("responder", "/referrals/{referral_id}"),
    "/referrals/{referral_id}/decisions": ("decision_maker", "/referrals/{referral_id}"),
    "/referrals/{referral_id}/decisions/{decision_id}/review": (
        "senior",
        "/referrals/{referral_id}",
    ),
    "/referrals/{referral_id}/reconsideration-requests/{request_id}/decision": (
        "decision_maker",
        "/referrals/{referral_id}",
    ),
    "/referrals/{referral_id}/suspend": ("decision_maker", "/referrals/{referral_id}"),
    "/referrals/{referral_id}/resume": ("decision_maker", "/referrals/{referral_id}"),
    "/referrals/{referral_id}/assign": ("senior", "/referrals/{referral_id}"),
    "/referrals/{referral_id}/age": ("decision_maker", "/referrals/{referral_id}"),
    "/referrals/{referral_id}/reroute": ("decision_maker", "/referrals/{referral_id}"),
    "/immigration/{referral_id}": ("immigration", "/immigration/{referral_id}"),
    "/admin/organisations/new": ("admin", "/admin/organisations/new"),
    "/admin/organisations/{code}/email": ("admin", "/admin/organisations/{code}/email"),
    "/admin/users/new": ("admin", "/admin/users/new"),
    "/admin/users/{user_id}/roles": ("admin", "/admin/users/{user_id}"),
    "/admin/users/{user_id}/active": ("admin", "/admin/users/{user_id}"),
    "/admin/users/{user_id}/email": ("admin", "/admin/users/{user_id}"),
    "/admin/users/{user_id}/language": ("admin", "/admin/users/{user_id}"),
    "/admin/notifications/{notification_id}/retry": ("admin", "/admin/notifications"),
}


def language_link(page: str) -> tuple[str, str]:
    """The page's language link: its target (unescaped) and its `hreflang`."""
    found = _LINK.search(page)
    assert found, "the page has no language link"
    return html.unescape(found.group(1)), found.group(2)


def page_forms(app: FastAPI) -> set[str]:
    """The addresses the pages' forms are sent to: every POST route outside the API."""
    return {
        str(context.path_format)
        for context in routing.iter_route_contexts(app.routes)
        if "POST" in (context.methods or set()) and not str(context.path_format).startswith("/api/")
    }


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


@pytest.fixture
async def referral(client: httpx.AsyncClient, cast: Cast) -> dict[str, Any]:
    """A referral of the responder's force (routed to the All-Wales unit), with an immigration
    record and a reasonable grounds decision in effect."""
    filed = (await file_referral(client, cast.responder)).json()
    body = {"stage": "reasonable_grounds", "outcome": "positive", "reasons": "consistent"}
    decided = await command(client, cast.decision_maker, filed, "decisions", body)
    assert decided.status_code == 201, decided.text
    return dict(filed)


class TestARefusedFormsLanguageLink:
    def test_every_form_of_the_pages_is_tried(self, app: FastAPI) -> None:
        assert page_forms(app) == set(FORMS)

    async def test_leads_to_the_page_the_form_lives_on_in_the_other_language(
        self, app: FastAPI, cast: Cast, referral: dict[str, Any]
    ) -> None:
        params = {
            "referral_id": referral["id"],
            "decision_id": str(uuid.uuid4()),
            "request_id": str(uuid.uuid4()),
            "code": cast.responder.organisation,
            "user_id": str(cast.responder.id),
            "notification_id": str(uuid.uuid4()),
        }
        browsers: dict[str, httpx.AsyncClient] = {}
        wrong: list[str] = []
        try:
            for form, (who, home) in sorted(FORMS.items()):
                if who not in browsers:
                    browsers[who] = browser_of(app)
                    if who != ANYONE:
                        user: AppUser = getattr(cast, who)
                        await sign_in(browsers[who], user.username)
                browser = browsers[who]
                # Sent without the session's CSRF token (a refusal, 403), or, for sign-in, with
                # a wrong password (401).
                data = {"username": "nobody", "password": "wrong"} if who == ANYONE else {}
                refused = await browser.post(form.format(**params), data=data)
                assert refused.status_code in (401, 403, 422), (form, refused.status_code)
                # (the link followed before sets the cookie: a page may be in either language)
                other = "en" if '<html lang="cy"' in refused.text else "cy"
                target, hreflang = language_link(refused.text)
                parts = urlsplit(target)
                expected = home.format(**params)
                if (parts.path, parse_qsl(parts.query), hreflang) != (
                    expected,
                    [("lang", other)],
                    other,
                ):
                    wrong.append(f"{form}: {target} ({hreflang}), not {expected}")
                    continue
                shown = await browser.get(target)
                if shown.status_code != 200 or f'<html lang="{other}"' not in shown.text:
                    wrong.append(f"{form}: {target} answers {shown.status_code}")
        finally:
            for browser in browsers.values():
                await browser.aclose()
        assert wrong == []


class TestAFormShownAgain:
    async def test_an_empty_note_links_to_the_referrals_page(
        self, app: FastAPI, cast: Cast, referral: dict[str, Any]
    ) -> None:
        async with browser_of(app) as browser:
            csrf = await sign_in(browser, cast.decision_maker.username)
            path = f"/referrals/{referral['id']}"
            answer = await browser.post(
                f"{path}/notes", data={"csrf_token": csrf, "text": "", "version": "1"}
            )
            assert answer.status_code in (409, 412, 422), answer.status_code
            assert language_link(answer.text) == (f"{path}?lang=cy", "cy")
            assert (await browser.get(f"{path}?lang=cy")).status_code == 200

    async def test_a_bad_email_on_me_links_to_me(self, app: FastAPI, cast: Cast) -> None:
        async with browser_of(app) as browser:
            csrf = await sign_in(browser, cast.responder.username)
            answer = await browser.post("/me/email", data={"csrf_token": csrf, "email": "not"})
            assert answer.status_code == 422
            assert language_link(answer.text) == ("/me?lang=cy", "cy")
            welsh = await browser.get("/me?lang=cy")
            assert welsh.status_code == 200
            assert csrf_of(welsh.text) == csrf

    async def test_a_get_of_a_form_address_links_to_its_page_not_to_itself(
        self, app: FastAPI, cast: Cast, referral: dict[str, Any]
    ) -> None:
        async with browser_of(app) as browser:
            await sign_in(browser, cast.decision_maker.username)
            path = f"/referrals/{referral['id']}"
            answer = await browser.get(f"{path}/notes")
            assert answer.status_code == 405
            assert language_link(answer.text) == (f"{path}?lang=cy", "cy")


def _request(app: FastAPI, method: str, path: str, query: str = "") -> Request:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [],
        "root_path": "",
        "scheme": "http",
        "server": ("test", 80),
        "app": app,
    }
    return Request(scope)


class TestTheAddressOfAPage:
    def test_a_page_keeps_its_own_address_and_query(self, app: FastAPI) -> None:
        request = _request(app, "GET", "/referrals", "status=submitted&lang=en")
        assert page_address(request) == "/referrals?status=submitted&lang=en"
        assert switch_language_url(request, "cy") == "/referrals?status=submitted&lang=cy"

    def test_a_post_only_address_gives_the_nearest_page_above_it(self, app: FastAPI) -> None:
        referral = uuid.uuid4()
        request = _request(app, "POST", f"/referrals/{referral}/decisions/{uuid.uuid4()}/review")
        assert page_address(request) == f"/referrals/{referral}"
        request = _request(app, "POST", "/sign-out")
        assert page_address(request) == "/"

    def test_a_form_sent_to_its_pages_address_stays_there(self, app: FastAPI) -> None:
        assert page_address(_request(app, "POST", "/referrals/new")) == "/referrals/new"
        assert page_address(_request(app, "POST", "/me")) == "/me"

    def test_an_unknown_address_stays_the_same_page(self, app: FastAPI) -> None:
        assert page_address(_request(app, "GET", "/no-such-page")) == "/no-such-page"

    def test_the_address_a_page_says_wins_with_its_filters(self, app: FastAPI) -> None:
        request = _request(app, "POST", f"/admin/notifications/{uuid.uuid4()}/retry")
        address = "/admin/notifications?status=failed&kind=email&lang=en"
        assert (
            switch_language_url(request, "cy", address)
            == "/admin/notifications?status=failed&kind=email&lang=cy"
        )
