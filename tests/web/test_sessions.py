"""Sessions and safety (WEB.md): sign-in as /auth/token, server-side sessions, CSRF, headers."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.identity.roles import Role
from app.web.models import WebSession
from tests.factories import AppUser, make_user
from tests.web.conftest import SignedIn
from tests.web.helpers import csrf_of, sign_in


async def _events(db: AsyncSession, action: str) -> int:
    count = await db.scalar(select(func.count()).where(AuditEvent.action == action))
    return int(count or 0)


async def idle_past_the_limit(db: AsyncSession) -> None:
    """Make the one session idle for 31 minutes of real time (the default limit is 30)."""
    row = await db.scalar(select(WebSession))
    assert row is not None
    await db.execute(
        update(WebSession).values(last_seen_at=row.last_seen_at - timedelta(minutes=31))
    )
    await db.commit()


class TestSignIn:
    async def test_a_page_sends_the_signed_out_to_sign_in_with_the_way_back(
        self, client: httpx.AsyncClient
    ) -> None:
        answer = await client.get("/referrals/new")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/sign-in?next=/referrals/new"

    async def test_signing_in_sets_an_http_only_lax_cookie_and_returns_to_the_page(
        self, client: httpx.AsyncClient, responder: AppUser, db: AsyncSession
    ) -> None:
        form = await client.get("/sign-in?next=/referrals/new")
        answer = await client.post(
            "/sign-in",
            data={
                "username": responder.username,
                "password": "correct-horse-battery-staple",
                "csrf_token": csrf_of(form.text),
                "next": "/referrals/new",
            },
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/referrals/new"
        cookie = next(c for c in answer.headers.get_list("set-cookie") if "nrm_session=" in c)
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        assert await _events(db, "auth.login_succeeded") == 1

    async def test_a_wrong_password_is_refused_and_audited_as_the_api_does(
        self, client: httpx.AsyncClient, responder: AppUser, db: AsyncSession
    ) -> None:
        form = await client.get("/sign-in")
        answer = await client.post(
            "/sign-in",
            data={
                "username": responder.username,
                "password": "nope",
                "csrf_token": csrf_of(form.text),
            },
        )
        assert answer.status_code == 401
        assert "The username or the password is wrong." in answer.text
        assert responder.username in answer.text
        assert await _events(db, "auth.login_failed") == 1

    async def test_next_never_leads_to_another_site(
        self, client: httpx.AsyncClient, responder: AppUser
    ) -> None:
        form = await client.get("/sign-in")
        answer = await client.post(
            "/sign-in",
            data={
                "username": responder.username,
                "password": "correct-horse-battery-staple",
                "csrf_token": csrf_of(form.text),
                "next": "//evil.example/",
            },
        )
        assert answer.headers["location"] == "/"

    async def test_sign_in_with_the_two_fields_alone_signs_in(
        self, client: httpx.AsyncClient, responder: AppUser
    ) -> None:
        # WEB.md names the form's fields `username` and `password`; before any session there
        # is no session token, and a browser's cross-site POST carries an Origin (below).
        answer = await client.post(
            "/sign-in",
            data={"username": responder.username, "password": "correct-horse-battery-staple"},
        )
        assert answer.status_code == 303
        assert client.cookies.get("nrm_session")

    async def test_the_two_fields_alone_sign_in_after_a_look_at_the_form_too(
        self, client: httpx.AsyncClient, responder: AppUser
    ) -> None:
        # A client that opened the form (and so holds its cookie) but posts only the two named
        # fields is taken as /auth/token takes it: the same rule with the cookie or without.
        await client.get("/sign-in")
        answer = await client.post(
            "/sign-in",
            data={"username": responder.username, "password": "correct-horse-battery-staple"},
        )
        assert answer.status_code == 303
        assert client.cookies.get("nrm_session")

    async def test_next_may_come_in_the_address_the_form_is_posted_to(
        self, client: httpx.AsyncClient, responder: AppUser
    ) -> None:
        answer = await client.post(
            "/sign-in?next=/referrals",
            data={"username": responder.username, "password": "correct-horse-battery-staple"},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/referrals"

    async def test_next_in_the_address_is_a_local_path_only(
        self, client: httpx.AsyncClient, responder: AppUser
    ) -> None:
        answer = await client.post(
            "/sign-in?next=//evil.example/",
            data={"username": responder.username, "password": "correct-horse-battery-staple"},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/"

    @pytest.mark.parametrize(
        ("fields", "missing"),
        [
            ({"username": "", "password": ""}, ["username", "password"]),
            ({"username": "someone", "password": ""}, ["password"]),
            ({"password": "correct-horse-battery-staple"}, ["username"]),
        ],
    )
    async def test_an_empty_field_is_422_by_its_field_and_counts_no_attempt(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        fields: dict[str, str],
        missing: list[str],
    ) -> None:
        answer = await client.post("/sign-in", data=fields)
        assert answer.status_code == 422
        for name in missing:
            assert f'href="#{name}"' in answer.text
        assert "Enter your" in answer.text
        assert not client.cookies.get("nrm_session")
        attempts = await db.scalars(select(AuditEvent).where(AuditEvent.action.like("auth.%")))
        assert attempts.all() == []

    async def test_sign_in_with_a_wrong_csrf_token_is_403(
        self, client: httpx.AsyncClient, responder: AppUser
    ) -> None:
        await client.get("/sign-in")  # sets the sign-in cookie the token must match
        answer = await client.post(
            "/sign-in",
            data={
                "username": responder.username,
                "password": "correct-horse-battery-staple",
                "csrf_token": "forged",
            },
        )
        assert answer.status_code == 403
        assert not client.cookies.get("nrm_session")

    async def test_sign_in_from_another_site_is_403(
        self, client: httpx.AsyncClient, responder: AppUser
    ) -> None:
        answer = await client.post(
            "/sign-in",
            data={"username": responder.username, "password": "correct-horse-battery-staple"},
            headers={"Origin": "https://evil.example"},
        )
        assert answer.status_code == 403
        assert not client.cookies.get("nrm_session")


class TestSessionEnd:
    async def test_a_signed_out_session_cookie_is_refused_afterwards(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        cookie = client.cookies.get("nrm_session")
        answer = await client.post("/sign-out", data={"csrf_token": signed_in.csrf})
        assert answer.status_code == 303
        [cleared] = [c for c in answer.headers.get_list("set-cookie") if "nrm_session=" in c]
        assert "Max-Age=0" in cleared  # removed with the attributes every cookie has
        assert "HttpOnly" in cleared
        assert "SameSite=lax" in cleared
        client.cookies.set("nrm_session", cookie or "")
        again = await client.get("/me")
        assert again.status_code == 303
        assert again.headers["location"].startswith("/sign-in")

    async def test_a_session_idle_past_the_limit_ends(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        del signed_in
        await idle_past_the_limit(db)
        answer = await client.get("/me")
        assert answer.status_code == 303


class TestTestClock:
    """A session ends by real time only: moving the service's clock (NRM_TEST_CLOCK) either way
    never ends it nor keeps it alive, as with API tokens (docs/operations.md "Sessions")."""

    async def _move_clock(self, client: httpx.AsyncClient, user: AppUser, days: int) -> None:
        answer = await client.post(
            "/api/v1/test-clock", json={"advance_days": days}, headers=user.headers
        )
        assert answer.status_code == 200, answer.text

    async def _still_signed_in(self, client: httpx.AsyncClient, user: AppUser) -> None:
        home = await client.get("/")
        assert home.status_code == 200, home.headers.get("location")
        me = await client.get("/me")
        assert me.status_code == 200, me.headers.get("location")
        assert user.username in me.text

    async def test_moving_the_clock_far_forward_keeps_the_session(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        await self._move_clock(client, signed_in.user, 400)  # far past 30 idle minutes
        await self._still_signed_in(client, signed_in.user)
        assert await db.scalar(select(func.count()).select_from(WebSession)) == 1

    async def test_moving_the_clock_backwards_keeps_the_session(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        await self._move_clock(client, signed_in.user, -400)
        await self._still_signed_in(client, signed_in.user)

    async def test_signing_in_on_a_moved_clock_keeps_the_others_sessions(
        self, client: httpx.AsyncClient, signed_in: SignedIn, app: FastAPI, db: AsyncSession
    ) -> None:
        # Each sign-in deletes the idle sessions: idle by real time, not the service's.
        await self._move_clock(client, signed_in.user, 400)
        other = await make_user(app, db, Role.FIRST_RESPONDER)
        transport = httpx.ASGITransport(app=app)  # another browser on the same app
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as theirs:
            await sign_in(theirs, other.username)
        await self._still_signed_in(client, signed_in.user)

    async def test_on_a_moved_clock_a_session_still_ends_when_real_time_passes_its_limit(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        await self._move_clock(client, signed_in.user, -400)
        await self._still_signed_in(client, signed_in.user)
        await idle_past_the_limit(db)
        answer = await client.get("/me")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/sign-in")


class TestCsrf:
    async def test_a_changing_form_without_the_token_is_403_and_changes_nothing(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        del signed_in
        before = await _events(db, "user.updated")
        answer = await client.post("/me", data={"language": "cy", "csrf_token": "forged"})
        assert answer.status_code == 403
        assert await _events(db, "user.updated") == before

    async def test_a_form_from_another_origin_is_403(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        answer = await client.post(
            "/me",
            data={"language": "cy", "csrf_token": signed_in.csrf},
            headers={"Origin": "https://evil.example"},
        )
        assert answer.status_code == 403


class TestHeaders:
    async def test_every_page_has_the_security_headers(self, client: httpx.AsyncClient) -> None:
        for path in ("/", "/sign-in", "/no-such-page"):
            answer = await client.get(path)
            policy = answer.headers["content-security-policy"]
            assert "unsafe-inline" not in policy
            assert "frame-ancestors 'none'" in policy
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["referrer-policy"] == "same-origin"

    async def test_pages_with_personal_data_are_not_stored(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        del signed_in
        assert (await client.get("/referrals/new")).headers["cache-control"] == "no-store"

    async def test_the_api_keeps_its_own_headers(self, client: httpx.AsyncClient) -> None:
        answer = await client.get("/api/v1/me")
        assert "content-security-policy" not in answer.headers

    async def test_a_missing_page_is_an_html_404(self, client: httpx.AsyncClient) -> None:
        answer = await client.get("/no-such-page")
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")

    async def test_pages_are_not_in_the_openapi_document(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert not any(p in paths for p in ("/", "/sign-in", "/referrals/new", "/me"))


class TestRoles:
    async def test_a_page_the_role_may_never_use_is_403(
        self, client: httpx.AsyncClient, app: object, db: AsyncSession
    ) -> None:
        from app.identity.roles import Role
        from tests.factories import make_user

        auditor = await make_user(app, db, Role.AUDITOR)  # type: ignore[arg-type]
        await sign_in(client, auditor.username)
        assert (await client.get("/referrals/new")).status_code == 403


class TestAccount:
    async def test_saving_no_language_is_422_by_its_field(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        answer = await client.post("/me", data={"csrf_token": signed_in.csrf})
        assert answer.status_code == 422
        assert '<a href="#language">' in answer.text
