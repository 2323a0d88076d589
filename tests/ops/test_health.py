"""Liveness, readiness, metrics and behaviour when the database is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.identity.security import issue_token
from app.main import create_app
from tests.databases import settings_for

UNREACHABLE = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
    "sqlite": "sqlite+aiosqlite:////nonexistent-folder/nrm.db",
}


@pytest.fixture(params=sorted(UNREACHABLE))
async def broken_client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(UNREACHABLE[request.param]))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
    await app.state.engine.dispose()


class TestWithoutADatabase:
    async def test_healthz_never_touches_the_database(
        self, broken_client: httpx.AsyncClient
    ) -> None:
        response = await broken_client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz_is_503(self, broken_client: httpx.AsyncClient) -> None:
        response = await broken_client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["type"] == "/problems/database-unavailable"
        assert response.headers["retry-after"]

    async def test_every_endpoint_is_503_with_retry_after_never_500(
        self, broken_client: httpx.AsyncClient
    ) -> None:
        app: FastAPI = broken_client.app  # type: ignore[attr-defined]
        token = issue_token(app.state.settings, __import__("uuid").uuid4()).access_token
        for method, path, kwargs in (
            ("GET", "/api/v1/me", {"headers": {"Authorization": f"Bearer {token}"}}),
            ("POST", "/api/v1/auth/token", {"data": {"username": "a", "password": "b"}}),
            ("GET", "/api/v1/organisations", {"headers": {"Authorization": f"Bearer {token}"}}),
        ):
            response = await broken_client.request(method, path, **kwargs)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"]


class TestWithTheDatabase:
    async def test_readyz_is_200(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200

    async def test_metrics_are_prometheus_text(self, client: httpx.AsyncClient) -> None:
        await client.get("/healthz")
        response = await client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert "nrm_http_requests_total" in response.text

    async def test_docs_and_openapi_are_public(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/docs")).status_code == 200
        schema = await client.get("/openapi.json")
        assert schema.status_code == 200
        assert "/api/v1/me" in schema.json()["paths"]
