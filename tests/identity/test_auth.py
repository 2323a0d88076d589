"""Sign-in, tokens and `/me` (API.md "Auth and identity")."""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.clock import real_now
from app.identity.roles import Role
from tests.factories import PASSWORD, make_user


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


class TestToken:
    async def test_issues_a_bearer_token_that_opens_me(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db, Role.FIRST_RESPONDER, organisation="gwent-police")
        response = await _login(client, user.username, PASSWORD)
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == app.state.settings.token_ttl_minutes * 60
        me = await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
        assert me.status_code == 200
        assert me.json()["username"] == user.username
        assert me.json()["organisation"]["code"] == "gwent-police"
        assert me.json()["organisation"]["sector"] == "police"
        assert me.json()["roles"] == ["first_responder"]

    async def test_bad_password_and_unknown_user_get_the_same_401(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        wrong = await _login(client, user.username, "not-the-password-at-all")
        unknown = await _login(client, "nobody-by-this-name", PASSWORD)
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == {**unknown.json(), "request_id": wrong.json()["request_id"]}
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert wrong.headers["content-type"] == "application/problem+json"

    async def test_refused_log_in_is_audited_without_the_password(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        await _login(client, user.username, "a-wrong-password-123")
        events = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
        ).all()
        assert [e.actor_id for e in events] == [user.id]
        assert "a-wrong-password-123" not in events[0].canonical

    async def test_too_many_failures_are_429_until_the_window_passes(
        self,
        app: FastAPI,
        db: AsyncSession,
        client: httpx.AsyncClient,
    ) -> None:
        limits = {"login_failures_allowed": 3, "login_failure_window_minutes": 15}
        saved = app.state.settings
        app.state.settings = saved.model_copy(update=limits)
        try:
            await self._throttling(app, db, client)
        finally:
            app.state.settings = saved

    async def _throttling(self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient) -> None:
        user, other = await make_user(app, db), await make_user(app, db)
        for _ in range(3):
            assert (await _login(client, user.username, "wrong-password-1")).status_code == 401
        refused = await _login(client, user.username, PASSWORD)  # even the right password
        assert refused.status_code == 429
        assert refused.json()["type"] == "/problems/too-many-requests"
        assert 1 <= int(refused.headers["retry-after"]) <= 15 * 60
        throttled = await db.scalars(
            select(AuditEvent.actor_id).where(AuditEvent.action == "auth.login_throttled")
        )
        assert throttled.all() == [user.id]
        assert (await _login(client, other.username, PASSWORD)).status_code == 200
        moved = await client.post(
            "/api/v1/test-clock", json={"advance_days": 1}, headers=other.headers
        )
        assert moved.status_code == 200
        assert (await _login(client, user.username, PASSWORD)).status_code == 200

    async def test_successful_log_in_is_audited(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        await _login(client, user.username, PASSWORD)
        actions = (
            await db.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user.id))
        ).all()
        assert "auth.login_succeeded" in actions

    async def test_expired_token_is_401(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        past = real_now() - timedelta(hours=2)
        token = jwt.encode(
            {"sub": str(user.id), "iat": past, "exp": past + timedelta(minutes=30)},
            app.state.settings.secret_key,
            algorithm="HS256",
        )
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["type"] == "/problems/not-authenticated"

    async def test_token_signed_with_another_key_is_401(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        forged = jwt.encode(
            {"sub": str(user.id), "exp": real_now() + timedelta(minutes=5)},
            "another-key-entirely-of-enough-length",
            algorithm="HS256",
        )
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401

    async def test_no_token_is_401_with_www_authenticate(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/me")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    async def test_deactivated_users_token_stops_working_at_once(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        user = await make_user(app, db)
        assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200
        patched = await client.patch(
            f"/api/v1/users/{user.id}", json={"active": False}, headers=admin.headers
        )
        assert patched.status_code == 200
        assert patched.json()["active"] is False
        assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 401
        assert (await _login(client, user.username, PASSWORD)).status_code == 401

    async def test_token_expiry_ignores_the_test_clock(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        moved = await client.post(
            "/api/v1/test-clock", json={"advance_days": 30}, headers=user.headers
        )
        assert moved.status_code == 200
        assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200
