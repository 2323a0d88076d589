"""Racing commands on one referral: exactly one wins, on both databases, and the loser changes
nothing (412, or 409 when the winner's new state refuses it).

These tests commit for real (a throwaway database each) and run the requests as concurrent
asyncio tasks, each on its own connection from the app's pool. On PostgreSQL a barrier holds
every racer until all of them are in flight, so they truly overlap: the row lock taken when a
command loads the referral makes the others wait and then see the new version; with that lock
bypassed, the version check in the UPDATE still stops the loser. SQLite serialises writers
(`BEGIN IMMEDIATE`), so there the same requests simply queue; a barrier would only deadlock.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.referrals import queries
from app.referrals.models import Decision, Referral
from tests.databases import Backend
from tests.referrals.builders import (
    CG_POSITIVE,
    RG_POSITIVE,
    Case,
    Cast,
    file_case,
    make_cast_quickly,
    run,
)

pytestmark = [pytest.mark.committing, pytest.mark.slow]

Loader = Callable[..., Awaitable[Referral]]


@pytest.fixture
async def cast(committed_app: FastAPI) -> Cast:
    return await make_cast_quickly(committed_app, committed_app.state.sessionmaker)


def hold_racers(
    monkeypatch: pytest.MonkeyPatch, backend: Backend, racers: int, load: Loader
) -> None:
    """On PostgreSQL, make every racer reach the referral before any of them loads it."""
    if backend.name != "postgresql":
        monkeypatch.setattr(queries, "load", load)
        return
    barrier = asyncio.Barrier(racers)

    async def held(*args: Any, **kwargs: Any) -> Referral:
        if kwargs.get("lock"):  # a command's load; filing reads back through the loader too
            async with asyncio.timeout(10):
                await barrier.wait()
        return await load(*args, **kwargs)

    monkeypatch.setattr(queries, "load", held)


async def facts(app: FastAPI, case: Case) -> tuple[str, int, int, int]:
    """Status, version, victim-track events and decisions of the case, as committed."""
    referral_id = uuid.UUID(case.id)
    async with app.state.sessionmaker() as session:
        referral = await session.get(Referral, referral_id)
        assert referral is not None
        events = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.referral_id == referral_id, AuditEvent.track == "victim")
        )
        decisions = await session.scalar(
            select(func.count()).select_from(Decision).where(Decision.referral_id == referral_id)
        )
        return referral.status, referral.version, int(events or 0), int(decisions or 0)


async def race(*attempts: Awaitable[httpx.Response]) -> list[httpx.Response]:
    return list(await asyncio.gather(*attempts))


class TestRacingCommands:
    async def test_different_commands_with_one_etag_exactly_one_wins(
        self,
        committed_app: FastAPI,
        committed_client: httpx.AsyncClient,
        cast: Cast,
        backend: Backend,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        hold_racers(monkeypatch, backend, 3, queries.load)
        c = committed_client
        for _ in range(3):
            case = await file_case(c, cast.responder)
            tag = case.etag
            responses = await race(
                run(c, cast.decision_maker, case, "decisions", RG_POSITIVE, etag=tag),
                run(c, cast.senior, case, "suspend", {"reason": "Missing."}, etag=tag),
                run(c, cast.responder, case, "withdraw", {"reason": "Moved."}, etag=tag),
            )
            statuses = sorted(r.status_code for r in responses)
            assert statuses in ([200, 412, 412], [201, 412, 412]), [r.text for r in responses]
            status, version, events, _ = await facts(committed_app, case)
            assert version == 2
            assert events == 3  # submitted, routed + the winner's one event
            winner = next(r for r in responses if r.is_success)
            won = "recovery_period" if winner.status_code == 201 else winner.json()["status"]
            assert status == won

    async def test_two_identical_decisions_make_one_decision(
        self,
        committed_app: FastAPI,
        committed_client: httpx.AsyncClient,
        cast: Cast,
        backend: Backend,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        case = await file_case(committed_client, cast.responder)
        await run(committed_client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        hold_racers(monkeypatch, backend, 2, queries.load)
        tag = case.etag
        responses = await race(
            *(
                run(committed_client, user, case, "decisions", CG_POSITIVE, etag=tag)
                for user in (cast.decision_maker, cast.senior)
            )
        )
        assert sorted(r.status_code for r in responses) == [201, 412]
        assert await facts(committed_app, case) == (
            "cg_positive",
            3,
            4,
            2,
        )  # events: submitted, routed, two decisions

    async def test_a_note_racing_a_command_always_lands_on_the_newest_version(
        self,
        committed_app: FastAPI,
        committed_client: httpx.AsyncClient,
        cast: Cast,
        backend: Backend,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # A note takes no If-Match: it waits for the row and goes on top of whatever version
        # it finds. The command loses only if the note got there first (its ETag is then old).
        hold_racers(monkeypatch, backend, 2, queries.load)
        case = await file_case(committed_client, cast.responder)
        note = Case(case.id, case.reference, case.version)
        assign, added = await race(
            run(committed_client, cast.decision_maker, case, "assign", {}),
            run(committed_client, cast.responder, note, "notes", {"text": "x"}, if_match=False),
        )
        assert added.status_code == 201, added.text
        assert assign.status_code in (200, 412), assign.text
        landed = 1 + (assign.status_code == 200)
        assert await facts(committed_app, case) == (
            "awaiting_rg",
            1 + landed,
            2 + landed,
            0,
        )  # submitted and routed first
        if assign.status_code == 200:
            assert sorted([case.version, note.version]) == [2, 3]
        else:
            assert note.version == 2


class TestWithoutTheRowLock:
    async def test_the_version_check_in_the_update_still_stops_the_loser(
        self,
        committed_app: FastAPI,
        committed_client: httpx.AsyncClient,
        cast: Cast,
        backend: Backend,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        if backend.name != "postgresql":
            pytest.skip("SQLite serialises whole transactions: there is no lost update to stop")
        barrier = asyncio.Barrier(2)

        load = queries.load

        async def unlocked(*args: Any, **kwargs: Any) -> Referral:
            if not kwargs.pop("lock", False):  # filing reads back through the loader too
                return await load(*args, **kwargs)
            referral = await load(*args, **kwargs)  # no FOR UPDATE
            async with asyncio.timeout(10):
                await barrier.wait()  # both have read version 1 before either writes
            return referral

        monkeypatch.setattr(queries, "load", unlocked)
        case = await file_case(committed_client, cast.responder)
        tag = case.etag
        responses = await race(
            run(committed_client, cast.decision_maker, case, "decisions", RG_POSITIVE, etag=tag),
            run(committed_client, cast.senior, case, "suspend", {"reason": "x"}, etag=tag),
        )
        assert sorted(r.status_code for r in responses) in ([200, 412], [201, 412])
        loser = next(r for r in responses if r.status_code == 412)
        assert loser.json()["type"] == "/problems/precondition-failed"
        _, version, events, _ = await facts(committed_app, case)
        assert (version, events) == (2, 3)  # submitted, routed, one decision


class ServedApp:
    """The service on a real socket, served by uvicorn in a thread of its own, for clients that
    race from threads as separate processes would."""

    def __init__(self, database_url: str) -> None:
        import socket

        import uvicorn

        from app.main import create_app
        from tests.databases import settings_for

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(
            create_app(settings_for(database_url)), log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


class TestRacingThreads:
    """Eight client threads send the same command with the same ETag at once, over HTTP."""

    RACERS = 8

    def _race(self, url: str, path: str, headers: list[dict[str, str]], body: Any) -> list[int]:
        barrier = threading.Barrier(len(headers))

        def attempt(header: dict[str, str]) -> int:
            with httpx.Client(base_url=url, timeout=30) as client:
                barrier.wait(timeout=10)
                return client.post(path, json=body, headers=header).status_code

        with ThreadPoolExecutor(len(headers)) as pool:
            return list(pool.map(attempt, headers))

    async def test_one_decision_wins_and_the_others_are_412(
        self,
        committed_app: FastAPI,
        committed_client: httpx.AsyncClient,
        cast: Cast,
        throwaway: str,
    ) -> None:
        case = await file_case(committed_client, cast.responder)
        headers = [
            {**user.headers, "If-Match": case.etag}
            for user in [cast.decision_maker, cast.senior] * (self.RACERS // 2)
        ]
        path = f"/api/v1/referrals/{case.id}/decisions"
        with ServedApp(throwaway) as served:
            statuses = await asyncio.to_thread(self._race, served.url, path, headers, RG_POSITIVE)

        assert sorted(statuses) == [201] + [412] * (self.RACERS - 1), statuses
        status, version, events, decisions = await facts(committed_app, case)
        assert (status, version, events, decisions) == ("recovery_period", 2, 3, 1)
