"""Administration of organisations and users: admins only, audited, no secrets returned."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.identity.roles import Role
from tests.factories import make_user

NEW_USER = {
    "username": "new-caseworker",
    "display_name": "New Caseworker",
    "password": "a-long-enough-password",
    "organisation": "bawso",
    "roles": ["first_responder"],
}
ADMIN_CALLS = [
    ("POST", "/api/v1/users", NEW_USER),
    ("PATCH", "/api/v1/users/00000000-0000-0000-0000-000000000001", {"active": False}),
    ("POST", "/api/v1/organisations", {"code": "x-org", "name": "X", "sector": "charity"}),
]


class TestAdminOnly:
    @pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
    @pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
    async def test_refuses_every_other_role_with_403(
        self,
        app: FastAPI,
        db: AsyncSession,
        client: httpx.AsyncClient,
        role: Role,
        method: str,
        path: str,
        body: dict[str, object],
    ) -> None:
        user = await make_user(app, db, role)
        response = await client.request(method, path, json=body, headers=user.headers)
        assert response.status_code == 403
        assert response.json()["type"] == "/problems/forbidden"


class TestCreateUser:
    async def test_creates_a_user_and_never_returns_the_password_or_its_hash(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        response = await client.post("/api/v1/users", json=NEW_USER, headers=admin.headers)
        assert response.status_code == 201
        body = response.json()
        assert body["username"] == "new-caseworker"
        assert body["organisation"]["code"] == "bawso"
        assert body["roles"] == ["first_responder"]
        text = response.text
        assert NEW_USER["password"] not in text
        assert "argon2" not in text
        assert "password" not in body

    async def test_audits_the_creation(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        response = await client.post("/api/v1/users", json=NEW_USER, headers=admin.headers)
        events = (
            await db.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "user.created", AuditEvent.actor_id == admin.id
                )
            )
        ).all()
        assert len(events) == 1
        assert events[0].track == "admin"
        assert events[0].changes["user_id"]["after"] == response.json()["id"]
        assert NEW_USER["password"] not in events[0].canonical

    async def test_taken_username_is_409(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        await client.post("/api/v1/users", json=NEW_USER, headers=admin.headers)
        again = await client.post("/api/v1/users", json=NEW_USER, headers=admin.headers)
        assert again.status_code == 409
        assert again.json()["type"] == "/problems/username-taken"

    async def test_password_shorter_than_12_characters_is_422(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        response = await client.post(
            "/api/v1/users", json={**NEW_USER, "password": "elevenchars"}, headers=admin.headers
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["password"]

    async def test_unknown_role_and_unknown_organisation_are_422(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        bad_role = await client.post(
            "/api/v1/users", json={**NEW_USER, "roles": ["overlord"]}, headers=admin.headers
        )
        bad_org = await client.post(
            "/api/v1/users", json={**NEW_USER, "organisation": "nope"}, headers=admin.headers
        )
        assert bad_role.status_code == bad_org.status_code == 422
        assert bad_role.json()["errors"][0]["field"] == "roles.0"
        assert bad_org.json()["errors"][0]["field"] == "organisation"


class TestUpdateUser:
    async def test_changes_roles_with_an_audited_before_and_after(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        user = await make_user(app, db, Role.DECISION_MAKER)
        response = await client.patch(
            f"/api/v1/users/{user.id}",
            json={"roles": ["senior_decision_maker"]},
            headers=admin.headers,
        )
        assert response.status_code == 200
        assert response.json()["roles"] == ["senior_decision_maker"]
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "user.updated"))
        assert event is not None
        assert event.changes["roles"] == {
            "before": ["decision_maker"],
            "after": ["senior_decision_maker"],
        }
        me = await client.get("/api/v1/me", headers=user.headers)
        assert me.json()["roles"] == ["senior_decision_maker"]

    async def test_unknown_user_is_404(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        response = await client.patch(
            "/api/v1/users/00000000-0000-0000-0000-000000000009",
            json={"active": False},
            headers=admin.headers,
        )
        assert response.status_code == 404

    async def test_an_empty_update_changes_and_records_nothing(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        user = await make_user(app, db, Role.DECISION_MAKER)
        for body in ({}, {"active": True}, {"roles": ["decision_maker"]}):
            response = await client.patch(
                f"/api/v1/users/{user.id}", json=body, headers=admin.headers
            )
            assert response.status_code == 200, response.text
            assert response.json()["roles"] == ["decision_maker"]
            assert response.json()["active"] is True
        updated = await db.scalar(select(AuditEvent).where(AuditEvent.action == "user.updated"))
        assert updated is None

    async def test_active_must_be_a_json_boolean(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        user = await make_user(app, db)
        for value in (0, "false", None):
            response = await client.patch(
                f"/api/v1/users/{user.id}", json={"active": value}, headers=admin.headers
            )
            assert response.status_code == 422, value


class TestOrganisations:
    async def test_lists_reference_data_in_pages(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
            page = (
                await client.get("/api/v1/organisations", params=params, headers=user.headers)
            ).json()
            seen += [o["code"] for o in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen))
        assert "all-wales-decision-unit" in seen
        assert "W06000015" in seen

    async def test_limit_outside_1_to_200_is_422(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        for limit in (0, 201):
            response = await client.get(
                "/api/v1/organisations", params={"limit": limit}, headers=user.headers
            )
            assert response.status_code == 422

    async def test_admin_creates_a_child_decision_panel(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        body = {
            "code": "swansea-child-panel",
            "name": "Swansea Child Panel",
            "sector": "decision_unit",
            "local_authority": "W06000011",
        }
        response = await client.post("/api/v1/organisations", json=body, headers=admin.headers)
        assert response.status_code == 201
        assert response.json()["local_authority"] == "W06000011"
        again = await client.post("/api/v1/organisations", json=body, headers=admin.headers)
        assert again.status_code == 409

    async def test_unknown_local_authority_is_422(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        body = {
            "code": "nowhere",
            "name": "Nowhere",
            "sector": "decision_unit",
            "local_authority": "W06000099",
        }
        response = await client.post("/api/v1/organisations", json=body, headers=admin.headers)
        assert response.status_code == 422
