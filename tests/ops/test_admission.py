"""Admission control (issue 11, item 1; API.md: 503 with `Retry-After` when overloaded).

Requests are held in flight inside a route that waits on an event, so nothing here depends on
how fast the machine is: with the limit at 2, two held requests fill the worker and the third
is refused at once; the probes and `/metrics` still answer; once the held ones finish, new
requests are admitted again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from app.main import create_app
from tests.databases import settings_for
from tests.ops.test_problems import assert_problem

HELD = "/api/v1/__held"
FAILING = "/api/v1/__failing"


class Gate:
    """A route that holds every request inside it until `open` is set."""

    def __init__(self) -> None:
        self.inside = 0
        self.entered = asyncio.Event()
        self.open = asyncio.Event()

    async def route(self) -> dict[str, str]:
        self.inside += 1
        self.entered.set()
        await self.open.wait()
        return {"status": "done"}

    async def until_inside(self, count: int) -> None:
        async with asyncio.timeout(10):
            while self.inside < count:
                self.entered.clear()
                await self.entered.wait()


async def failing() -> None:
    raise RuntimeError("a bug")


def install_routes(app: FastAPI, gate: Gate) -> None:
    app.add_api_route(HELD, gate.route)
    app.add_api_route(FAILING, failing)


MakeClient = Callable[..., Awaitable[tuple[httpx.AsyncClient, Gate]]]


@pytest.fixture
async def limited(session_database: str) -> AsyncIterator[MakeClient]:
    """Clients of apps with a small admission limit, each with its held route."""
    apps: list[FastAPI] = []
    clients: list[httpx.AsyncClient] = []

    async def make(limit: int = 2, wait_ms: int = 0) -> tuple[httpx.AsyncClient, Gate]:
        settings = settings_for(
            session_database, max_concurrent_requests=limit, admission_wait_ms=wait_ms
        )
        app, gate = create_app(settings), Gate()
        install_routes(app, gate)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url="http://test")
        apps.append(app)
        clients.append(client)
        return client, gate

    try:
        yield make
    finally:
        for client in clients:
            await client.aclose()
        for app in apps:
            await app.state.engine.dispose()


def hold(client: httpx.AsyncClient, count: int) -> list[asyncio.Task[httpx.Response]]:
    return [asyncio.create_task(client.get(HELD)) for _ in range(count)]


def refused_so_far() -> float:
    return REGISTRY.get_sample_value("nrm_admission_refused_total") or 0.0


class TestBeyondTheLimit:
    async def test_the_request_beyond_the_limit_gets_503_overloaded_at_once(
        self, limited: MakeClient
    ) -> None:
        client, gate = await limited(limit=2)
        held = hold(client, 2)
        await gate.until_inside(2)
        started = time.monotonic()
        response = await client.get(HELD, headers={"X-Request-ID": "overload-1"})
        assert time.monotonic() - started < 5  # answered, not queued behind the held ones
        body = assert_problem(response, 503, "overloaded")
        assert response.headers["retry-after"] == "1"
        assert response.headers["x-request-id"] == "overload-1"
        assert body["instance"] == HELD
        assert body["request_id"] == "overload-1"
        assert gate.inside == 2  # the refused request never reached the route
        gate.open.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]

    async def test_refusals_are_counted_for_prometheus(self, limited: MakeClient) -> None:
        client, gate = await limited(limit=2)
        held = hold(client, 2)
        await gate.until_inside(2)
        before = refused_so_far()
        for _ in range(3):
            assert (await client.get(HELD)).status_code == 503
        assert refused_so_far() == before + 3
        metrics = await client.get("/metrics")
        assert "nrm_admission_refused_total" in metrics.text
        assert "nrm_requests_in_flight" in metrics.text
        gate.open.set()
        await asyncio.gather(*held)

    async def test_the_probes_and_metrics_answer_while_every_slot_is_taken(
        self, limited: MakeClient
    ) -> None:
        client, gate = await limited(limit=2)
        held = hold(client, 2)
        await gate.until_inside(2)
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        assert (await client.get("/metrics")).status_code == 200
        assert (await client.get(HELD)).status_code == 503
        gate.open.set()
        await asyncio.gather(*held)


class TestRecovery:
    async def test_new_requests_are_admitted_once_the_held_ones_finish(
        self, limited: MakeClient
    ) -> None:
        client, gate = await limited(limit=2)
        held = hold(client, 2)
        await gate.until_inside(2)
        assert (await client.get(HELD)).status_code == 503
        gate.open.set()
        await asyncio.gather(*held)
        # Every slot is free again: two at once are admitted, and the third still refused.
        gate.open.clear()
        held = hold(client, 2)
        await gate.until_inside(4)
        assert (await client.get(HELD)).status_code == 503
        gate.open.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
        assert (await client.get(HELD)).status_code == 200

    async def test_a_request_that_fails_gives_its_slot_back(self, limited: MakeClient) -> None:
        client, gate = await limited(limit=2)
        for _ in range(3):
            assert_problem(await client.get(FAILING), 500, "internal-error")
        held = hold(client, 2)
        await gate.until_inside(2)
        gate.open.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]

    async def test_a_request_refused_by_another_check_gives_its_slot_back(
        self, limited: MakeClient
    ) -> None:
        client, gate = await limited(limit=2)
        for _ in range(3):
            assert (await client.get("/api/v1/me")).status_code == 401
            assert (await client.get("/api/v1/nowhere")).status_code == 404
        held = hold(client, 2)
        await gate.until_inside(2)
        gate.open.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]


class TestTheWait:
    async def test_a_request_waits_for_a_slot_that_frees_within_the_wait(
        self, limited: MakeClient
    ) -> None:
        client, gate = await limited(limit=2, wait_ms=10_000)
        held = hold(client, 2)
        await gate.until_inside(2)
        waiting = asyncio.create_task(client.get(HELD))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # queued: neither admitted nor refused
        assert gate.inside == 2
        gate.open.set()
        assert (await waiting).status_code == 200
        assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]

    async def test_past_the_wait_the_request_is_refused(self, limited: MakeClient) -> None:
        client, gate = await limited(limit=2, wait_ms=50)
        held = hold(client, 2)
        await gate.until_inside(2)
        started = time.monotonic()
        assert_problem(await client.get(HELD), 503, "overloaded")
        assert time.monotonic() - started >= 0.045
        gate.open.set()
        await asyncio.gather(*held)


@pytest.fixture
def held_route(app: FastAPI) -> Iterator[Gate]:
    """The held route on the service's own app, with the default settings."""
    gate = Gate()
    app.add_api_route(HELD, gate.route)
    try:
        yield gate
    finally:
        app.router.routes.pop()


class TestOrdinaryUse:
    async def test_a_few_dozen_requests_at_once_never_meet_the_default_limit(
        self, app: FastAPI, client: httpx.AsyncClient, held_route: Gate
    ) -> None:
        assert app.state.settings.max_concurrent_requests == 200
        held = hold(client, 48)
        await held_route.until_inside(48)
        held_route.open.set()
        assert {r.status_code for r in await asyncio.gather(*held)} == {200}
