"""The API's own documents (issue 9, item 14): `/docs` works offline, and
`/openapi.json` describes every operation, its problem answers and where `If-Match` is required.

No database is touched: the app is built on an address that cannot be reached.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.databases import settings_for

PROBLEM = {"$ref": "#/components/schemas/Problem"}
METHODS = {"get", "put", "post", "patch", "delete"}
COMMANDS = "/api/v1/referrals/{referral_id}/"
# API.md: every command that changes a referral requires If-Match.
NEEDS_IF_MATCH = {
    f"{COMMANDS}decisions",
    f"{COMMANDS}decisions/{{decision_id}}/review",
    f"{COMMANDS}reconsideration-requests",
    f"{COMMANDS}reconsideration-requests/{{request_id}}/decision",
    f"{COMMANDS}withdraw",
    f"{COMMANDS}suspend",
    f"{COMMANDS}resume",
    f"{COMMANDS}assign",
    f"{COMMANDS}age",
    f"{COMMANDS}reroute",
}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(settings_for("sqlite+aiosqlite:////nonexistent-folder/nrm.db"))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, items in document["paths"].items():
        for method, operation in items.items():
            if method in METHODS:
                yield method, path, operation


def problem_schema_of(operation: dict[str, Any], status: int) -> Any:
    content = operation["responses"].get(str(status), {}).get("content", {})
    return content.get("application/problem+json", {}).get("schema")


class TestDocsPages:
    async def test_loads_every_script_and_stylesheet_from_the_service(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/docs")
        assert response.status_code == 200
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", response.text)
        assert any(url.endswith(".js") for url in urls), urls
        assert "://" not in response.text  # no CDN, no font service
        for url in urls:
            assert url.startswith("/"), url
            assert not url.startswith("//"), url
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert asset.content, url

    @pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
    async def test_stays_at_the_root_without_a_token(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        assert (await client.get(path)).status_code == 200


class TestOperations:
    def test_every_operation_has_a_description(self, document: dict[str, Any]) -> None:
        missing = [
            f"{method.upper()} {path}"
            for method, path, operation in operations(document)
            if not operation.get("description", "").strip()
        ]
        assert missing == []

    def test_every_authenticated_operation_lists_401_as_a_problem(
        self, document: dict[str, Any]
    ) -> None:
        authenticated = [op for _, _, op in operations(document) if op.get("security")]
        assert len(authenticated) > 30
        for operation in authenticated:
            assert problem_schema_of(operation, 401) == PROBLEM, operation["operationId"]

    def test_every_operation_lists_503_as_a_problem(self, document: dict[str, Any]) -> None:
        for _, _, operation in operations(document):
            assert problem_schema_of(operation, 503) == PROBLEM, operation["operationId"]

    def test_every_operation_with_input_lists_422_as_a_problem(
        self, document: dict[str, Any]
    ) -> None:
        for _, _, operation in operations(document):
            takes = {p["in"] for p in operation.get("parameters", [])}
            if "requestBody" in operation or "query" in takes:
                assert problem_schema_of(operation, 422) == PROBLEM, operation["operationId"]

    def test_no_422_uses_fastapis_validation_schema(self, document: dict[str, Any]) -> None:
        for _, _, operation in operations(document):
            answer = operation["responses"].get("422")
            if answer is not None:
                assert answer["content"] == {"application/problem+json": {"schema": PROBLEM}}
        assert "HTTPValidationError" not in document["components"]["schemas"]

    def test_every_referral_command_lists_its_problems(self, document: dict[str, Any]) -> None:
        for path in NEEDS_IF_MATCH:
            operation = document["paths"][path]["post"]
            for status in (401, 403, 404, 409, 412, 422, 428, 503):
                assert problem_schema_of(operation, status) == PROBLEM, (path, status)

    def test_a_letter_is_documented_as_a_pdf_with_its_problems(
        self, document: dict[str, Any]
    ) -> None:
        operation = document["paths"]["/api/v1/referrals/{referral_id}/letters/{letter_id}"]["get"]
        assert operation["description"].strip()
        assert set(operation["responses"]["200"]["content"]) == {"application/pdf"}
        for status in (401, 403, 404, 503):
            assert problem_schema_of(operation, status) == PROBLEM, status

    def test_sign_in_lists_401_and_429(self, document: dict[str, Any]) -> None:
        operation = document["paths"]["/api/v1/auth/token"]["post"]
        for status in (401, 429, 503):
            assert problem_schema_of(operation, status) == PROBLEM, status
        assert "Retry-After" in operation["responses"]["429"]["headers"]

    def test_the_problem_schema_is_rfc_9457(self, document: dict[str, Any]) -> None:
        problem = document["components"]["schemas"]["Problem"]
        assert set(problem["required"]) == {"type", "title", "status", "detail"}
        assert {"instance", "request_id", "errors"} <= set(problem["properties"])
        field = document["components"]["schemas"]["FieldProblem"]
        assert set(field["required"]) == {"field", "message"}


class TestIfMatch:
    def test_is_required_on_every_command_that_changes_a_referral(
        self, document: dict[str, Any]
    ) -> None:
        required = {
            path
            for _, path, operation in operations(document)
            for parameter in operation.get("parameters", [])
            if parameter["name"] == "If-Match" and parameter.get("required")
        }
        assert required == NEEDS_IF_MATCH

    def test_is_optional_where_if_none_match_is_the_other_way(
        self, document: dict[str, Any]
    ) -> None:
        operation = document["paths"]["/api/v1/referrals/{referral_id}/immigration"]["put"]
        headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
        assert headers["If-Match"]["required"] is False
        assert headers["If-None-Match"]["required"] is False
        assert problem_schema_of(operation, 428) == PROBLEM
