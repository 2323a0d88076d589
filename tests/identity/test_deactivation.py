"""Deactivation is final for a user's tokens, and the last active admin stays (docs/errors.md)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.identity import service
from app.identity.models import User, UserRole
from app.identity.roles import Role
from tests.databases import Backend
from tests.factories import PASSWORD, AppUser, make_user


async def _patch(
    client: httpx.AsyncClient, admin: AppUser, user: AppUser, body: dict[str, object]
) -> httpx.Response:
    return await client.patch(f"/api/v1/users/{user.id}", json=body, headers=admin.headers)


async def _sign_in(client: httpx.AsyncClient, user: AppUser) -> str:
    response = await client.post(
        "/api/v1/auth/token", data={"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


class TestTokensAfterDeactivation:
    async def test_a_reactivated_users_old_tokens_stay_refused(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        user = await make_user(app, db)
        signed_in = {"Authorization": f"Bearer {await _sign_in(client, user)}"}
        assert (await _patch(client, admin, user, {"active": False})).status_code == 200
        assert (await _patch(client, admin, user, {"active": True})).status_code == 200
        for headers in (user.headers, signed_in):
            old = await client.get("/api/v1/me", headers=headers)
            assert old.status_code == 401
            assert old.json()["type"] == "/problems/not-authenticated"
            assert "sign in again" in old.json()["detail"]
        fresh = {"Authorization": f"Bearer {await _sign_in(client, user)}"}
        assert (await client.get("/api/v1/me", headers=fresh)).status_code == 200

    async def test_a_role_change_keeps_the_users_tokens(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        user = await make_user(app, db, Role.DECISION_MAKER)
        changed = await _patch(client, admin, user, {"roles": ["senior_decision_maker"]})
        assert changed.status_code == 200
        assert (await client.get("/api/v1/me", headers=user.headers)).status_code == 200


class TestLastAdmin:
    @pytest.mark.parametrize("body", [{"active": False}, {"roles": ["auditor"]}])
    async def test_the_last_active_admin_can_be_neither_deactivated_nor_demoted(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient, body: dict[str, object]
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        response = await _patch(client, admin, admin, body)
        assert response.status_code == 409, response.text
        assert response.json()["type"] == "/problems/last-admin"
        assert "another user an administrator" in response.json()["detail"]
        me = await client.get("/api/v1/me", headers=admin.headers)
        assert me.status_code == 200
        assert me.json()["roles"] == ["admin"]
        assert (
            await db.scalar(select(AuditEvent).where(AuditEvent.action == "user.updated")) is None
        )

    async def test_an_admin_may_go_while_another_active_admin_remains(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        first, second = await make_user(app, db, Role.ADMIN), await make_user(app, db, Role.ADMIN)
        assert (await _patch(client, first, second, {"active": False})).status_code == 200
        last = await _patch(client, first, first, {"roles": ["auditor"]})
        assert last.status_code == 409
        assert last.json()["type"] == "/problems/last-admin"

    async def test_an_inactive_admin_does_not_count(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        first, second = await make_user(app, db, Role.ADMIN), await make_user(app, db, Role.ADMIN)
        assert (await _patch(client, first, second, {"active": False})).status_code == 200
        assert (await _patch(client, first, first, {"active": False})).status_code == 409
        # An inactive admin may be changed freely: they hold nothing anyone relies on.
        assert (await _patch(client, first, second, {"roles": ["auditor"]})).status_code == 200


@pytest.mark.committing
async def _two_admins_held_at_the_check(
    app: FastAPI, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> tuple[AppUser, AppUser]:
    """Two admins; on PostgreSQL both requests are held until both are past their checks,
    before either locks (SQLite serialises whole transactions anyway)."""
    async with app.state.sessionmaker() as session:
        first = await make_user(app, session, Role.ADMIN)
        second = await make_user(app, session, Role.ADMIN)
    if backend.name == "postgresql":
        barrier = asyncio.Barrier(2)
        real = service._refuse_removing_the_last_admin

        async def held(*args: object) -> None:
            async with asyncio.timeout(10):
                await barrier.wait()
            await real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(service, "_refuse_removing_the_last_admin", held)
    return first, second


@pytest.mark.slow
class TestTwoAdminsRemovingEachOther:
    async def test_one_of_them_is_refused_deactivating(
        self,
        committed_app: FastAPI,
        committed_client: httpx.AsyncClient,
        backend: Backend,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        first, second = await _two_admins_held_at_the_check(committed_app, backend, monkeypatch)
        c = committed_client
        responses = await asyncio.gather(
            _patch(c, first, second, {"active": False}), _patch(c, second, first, {"active": False})
        )
        statuses = sorted(r.status_code for r in responses)
        # PostgreSQL: both are signed in and past their checks, and the lock makes one lose;
        # SQLite serialises them, so the second is no longer signed in at all.
        assert statuses == ([200, 409] if backend.name == "postgresql" else [200, 401]), [
            r.text for r in responses
        ]
        async with committed_app.state.sessionmaker() as session:
            active = await session.scalars(
                select(User.username).where(User.id.in_([first.id, second.id]), User.is_active)
            )
            assert len(active.all()) == 1

    async def test_one_of_them_is_refused_demoting(
        self,
        committed_app: FastAPI,
        committed_client: httpx.AsyncClient,
        backend: Backend,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # A role change writes user_roles, not users: the admins' set must be read again
        # after the locks, or both see the other still an admin and both succeed.
        first, second = await _two_admins_held_at_the_check(committed_app, backend, monkeypatch)
        c = committed_client
        demote = {"roles": ["auditor"]}
        responses = await asyncio.gather(
            _patch(c, first, second, demote), _patch(c, second, first, demote)
        )
        statuses = sorted(r.status_code for r in responses)
        # SQLite serialises them: the second admin is no longer an admin (403).
        assert statuses == ([200, 409] if backend.name == "postgresql" else [200, 403]), [
            r.text for r in responses
        ]
        async with committed_app.state.sessionmaker() as session:
            admins = await session.scalars(
                select(UserRole.user_id).where(
                    UserRole.user_id.in_([first.id, second.id]), UserRole.role == "admin"
                )
            )
            assert len(admins.all()) == 1
