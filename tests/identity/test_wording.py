"""Identity's refusals say what the person can do, in words: never a permission's or a
function's internal name (docs/errors.md)."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.identity.permissions import DESCRIPTIONS, Permission, refusal
from app.identity.roles import Role
from tests.factories import make_user

INTERNAL = re.compile(r"[a-z]+[:_][a-z]+")


class TestPermissionWords:
    def test_every_permission_is_described_in_plain_words(self) -> None:
        assert set(DESCRIPTIONS) == set(Permission)
        for permission in Permission:
            sentence = refusal(permission)
            assert sentence.startswith("Your roles do not allow you to ")
            assert sentence.endswith(".")
            assert not INTERNAL.search(sentence), sentence

    async def test_the_403_of_the_role_gate_is_a_sentence(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        responder = await make_user(app, db, Role.FIRST_RESPONDER)
        response = await client.get("/api/v1/queue", headers=responder.headers)
        assert response.status_code == 403
        assert response.json()["type"] == "/problems/forbidden"
        assert response.json()["detail"] == "Your roles do not allow you to see the queue of work."


class TestOtherRefusals:
    @pytest.mark.parametrize(
        ("headers", "phrase"),
        [({}, "Sign in first"), ({"Authorization": "Bearer nonsense"}, "sign in again")],
    )
    async def test_a_missing_or_bad_token_says_to_sign_in(
        self, client: httpx.AsyncClient, headers: dict[str, str], phrase: str
    ) -> None:
        response = await client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert phrase in response.json()["detail"]

    async def test_a_wrong_password_says_so(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/auth/token", data={"username": "nobody-here", "password": "x" * 12}
        )
        assert response.json()["detail"] == "The username or the password is wrong."

    async def test_organisation_and_user_refusals_are_sentences(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        body = {"code": "bawso", "name": "Again", "sector": "charity"}
        taken = await client.post("/api/v1/organisations", json=body, headers=admin.headers)
        assert taken.status_code == 409
        assert taken.json()["detail"].endswith("already exists: choose another code.")
        nowhere = {**body, "code": "nowhere", "local_authority": "W06000099"}
        unknown = await client.post("/api/v1/organisations", json=nowhere, headers=admin.headers)
        assert unknown.json()["errors"][0]["message"].startswith("Not the ONS code")
        missing = await client.patch(
            "/api/v1/users/00000000-0000-0000-0000-000000000009",
            json={"active": False},
            headers=admin.headers,
        )
        assert missing.json()["detail"] == "There is no user with this id."
        repeated = await client.patch(
            f"/api/v1/users/{admin.id}", json={"roles": ["admin", "admin"]}, headers=admin.headers
        )
        assert repeated.json()["errors"] == [
            {"field": "roles", "message": "Each role may be listed only once."}
        ]
