"""The signed-in user is read once per request, in one statement (issue 11, item 5).

Before, `GET /me` ran six queries: the user, their roles and their organisation for the bearer
token, then the same three again for the answer. Now the token's check reads the user with
their organisation and roles in one statement, keeps the row for the rest of the request, and
`/me` answers from it. These tests fail if someone adds a query to that path.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.identity.roles import Role
from tests.factories import make_user
from tests.statements import counted, shown

ME_STATEMENTS = 1
"""What `GET /me` runs: the user joined with their organisation and roles (it was 6)."""


class TestMe:
    async def test_me_runs_one_statement(
        self, app: FastAPI, engine: AsyncEngine, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(
            app, db, Role.DECISION_MAKER, Role.PANEL_MEMBER, organisation="gwent-police"
        )
        with counted(engine) as statements:
            response = await client.get("/api/v1/me", headers=user.headers)
        assert response.status_code == 200
        assert len(statements) <= ME_STATEMENTS, shown(statements)
        body = response.json()
        assert body["id"] == str(user.id)
        assert body["roles"] == ["decision_maker", "panel_member"]
        assert body["organisation"]["code"] == "gwent-police"
        assert set(body["organisation"]) == {"code", "name", "name_cy", "sector"}
        assert body["active"] is True

    async def test_a_refused_token_costs_one_statement_at_most(
        self, app: FastAPI, engine: AsyncEngine, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db, Role.FIRST_RESPONDER)
        with counted(engine) as statements:
            assert (await client.get("/api/v1/me")).status_code == 401
            bad = {"Authorization": "Bearer not-a-token"}
            assert (await client.get("/api/v1/me", headers=bad)).status_code == 401
        assert statements == []  # refused before any query
        with counted(engine) as statements:
            forbidden = await client.get("/api/v1/audit/events", headers=user.headers)
        assert forbidden.status_code == 403
        assert len(statements) <= 1, shown(statements)


class TestOncePerRequest:
    @pytest.mark.parametrize(
        "path", ["/api/v1/me", "/api/v1/organisations", "/api/v1/referrals", "/api/v1/queue"]
    )
    async def test_the_user_and_their_roles_are_read_once(
        self,
        app: FastAPI,
        engine: AsyncEngine,
        db: AsyncSession,
        client: httpx.AsyncClient,
        path: str,
    ) -> None:
        user = await make_user(app, db, Role.DECISION_MAKER)
        with counted(engine) as statements:
            response = await client.get(path, headers=user.headers)
        assert response.status_code == 200, response.text
        reads_of_roles = [s for s in statements if "user_roles" in s]
        assert len(reads_of_roles) == 1, shown(statements)
