"""A case form sent after its session ended (WEB.md "Forms": nothing typed is lost): the
sign-in form shows at once, carrying what was typed sealed; signing in again as the same person
returns them to the referral with it back in the form, not sent; nobody else gets it, nothing
is changed before it is sent again with the new session's CSRF token (`app.web.kept`)."""

from __future__ import annotations

import html
import re
import secrets
import string
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import real_now
from app.web.models import WebSession
from tests.factories import AppUser
from tests.referrals.builders import Case, Cast, file_case, make_cast, step
from tests.web.helpers import csrf_of, sign_in, sign_in_csrf
from tests.web.test_decision_forms import KEPT, LONG, status, version_of

NOTICE = "Your session ended before your form was sent"
BACK = "is back in the form"


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


def kept_of(html: str) -> str:
    found = re.search(r'name="kept" value="([^"]+)"', html)
    assert found, "the sign-in form carries nothing"
    return found.group(1)


async def idle(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Every session idle past the limit (the real clock's 30 minutes)."""
    async with sessions() as s:
        since = real_now() - timedelta(minutes=31)
        await s.execute(update(WebSession).values(last_seen_at=since))
        await s.commit()


async def decide_too_late(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    user: AppUser,
    case: Case,
    **headers: str,
) -> httpx.Response:
    """Open the referral's page, let the session go idle, then send the typed decision."""
    csrf = await sign_in(client, user.username)
    page = await client.get(f"/referrals/{case.id}")
    await idle(sessions)
    return await client.post(
        f"/referrals/{case.id}/decisions",
        data={"csrf_token": csrf, "version": version_of(page.text)}
        | {"stage": "reasonable_grounds", "outcome": "positive", "reasons": LONG},
        headers=headers,
    )


async def followed(client: httpx.AsyncClient, answer: httpx.Response) -> httpx.Response:
    """The sign-in form the 303 of a POST without a session leads to (with the kept form in
    the cookies scoped to `/sign-in`)."""
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in?next=/referrals/")
    return await client.get(answer.headers["location"])


async def sign_in_again(
    client: httpx.AsyncClient, html: str, username: str, sealed: str
) -> httpx.Response:
    return await client.post(
        "/sign-in",
        data={"username": username, "password": "correct-horse-battery-staple"}
        | {"csrf_token": sign_in_csrf(html), "next": _next_of(html), "kept": sealed},
    )


def _next_of(html: str) -> str:
    found = re.search(r'name="next" value="([^"]+)"', html)
    assert found
    return found.group(1)


class TestKept:
    async def test_the_same_person_gets_the_typed_form_back_once_and_unsent(
        self, client: httpx.AsyncClient, cast: Cast, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        case = await file_case(client, cast.responder)
        posted = await decide_too_late(client, sessions, cast.decision_maker, case)
        assert posted.status_code == 303  # as for any page without a session (WEB.md)
        assert posted.headers["location"] == f"/sign-in?next=/referrals/{case.id}"
        cookies = posted.headers.get_list("set-cookie")
        assert any(c.startswith("nrm_kept0=") and "Path=/sign-in" in c for c in cookies)
        assert "Her wages" not in " ".join(cookies)
        answer = await followed(client, posted)
        assert answer.status_code == 200
        assert NOTICE in answer.text
        assert "Her wages" not in answer.text  # carried sealed, never in the clear
        assert await status(client, cast.decision_maker, case) == "awaiting_rg"
        signed = await sign_in_again(
            client, answer.text, cast.decision_maker.username, kept_of(answer.text)
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == f"/referrals/{case.id}"
        async with sessions() as s:  # held sealed by the new session
            held = await s.scalar(
                select(WebSession.kept_form).where(WebSession.kept_form.is_not(None))
            )
            assert held is not None
            assert "Her wages" not in held
        page = await client.get(f"/referrals/{case.id}")
        assert BACK in page.text
        assert KEPT in page.text
        assert 'value="positive" checked' in page.text
        assert csrf_of(page.text) == csrf_of((await client.get("/me")).text)  # the new session's
        assert f'name="version" value="{case.version}"' in page.text
        assert await status(client, cast.decision_maker, case) == "awaiting_rg"  # not sent
        again = await client.get(f"/referrals/{case.id}")
        assert KEPT not in again.text
        assert BACK not in again.text
        sent = await client.post(
            f"/referrals/{case.id}/decisions",
            data={"csrf_token": csrf_of(page.text), "version": version_of(page.text)}
            | {"stage": "reasonable_grounds", "outcome": "positive", "reasons": LONG},
        )
        assert sent.status_code == 303

    async def test_a_change_made_meanwhile_is_said_with_the_form_back(
        self, client: httpx.AsyncClient, cast: Cast, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await followed(
            client, await decide_too_late(client, sessions, cast.decision_maker, case)
        )
        await step(client, cast.responder, case, "notes", {"text": "Her brother called."})
        await sign_in_again(client, answer.text, cast.decision_maker.username, kept_of(answer.text))
        page = await client.get(f"/referrals/{case.id}")
        assert "Someone changed this referral" in page.text
        assert "Her brother called." in page.text
        assert KEPT in page.text
        assert f'name="version" value="{case.version}"' in page.text  # the version now

    async def test_someone_else_signing_in_gets_nothing(
        self, client: httpx.AsyncClient, cast: Cast, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await followed(
            client, await decide_too_late(client, sessions, cast.decision_maker, case)
        )
        signed = await sign_in_again(
            client, answer.text, cast.senior.username, kept_of(answer.text)
        )
        assert signed.status_code == 303
        page = await client.get(f"/referrals/{case.id}")
        assert page.status_code == 200
        assert KEPT not in page.text
        assert BACK not in page.text

    async def test_a_changed_seal_is_ignored(
        self, client: httpx.AsyncClient, cast: Cast, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await followed(
            client, await decide_too_late(client, sessions, cast.decision_maker, case)
        )
        sealed = kept_of(answer.text)
        forged = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
        signed = await sign_in_again(client, answer.text, cast.decision_maker.username, forged)
        assert signed.status_code == 303
        page = await client.get(f"/referrals/{case.id}")
        assert KEPT not in page.text

    async def test_a_wrong_password_keeps_carrying_it(
        self, client: httpx.AsyncClient, cast: Cast, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await followed(
            client, await decide_too_late(client, sessions, cast.decision_maker, case)
        )
        sealed = kept_of(answer.text)
        wrong = await client.post(
            "/sign-in",
            data={"username": cast.decision_maker.username, "password": "not-the-password"}
            | {"csrf_token": sign_in_csrf(answer.text), "next": f"/referrals/{case.id}"}
            | {"kept": sealed},
        )
        assert wrong.status_code == 401
        assert kept_of(wrong.text) == sealed
        await sign_in_again(client, wrong.text, cast.decision_maker.username, sealed)
        assert KEPT in (await client.get(f"/referrals/{case.id}")).text

    async def test_a_post_from_another_site_keeps_nothing(
        self, client: httpx.AsyncClient, cast: Cast, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await decide_too_late(
            client, sessions, cast.decision_maker, case, origin="https://evil.example"
        )
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/sign-in")
        assert not any(c.startswith("nrm_kept") for c in answer.headers.get_list("set-cookie"))


async def test_a_suspension_reason_comes_back_into_its_own_form(
    client: httpx.AsyncClient, cast: Cast, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The suspend form's control is named `reason`, as the withdrawal's is: what comes back
    goes into the suspend form only (its key on the page, `suspend_reason`)."""
    case = await file_case(client, cast.responder)
    csrf = await sign_in(client, cast.decision_maker.username)
    page = await client.get(f"/referrals/{case.id}")
    await idle(sessions)
    answer = await followed(
        client,
        await client.post(
            f"/referrals/{case.id}/suspend",
            data={"csrf_token": csrf, "version": version_of(page.text)}
            | {"reason": "She is missing."},
        ),
    )
    signed = await sign_in_again(
        client, answer.text, cast.decision_maker.username, kept_of(answer.text)
    )
    assert signed.status_code == 303
    back = (await client.get(f"/referrals/{case.id}")).text
    suspend = re.search(r'<textarea[^>]*id="suspend_reason"[^>]*>([^<]*)</textarea>', back)
    assert suspend is not None
    assert suspend.group(1).strip() == "She is missing."
    assert back.count("She is missing.") == 1  # not in the withdrawal's `reason` too


async def test_a_form_too_large_for_the_cookies_gets_the_sign_in_form_at_once(
    client: httpx.AsyncClient, cast: Cast, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Reasons that do not compress (12,000 random letters) are more than the cookies hold:
    the sign-in form comes at once (200), carrying them in its hidden field."""
    case = await file_case(client, cast.responder)
    csrf = await sign_in(client, cast.decision_maker.username)
    page = await client.get(f"/referrals/{case.id}")
    await idle(sessions)
    typed = "".join(secrets.choice(string.ascii_letters + " ") for _ in range(12_000))
    answer = await client.post(
        f"/referrals/{case.id}/decisions",
        data={"csrf_token": csrf, "version": version_of(page.text)}
        | {"stage": "reasonable_grounds", "outcome": "positive", "reasons": typed},
    )
    assert answer.status_code == 200
    assert NOTICE in answer.text
    # The page shown is the sign-in form: its language link is the sign-in form's, in Welsh.
    link = re.search(r'href="([^"]+)" hreflang="cy"', answer.text)
    assert link is not None
    welsh = urlsplit(html.unescape(link.group(1)))
    assert welsh.path == "/sign-in"
    assert parse_qsl(welsh.query) == [("next", f"/referrals/{case.id}"), ("lang", "cy")]
    signed = await sign_in_again(
        client, answer.text, cast.decision_maker.username, kept_of(answer.text)
    )
    assert signed.status_code == 303
    assert typed in (await client.get(f"/referrals/{case.id}")).text
