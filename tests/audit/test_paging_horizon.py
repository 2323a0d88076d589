"""Paging never skips an event that commits after a later one was served (API.md, Audit).

On PostgreSQL a transaction can hold seq 10 uncommitted while seq 11 commits; a naive page
would serve 11 and its cursor would pass 10 forever. These tests stage exactly that with real
connections on a database of their own. SQLite cannot stage it: its writers are serialised by
`BEGIN IMMEDIATE`, so seq order is commit order there.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import fences
from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import AuditEvent, Track
from app.db import transaction
from app.identity.roles import Role
from tests.conftest import fresh_engine
from tests.databases import Backend
from tests.factories import AppUser, make_user

pytestmark = pytest.mark.committing

EVENTS = "/api/v1/audit/events"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@dataclass
class Stage:
    """An app on its own database, an auditor, and the action naming the staged events."""

    app: FastAPI
    client: httpx.AsyncClient
    auditor: AppUser
    action: str
    url: str
    backend: str

    def on_postgresql_only(self) -> None:
        if self.backend != "postgresql":
            pytest.skip("SQLite serialises writers: see TestSqliteCommitOrder")

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        factory: async_sessionmaker[AsyncSession] = self.app.state.sessionmaker
        return factory

    async def append(self, session: AsyncSession) -> AuditEvent:
        return await audit.record(
            session,
            audit.SYSTEM,
            action=self.action,
            track=Track.ADMIN,
            now=NOW,
            stream=f"test:{uuid.uuid4()}",  # unrelated streams: no row lock between them
        )

    async def page(self, **params: Any) -> httpx.Response:
        return await self.client.get(
            EVENTS, params={"action": self.action, **params}, headers=self.auditor.headers
        )

    async def visible_now(self) -> list[int]:
        """What a plain query on another connection sees, with no horizon."""
        engine = fresh_engine(self.url)
        try:
            async with engine.connect() as connection:
                query = select(AuditEvent.seq).where(AuditEvent.action == self.action)
                return list((await connection.scalars(query.order_by(AuditEvent.seq))).all())
        finally:
            await engine.dispose()


@pytest.fixture
async def stage(
    backend: Backend,
    committed_app: FastAPI,
    committed_client: httpx.AsyncClient,
    throwaway: str,
) -> Stage:
    async with committed_app.state.sessionmaker() as session:
        auditor = await make_user(committed_app, session, Role.AUDITOR)
    # The database is this test's own and holds no referral: no other event is a note.
    action = Action.NOTE_ADDED
    return Stage(committed_app, committed_client, auditor, action, throwaway, backend.name)


def _seqs(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["seq"] for item in response.json()["items"]]


class TestPagingHorizon:
    async def test_a_page_waits_for_an_earlier_seq_in_flight_instead_of_passing_it(
        self, stage: Stage
    ) -> None:
        stage.on_postgresql_only()
        async with stage.sessions() as holding:
            first = await stage.append(holding)  # seq a, not committed
            async with transaction(stage.sessions) as later:
                second = await stage.append(later)  # seq b > a, committed
            assert second.seq > first.seq
            assert await stage.visible_now() == [second.seq]  # what a naive page would serve
            page = asyncio.create_task(stage.page())
            done, _ = await asyncio.wait({page}, timeout=0.5)
            assert not done  # it does not serve b while a may still commit
            await holding.commit()
        assert _seqs(await page) == [first.seq, second.seq]

    async def test_paging_on_from_a_cursor_serves_the_event_that_committed_late(
        self, stage: Stage
    ) -> None:
        stage.on_postgresql_only()
        async with transaction(stage.sessions) as session:
            served = await stage.append(session)
            pending = await stage.append(session)
        response = await stage.page(limit=1)
        assert _seqs(response) == [served.seq]
        cursor = response.json()["next_cursor"]
        async with stage.sessions() as holding:
            first = await stage.append(holding)
            async with transaction(stage.sessions) as later:
                second = await stage.append(later)
            page = asyncio.create_task(stage.page(limit=2, cursor=cursor))
            await asyncio.sleep(0.3)
            await holding.commit()
        response = await page
        assert _seqs(response) == [pending.seq, first.seq]
        response = await stage.page(limit=2, cursor=response.json()["next_cursor"])
        assert _seqs(response) == [second.seq]
        assert response.json()["next_cursor"] is None

    async def test_a_page_that_cannot_wait_longer_is_503_and_skips_nothing(
        self, stage: Stage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        stage.on_postgresql_only()
        monkeypatch.setattr(fences, "HORIZON_LOCK_TIMEOUT_MS", 100)
        async with stage.sessions() as holding:
            first = await stage.append(holding)
            async with transaction(stage.sessions) as later:
                second = await stage.append(later)
            refused = await stage.page()
            assert refused.status_code == 503
            assert refused.json()["type"] == "/problems/database-unavailable"
            assert refused.headers["Retry-After"] == "5"
            await holding.commit()
        assert _seqs(await stage.page()) == [first.seq, second.seq]

    async def test_appends_to_unrelated_streams_never_wait_for_each_other(
        self, stage: Stage
    ) -> None:
        stage.on_postgresql_only()
        async with stage.sessions() as holding:
            first = await stage.append(holding)
            async with transaction(stage.sessions) as other:
                second = await asyncio.wait_for(stage.append(other), timeout=2)
            await holding.commit()
        assert second.seq > first.seq


class TestSqliteCommitOrder:
    async def test_a_second_writer_waits_for_the_first_so_seq_order_is_commit_order(
        self, stage: Stage
    ) -> None:
        if stage.backend != "sqlite":
            pytest.skip("PostgreSQL writers run concurrently: see TestPagingHorizon")
        async with stage.sessions() as holding:
            first = await stage.append(holding)

            async def second_writer() -> AuditEvent:
                async with transaction(stage.sessions) as later:
                    return await stage.append(later)

            second = asyncio.create_task(second_writer())
            done, _ = await asyncio.wait({second}, timeout=0.3)
            assert not done
            await holding.commit()
        assert (await second).seq > first.seq
        assert _seqs(await stage.page()) == [first.seq, (await second).seq]
