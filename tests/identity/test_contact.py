"""Users' e-mail and language, and organisations' shared mailboxes (CASEWORK "Users' contact
details and language"): set by admins, shown on `/me`, changed by the user on `PATCH /me`."""

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


class TestUsers:
    async def test_an_admin_creates_and_changes_a_users_email_and_language(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        body = {**NEW_USER, "email": "caseworker@bawso.example.org.uk", "language": "cy"}
        created = await client.post("/api/v1/users", json=body, headers=admin.headers)
        assert created.status_code == 201, created.text
        assert created.json()["email"] == "caseworker@bawso.example.org.uk"
        assert created.json()["language"] == "cy"
        changed = await client.patch(
            f"/api/v1/users/{created.json()['id']}",
            json={"email": None, "language": "en"},
            headers=admin.headers,
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["email"], changed.json()["language"]) == (None, "en")
        event = await db.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "user.updated", AuditEvent.actor_id == admin.id)
            .order_by(AuditEvent.seq.desc())
        )
        assert event is not None
        assert event.changes["email"] == {"before": True, "after": False}  # never the address
        assert "bawso.example" not in str(event.changes)

    async def test_a_user_left_without_either_has_no_address_and_english_by_default(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        created = await client.post("/api/v1/users", json=NEW_USER, headers=admin.headers)
        assert (created.json()["email"], created.json()["language"]) == (None, "en")

    @pytest.mark.parametrize(
        "email", ["not-an-address", "two@@example.org", "a b@example.org", "x@y.org\r\nBcc: z@z"]
    )
    async def test_an_address_that_is_none_is_422(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient, email: str
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        response = await client.post(
            "/api/v1/users", json={**NEW_USER, "email": email}, headers=admin.headers
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["email"]

    async def test_a_language_other_than_en_or_cy_is_422(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        response = await client.post(
            "/api/v1/users", json={**NEW_USER, "language": "fr"}, headers=admin.headers
        )
        assert response.status_code == 422


class TestMe:
    async def test_a_user_sets_their_own_email_and_language_and_me_shows_them(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db, Role.DECISION_MAKER)
        response = await client.patch(
            "/api/v1/me",
            json={"email": "me@unit.example.org.uk", "language": "cy"},
            headers=user.headers,
        )
        assert response.status_code == 200, response.text
        me = (await client.get("/api/v1/me", headers=user.headers)).json()
        assert (me["email"], me["language"]) == ("me@unit.example.org.uk", "cy")
        only_language = await client.patch(
            "/api/v1/me", json={"language": "en"}, headers=user.headers
        )
        assert only_language.json()["email"] == "me@unit.example.org.uk"
        removed = await client.patch("/api/v1/me", json={"email": None}, headers=user.headers)
        assert (removed.json()["email"], removed.json()["language"]) == (None, "en")

    async def test_language_cannot_be_sent_as_null(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db, Role.DECISION_MAKER)
        response = await client.patch("/api/v1/me", json={"language": None}, headers=user.headers)
        assert response.status_code == 422


class TestOrganisationMailbox:
    async def test_created_changed_and_read_with_its_mailbox(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        body = {"code": "x-org", "name": "X", "sector": "charity", "email": "team@x.example.org"}
        created = await client.post("/api/v1/organisations", json=body, headers=admin.headers)
        assert created.status_code == 201, created.text
        assert created.json()["email"] == "team@x.example.org"
        changed = await client.patch(
            "/api/v1/organisations/x-org",
            json={"email": "desk@x.example.org"},
            headers=admin.headers,
        )
        assert changed.status_code == 200, changed.text
        listed = await client.get(
            "/api/v1/organisations", params={"limit": 200}, headers=admin.headers
        )
        [row] = [o for o in listed.json()["items"] if o["code"] == "x-org"]
        assert row["email"] == "desk@x.example.org"
        events = await db.scalars(
            select(AuditEvent).where(AuditEvent.action == "organisation.updated")
        )
        assert [e.changes["email"] for e in events] == [{"before": True, "after": True}]

    async def test_only_admins_change_it_and_an_unknown_code_is_404(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        other = await make_user(app, db, Role.SENIOR_DECISION_MAKER)
        path = "/api/v1/organisations/all-wales-decision-unit"
        refused = await client.patch(path, json={"email": "a@b.org"}, headers=other.headers)
        assert refused.status_code == 403
        missing = await client.patch(
            "/api/v1/organisations/no-such-org", json={"email": "a@b.org"}, headers=admin.headers
        )
        assert missing.status_code == 404
