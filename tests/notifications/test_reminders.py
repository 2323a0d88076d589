"""Deadline reminders, found on the service clock: once per referral, stage and kind; never
for a suspended or closed referral."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import service_now
from app.days import add_working_days
from app.db import transaction
from app.notifications import reminders
from app.notifications.models import Kind
from tests.notifications.walk import told
from tests.referrals.builders import (
    Cast,
    file_case,
    make_cast_quickly,
    service_date,
    set_service_date,
    step,
)


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def find(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> int:
    async with transaction(sessions) as session:
        now = await service_now(session, app.state.settings)
        return len(await reminders.find(session, now=now))


def deadline_news(rows: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {r for r in rows if r[0].startswith("deadline.")}


def people(kind: str, *who: object) -> set[tuple[str, str]]:
    return {(kind, str(p.id)) for p in who}  # type: ignore[attr-defined]


class TestKindFor:
    @pytest.mark.parametrize(
        ("due", "today", "kind"),
        [
            (date(2026, 12, 11), date(2026, 12, 10), Kind.DEADLINE_DUE_SOON),  # Thu → Fri
            (date(2026, 12, 14), date(2026, 12, 11), Kind.DEADLINE_DUE_SOON),  # Fri → Mon
            (date(2026, 12, 29), date(2026, 12, 24), Kind.DEADLINE_DUE_SOON),  # over Christmas
            (date(2026, 12, 14), date(2026, 12, 10), None),
            (date(2026, 12, 9), date(2026, 12, 10), Kind.DEADLINE_MISSED),
        ],
    )
    def test_due_soon_is_by_the_next_working_day_and_missed_is_past(
        self, due: date, today: date, kind: Kind | None
    ) -> None:
        assert reminders.kind_for(due, today) is kind


class TestReminders:
    async def test_due_soon_then_missed_each_once_to_the_unit_then_its_seniors(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
    ) -> None:
        case = await file_case(client, cast.responder)
        filed = await service_date(client, cast.admin)
        rg_due = add_working_days(filed, app.state.settings.rg_due_working_days)
        assert await find(app, sessions) == 0
        await set_service_date(client, cast.admin, add_working_days(filed, 4))
        assert await find(app, sessions) == 1
        assert await find(app, sessions) == 0
        deciders = (cast.decision_maker, cast.senior, cast.senior_two)
        assert deadline_news(await told(db, case.id)) == people("deadline.due_soon", *deciders)
        await set_service_date(client, cast.admin, add_working_days(rg_due, 1))
        assert await find(app, sessions) == 1
        assert await find(app, sessions) == 0
        assert deadline_news(await told(db, case.id)) == people(
            "deadline.due_soon", *deciders
        ) | people("deadline.missed", *deciders)

    async def test_an_assigned_referral_reminds_its_decider_and_the_seniors_when_missed(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
    ) -> None:
        case = await file_case(client, cast.responder)
        await step(client, cast.decision_maker, case, "assign", {})
        filed = await service_date(client, cast.admin)
        await set_service_date(client, cast.admin, add_working_days(filed, 10))
        assert await find(app, sessions) == 1
        assert deadline_news(await told(db, case.id)) == people(
            "deadline.missed", cast.decision_maker, cast.senior, cast.senior_two
        )

    @pytest.mark.parametrize("command", ["suspend", "withdraw"])
    async def test_never_for_a_suspended_or_closed_referral(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        command: str,
    ) -> None:
        case = await file_case(client, cast.responder)
        await step(client, cast.decision_maker, case, command, {"reason": "Gone."})
        filed = await service_date(client, cast.admin)
        await set_service_date(client, cast.admin, add_working_days(filed, 10))
        assert await find(app, sessions) == 0
        assert deadline_news(await told(db, case.id)) == set()
