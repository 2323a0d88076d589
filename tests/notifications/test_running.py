"""How the worker runs: `nrm worker --once`, and in-process under the service's lifespan
unless `NRM_WORKER=external`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app import clock
from app.cli import main
from app.main import create_app
from app.notifications.models import Notification
from app.settings import get_settings
from tests.databases import settings_for
from tests.notifications.walk import give_addresses
from tests.referrals.builders import file_case, make_cast_quickly

pytestmark = [pytest.mark.committing]


async def file_one(app: FastAPI) -> None:
    """A referral filed on `app`, its filer with an address (so one of its rows is sendable)."""
    cast = await make_cast_quickly(app, app.state.sessionmaker)
    async with app.state.sessionmaker() as session:
        await give_addresses(session, cast.responder)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await file_case(client, cast.responder)


@pytest.fixture
def worker_env(throwaway: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("NRM_DATABASE_URL", throwaway)
    monkeypatch.setenv("NRM_ENV", "test")
    monkeypatch.setenv("NRM_MAIL_DIR", str(tmp_path / "mail"))
    get_settings.cache_clear()
    yield tmp_path / "mail"
    get_settings.cache_clear()


class TestOnce:
    def test_delivers_everything_due_then_exits_0(
        self, throwaway: str, worker_env: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        async def arrange() -> None:
            app = create_app(settings_for(throwaway))
            try:
                await file_one(app)
            finally:
                await app.state.engine.dispose()

        asyncio.run(arrange())
        assert main(["worker", "--once"]) == 0
        assert capsys.readouterr().out.strip() == "notifications tried: 4"
        assert len(list(worker_env.glob("*.eml"))) == 1  # the filer's; the unit has no address
        assert main(["worker", "--once"]) == 0
        assert capsys.readouterr().out.strip() == "notifications tried: 0"


class TestInProcess:
    async def test_the_service_delivers_while_it_runs_and_stops_with_it(
        self, throwaway: str, tmp_path: Path
    ) -> None:
        settings = settings_for(
            throwaway, worker="in-process", mail_dir=str(tmp_path), worker_poll_seconds=0.05
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await file_one(app)
            for _ in range(200):
                if list(tmp_path.glob("*.eml")):
                    break
                await asyncio.sleep(0.05)
        assert len(list(tmp_path.glob("*.eml"))) == 1

    async def test_external_runs_none(self, throwaway: str, tmp_path: Path) -> None:
        app = create_app(settings_for(throwaway, mail_dir=str(tmp_path)))
        assert app.state.settings.worker == "external"
        async with app.router.lifespan_context(app):
            await file_one(app)
            await asyncio.sleep(0.3)
        assert list(tmp_path.glob("*.eml")) == []

    async def test_a_moved_test_clock_is_looked_at_in_the_next_round_not_minutes_later(
        self, throwaway: str, tmp_path: Path
    ) -> None:
        settings = settings_for(
            throwaway,
            worker="in-process",
            mail_dir=str(tmp_path),
            worker_poll_seconds=0.05,
            test_clock=True,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await file_one(app)
            await asyncio.sleep(0.3)  # the first rounds look for reminders: none is due yet
            assert await reminders_of(app) == []
            async with app.state.sessionmaker() as session:
                await clock.advance(session, 30)  # the RG decision is now weeks late
                await session.commit()
            for _ in range(100):  # well before REMINDER_SCAN_SECONDS
                if await reminders_of(app):
                    break
                await asyncio.sleep(0.05)
            assert await reminders_of(app) == ["deadline.missed"]


async def reminders_of(app: FastAPI) -> list[str]:
    async with app.state.sessionmaker() as session:
        kinds = await session.scalars(
            select(Notification.kind).where(Notification.kind.like("deadline.%")).distinct()
        )
        return list(kinds.all())
