"""Each referral keeps its place in the queue (`next_action`, `queue_due`) on its own row: every
command sets it from the workflow, and migration 0008 computed it in SQL for existing rows. Both
must agree with the workflow's `next_action` and the queue's due dates in every state."""

from __future__ import annotations

import importlib.util
import uuid
from datetime import date
from types import ModuleType

import httpx
import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cli import ROOT, alembic_config
from app.referrals import queries
from app.referrals.command_steps import WAITING, facts_of
from app.referrals.facts import NO_DUE_DATE, due_of
from app.referrals.models import Referral
from app.referrals.workflow import next_action
from tests.databases import Backend
from tests.referrals.builders import STATES, drive, make_cast_quickly


def expected(referral: Referral) -> tuple[str | None, date | None]:
    """Worked out afresh from the workflow, not from the stored columns."""
    action = next_action(facts_of(referral)) if referral.status in WAITING else None
    if action is None:
        return None, None
    return action.value, due_of(referral, action) or NO_DUE_DATE


@pytest.fixture
async def every_state(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> list[Referral]:
    cast = await make_cast_quickly(app, sessions)
    cases = [await drive(client, cast, state) for state in STATES]
    async with sessions() as session:
        return [await queries.load(session, None, uuid.UUID(case.id), fresh=True) for case in cases]


async def test_every_command_keeps_the_position_the_workflow_gives(
    every_state: list[Referral],
) -> None:
    positions = {(r.status, r.next_action) for r in every_state}
    assert ("awaiting_rg", "rg_decision") in positions  # the states do put work in the queue
    assert ("rg_negative", "reconsideration") in positions
    for referral in every_state:
        assert (referral.next_action, referral.queue_due) == expected(referral), referral.status
        # Lists show the stored action: it must be the workflow's in every reachable state.
        workflow_says = next_action(facts_of(referral))
        assert referral.next_action == (workflow_says.value if workflow_says else None)


async def test_the_migration_computes_the_same_position(
    every_state: list[Referral], sessions: async_sessionmaker[AsyncSession]
) -> None:
    revision = _revision_0008()
    async with sessions() as session, session.begin():
        await session.execute(update(Referral).values(next_action=None, queue_due=None))
        await session.execute(text(revision.NEXT_ACTION))
        await session.execute(text(revision.QUEUE_DUE))
    async with sessions() as session:
        for before in every_state:
            after = await queries.load(session, None, before.id, fresh=True)
            assert (after.next_action, after.queue_due) == expected(after), after.status


def _revision_0008() -> ModuleType:
    """The revision's module, for its own statements (its file name is no module name)."""
    path = next((ROOT / "migrations" / "versions").glob("*_0008_*.py"))
    spec = importlib.util.spec_from_file_location("revision_0008", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_revision_0008_goes_down_and_up_again(backend: Backend) -> None:
    url = backend.empty()
    try:
        config = alembic_config(url)
        command.upgrade(config, "0008")
        command.downgrade(config, "0007")
        command.upgrade(config, "head")
    finally:
        backend.drop(url)
