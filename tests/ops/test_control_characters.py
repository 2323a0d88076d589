"""Control characters in a path or a query parameter are 422, for every route at once
(app/middleware.py; API.md "Text"). Issue 9, item 5: a NUL byte in an `/audit/events` filter
reached PostgreSQL, which cannot compare text holding NUL, and answered 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.identity.roles import Role
from app.schemas import CONTROL_CHARACTERS_REFUSED
from tests.databases import Backend
from tests.factories import AppUser, make_user
from tests.ops.test_problems import assert_problem


@pytest.fixture
async def auditor(app: FastAPI, db: AsyncSession) -> AppUser:
    return await make_user(app, db, Role.AUDITOR)


class TestControlCharacters:
    @pytest.mark.parametrize("field", ["action", "organisation"])
    @pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f"])
    async def test_in_an_audit_filter_are_422_on_that_filter(
        self, client: httpx.AsyncClient, auditor: AppUser, field: str, character: str
    ) -> None:
        response = await client.get(
            "/api/v1/audit/events",
            params={field: f"user{character}.created"},
            headers=auditor.headers,
        )

        body = assert_problem(response, 422, "validation-failed")
        assert body["errors"] == [{"field": field, "message": CONTROL_CHARACTERS_REFUSED}]

    async def test_in_any_query_parameter_are_refused_before_the_route_reads_it(
        self, client: httpx.AsyncClient, auditor: AppUser
    ) -> None:
        # `by` is a vocabulary and `unknown` no parameter at all: neither reaches a query.
        response = await client.get(
            "/api/v1/statistics/referrals?by=gender%00&unknown=%00&from=2026-01-01",
            headers=auditor.headers,
        )

        assert_problem(response, 422, "validation-failed")
        assert [e["field"] for e in response.json()["errors"]] == ["by", "unknown"]

    async def test_in_the_path_are_422_even_without_a_token(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/v1/organisations/bawso%00")

        body = assert_problem(response, 422, "validation-failed")
        assert body["errors"] == [{"field": "path", "message": CONTROL_CHARACTERS_REFUSED}]
        assert body["instance"] == "/api/v1/organisations/bawso%00"  # escaped, never raw
        assert response.headers["X-Request-ID"]

    @pytest.mark.parametrize("character", ["\t", "\n", "\r", "é", "\u200b"])
    async def test_leave_tab_newline_and_printable_text_alone(
        self, client: httpx.AsyncClient, auditor: AppUser, character: str
    ) -> None:
        response = await client.get(
            "/api/v1/audit/events",
            params={"organisation": f"a{character}b"},
            headers=auditor.headers,
        )

        assert response.status_code == 200, response.text
        assert response.json()["items"] == []


class TestNulElsewhere:
    async def test_a_nul_in_a_form_field_is_never_a_500(
        self, client: httpx.AsyncClient, backend: Backend
    ) -> None:
        # Found by fuzzing: the log-in form's username reached PostgreSQL with its NUL.
        response = await client.post(
            "/api/v1/auth/token", data={"username": "someone\x00else", "password": "x"}
        )

        if backend.name == "postgresql":  # psycopg cannot even send it: refused as input
            assert_problem(response, 422, "validation-failed")
        else:  # SQLite stores and compares it: no such user
            assert_problem(response, 401, "invalid-credentials")
