"""Two workers on one database at once (each its own engine, real commits): every message is
sent once. PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, SQLite with a conditional UPDATE
under its write lock."""

from __future__ import annotations

import asyncio
from collections import Counter
from email.message import EmailMessage

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.db import create_sessionmaker
from app.notifications import worker
from app.notifications.models import Notification
from tests.conftest import fresh_engine
from tests.notifications.walk import give_addresses, worker_settings
from tests.referrals.builders import file_case, make_cast_quickly

pytestmark = [pytest.mark.committing, pytest.mark.slow]


class SlowMailer:
    """Takes a while over each message, so that the two workers' batches overlap."""

    def __init__(self, sent: Counter[str]) -> None:
        self.sent, self.mine = sent, 0

    async def send(self, message: EmailMessage) -> None:
        await asyncio.sleep(0.02)
        self.sent[str(message["Message-ID"])] += 1
        self.mine += 1


class TestTwoWorkers:
    async def test_race_and_send_each_message_once(
        self,
        committed_app: FastAPI,
        committed_client: httpx.AsyncClient,
        throwaway: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        sessions = committed_app.state.sessionmaker
        cast = await make_cast_quickly(committed_app, sessions)
        async with sessions() as session:
            await give_addresses(
                session, cast.responder, cast.decision_maker, cast.senior, cast.senior_two
            )
        for _ in range(4):
            await file_case(committed_client, cast.responder)
        monkeypatch.setattr(worker, "BATCH", 3)
        settings = worker_settings(committed_app)
        sent: Counter[str] = Counter()
        engines = [fresh_engine(throwaway) for _ in range(2)]
        mailers = [SlowMailer(sent), SlowMailer(sent)]
        try:
            await asyncio.gather(
                *(
                    worker.run_once(create_sessionmaker(e), settings, m)
                    for e, m in zip(engines, mailers, strict=True)
                )
            )
        finally:
            for engine in engines:
                await engine.dispose()
        async with sessions() as session:
            rows = (await session.scalars(select(Notification))).all()
        assert len(rows) == 16
        assert {r.status for r in rows} == {"sent"}
        assert set(sent.values()) == {1}
        assert len(sent) == 16
        assert all(m.mine > 0 for m in mailers), [m.mine for m in mailers]
