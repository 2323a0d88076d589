"""Every error path answers RFC 9457 problem JSON, never a stack trace (API.md Conventions)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.identity.roles import Role
from app.problems import validation_error
from tests.factories import make_user

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"] == f"/problems/{slug}"
    assert "Traceback" not in response.text
    return body


@pytest.fixture
def failing_route(app: FastAPI) -> Iterator[str]:
    path = "/api/v1/__explode"

    async def explode() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route(path, explode)
    try:
        yield path
    finally:
        app.router.routes.pop()


class TestProblemFormat:
    async def test_malformed_json_is_400(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        response = await client.post(
            "/api/v1/users",
            content=b'{"username": ',
            headers={**admin.headers, "content-type": "application/json"},
        )
        assert_problem(response, 400, "malformed-body")

    async def test_malformed_json_without_a_token_is_401_first(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/v1/users", content=b"{", headers={"content-type": "application/json"}
        )
        assert_problem(response, 401, "not-authenticated")

    async def test_malformed_json_from_the_wrong_role_is_403_first(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db, Role.AUDITOR)
        response = await client.post(
            "/api/v1/users",
            content=b"{",
            headers={**user.headers, "content-type": "application/json"},
        )
        assert_problem(response, 403, "forbidden")

    async def test_validation_is_422_with_dotted_fields(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        response = await client.post("/api/v1/users", json={"username": "x"}, headers=admin.headers)
        body = assert_problem(response, 422, "validation-failed")
        fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
        assert {"username", "password", "organisation", "roles", "display_name"} <= fields

    async def test_unknown_field_is_422(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        response = await client.post(
            "/api/v1/organisations",
            json={"code": "c-1", "name": "N", "sector": "charity", "secter": "x"},
            headers=admin.headers,
        )
        body = assert_problem(response, 422, "validation-failed")
        assert body["errors"] == [  # type: ignore[comparison-overlap]
            {"field": "secter", "message": "Extra inputs are not permitted"}
        ]

    async def test_control_characters_are_422_but_newlines_and_tabs_are_text(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        bad = await client.post(
            "/api/v1/organisations",
            json={"code": "c-2", "name": "Bad\u0000Name", "sector": "charity"},
            headers=admin.headers,
        )
        assert_problem(bad, 422, "validation-failed")
        good = await client.post(
            "/api/v1/organisations",
            json={"code": "c-3", "name": "Line\nTab\tReturn\r", "sector": "charity"},
            headers=admin.headers,
        )
        assert good.status_code == 201

    async def test_403_for_a_role_that_may_never(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db, Role.FIRST_RESPONDER)
        assert_problem(
            await client.post("/api/v1/users", json={}, headers=user.headers), 403, "forbidden"
        )

    async def test_a_malformed_id_in_the_path_is_404_after_the_role_check(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        maker = await make_user(app, db, Role.DECISION_MAKER)
        for path in ("/api/v1/referrals/12345", "/api/v1/referrals/not-a-uuid/timeline"):
            assert_problem(await client.get(path, headers=maker.headers), 404, "not-found")
        response = await client.post(
            "/api/v1/referrals/x/decisions/y/review", json={}, headers=maker.headers
        )
        assert_problem(response, 403, "forbidden")  # a decision maker may never review
        assert_problem(await client.get("/api/v1/referrals/12345"), 401, "not-authenticated")

    async def test_unknown_route_is_404(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.get("/api/v1/no-such-thing"), 404, "not-found")

    async def test_wrong_method_is_405(self, client: httpx.AsyncClient) -> None:
        response = await client.delete("/healthz")
        assert_problem(response, 405, "method-not-allowed")
        assert "GET" in response.headers["allow"]

    async def test_body_over_the_limit_is_413(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        size = app.state.settings.max_body_bytes + 1
        response = await client.post(
            "/api/v1/auth/token",
            content=b"x" * size,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert_problem(response, 413, "payload-too-large")

    async def test_streamed_body_over_the_limit_is_413(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        chunk = b" " * 65536
        count = app.state.settings.max_body_bytes // len(chunk) + 2

        async def body() -> object:
            for _ in range(count):
                yield chunk

        response = await client.post(
            "/api/v1/organisations",
            content=body(),  # type: ignore[arg-type]
            headers={**admin.headers, "content-type": "application/json"},
        )
        assert_problem(response, 413, "payload-too-large")

    async def test_unexpected_error_is_a_bare_500(
        self, failing_route: str, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(failing_route)
        body = assert_problem(response, 500, "internal-error")
        assert "secret internal detail" not in response.text
        assert "RuntimeError" not in response.text
        assert body["request_id"] == response.headers["x-request-id"]


class TestRequestId:
    async def test_echoes_the_clients_request_id(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        assert response.headers["x-request-id"] == "abc-123"

    async def test_echoes_any_visible_ascii_up_to_128_characters(
        self, client: httpx.AsyncClient
    ) -> None:
        for sent in ("has space, comma+plus=eq", "dGVzdA==/+", "x" * 128):
            response = await client.get("/healthz", headers={"X-Request-ID": sent})
            assert response.headers["x-request-id"] == sent

    async def test_replaces_what_it_cannot_keep(self, client: httpx.AsyncClient) -> None:
        for sent in ("x" * 129, " leading", "trailing ", "tab\there"):
            response = await client.get("/healthz", headers={"X-Request-ID": sent})
            assert response.headers["x-request-id"] != sent
            uuid.UUID(response.headers["x-request-id"])

    async def test_makes_one_when_the_client_sent_none(self, client: httpx.AsyncClient) -> None:
        first = (await client.get("/healthz")).headers["x-request-id"]
        second = (await client.get("/healthz")).headers["x-request-id"]
        assert first
        assert second
        assert first != second

    async def test_errors_carry_it_too(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/me", headers={"X-Request-ID": "trace-9"})
        assert response.headers["x-request-id"] == "trace-9"
        assert response.json()["request_id"] == "trace-9"


class TestValidationMessages:
    def test_a_validators_sentence_reaches_the_person_without_pydantics_prefix(self) -> None:
        error = validation_error(
            RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("body", "active"),
                        "msg": "Value error, active may be left out, but not sent as null",
                        "input": None,
                    }
                ]
            )
        )

        assert [(e.field, e.message) for e in error.errors] == [
            ("active", "active may be left out, but not sent as null")
        ]
