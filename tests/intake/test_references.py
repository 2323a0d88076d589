"""Reference numbers (app.referrals.references): per series and year, never duplicated, and on
PostgreSQL taken without a lock that waits for another filing's transaction."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import text

from app.cli import alembic_config
from app.referrals.references import (
    DUTY_TO_NOTIFY_SERIES,
    REFERRAL_SERIES,
    ensure_sequences,
    next_reference,
    sequence_name,
)
from tests.conftest import fresh_engine
from tests.databases import Backend


def test_sequence_names_are_plain_identifiers() -> None:
    assert sequence_name(REFERRAL_SERIES, 2026) == "nrm_ref_nrm_w_2026"
    assert sequence_name(DUTY_TO_NOTIFY_SERIES, 987) == "nrm_ref_dtn_w_0987"


@pytest.mark.committing
async def test_series_are_numbered_apart(committed_app: FastAPI) -> None:
    async with committed_app.state.sessionmaker() as session, session.begin():
        first = await next_reference(session, REFERRAL_SERIES, 2026)
        other = await next_reference(session, DUTY_TO_NOTIFY_SERIES, 2026)
        second = await next_reference(session, REFERRAL_SERIES, 2026)
        next_year = await next_reference(session, REFERRAL_SERIES, 2027)
    assert (first, other, second, next_year) == (
        "NRM-W-2026-000001",
        "DTN-W-2026-000001",
        "NRM-W-2026-000002",
        "NRM-W-2027-000001",
    )


@pytest.mark.committing
async def test_a_filing_in_flight_never_holds_up_another(
    committed_app: FastAPI, backend: Backend
) -> None:
    if backend.name != "postgresql":
        pytest.skip("SQLite lets one writer at a time by design")
    factory = committed_app.state.sessionmaker
    async with factory() as session, session.begin():  # the year's first filing made it
        await ensure_sequences(session, range(2026, 2027))
    async with factory() as first, first.begin():
        taken = await next_reference(first, REFERRAL_SERIES, 2026)  # its transaction stays open
        async with factory() as second, second.begin():
            await second.execute(text("SET LOCAL lock_timeout = '200ms'"))
            other = await next_reference(second, REFERRAL_SERIES, 2026)
        await first.rollback()
    assert (taken, other) == ("NRM-W-2026-000001", "NRM-W-2026-000002")
    async with factory() as third, third.begin():  # the rolled-back number is not reused
        assert await next_reference(third, REFERRAL_SERIES, 2026) == "NRM-W-2026-000003"


@pytest.mark.committing
async def test_sequences_made_ahead_start_at_one(committed_app: FastAPI, backend: Backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("SQLite counts in reference_counters")
    async with committed_app.state.sessionmaker() as session, session.begin():
        await ensure_sequences(session, range(2030, 2032))
        await ensure_sequences(session, range(2030, 2032))  # again: nothing changes
    async with committed_app.state.sessionmaker() as session, session.begin():
        assert await next_reference(session, DUTY_TO_NOTIFY_SERIES, 2031) == "DTN-W-2031-000001"


@pytest.mark.committing
async def test_a_missing_sequence_the_role_may_not_create_is_named(
    committed_app: FastAPI, backend: Backend
) -> None:
    if backend.name != "postgresql":
        pytest.skip("SQLite counts in reference_counters")
    async with committed_app.state.sessionmaker() as session, session.begin():
        await session.execute(text("SET LOCAL default_transaction_read_only = on"))
        await session.execute(text("SET LOCAL transaction_read_only = on"))
        with pytest.raises(RuntimeError, match="nrm_ref_nrm_w_2040"):
            await next_reference(session, REFERRAL_SERIES, 2040)


def _sql(url: str, statement: str, **params: object) -> object:
    async def run() -> object:
        engine = fresh_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), params)
                return result.scalar() if result.returns_rows else None
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_revision_0007_carries_each_counter_into_its_sequence(backend: Backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("SQLite keeps counting in reference_counters")
    url = backend.empty()
    try:
        _carry_over(url)
    finally:
        backend.drop(url)


def _carry_over(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "0006")
    insert = "INSERT INTO reference_counters (series, year, last) VALUES (:s, :y, :last)"
    _sql(url, insert, s=REFERRAL_SERIES, y=2026, last=41)
    command.upgrade(config, "0007")
    assert _sql(url, "SELECT nextval('nrm_ref_nrm_w_2026')") == 42
    command.downgrade(config, "0006")
    assert _sql(url, "SELECT last FROM reference_counters WHERE year = 2026") == 42
    assert _sql(url, "SELECT to_regclass('nrm_ref_nrm_w_2026')") is None
