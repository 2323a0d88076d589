"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

* `backend` (session, parametrised): a migrated template per backend; the session's database
  is a copy of it.
* `db` (per test): an outer transaction on one connection; the app's session factory is bound
  to it with savepoints, so the real commit path runs and everything is rolled back after.
* `client`: an httpx client over the ASGI app. `as_user`/`token_for` sign users in.
* `committing` tests (marker) get `throwaway`: a database of their own, committed for real and
  dropped after (the audit table refuses DELETE, so nothing can be cleaned in place).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.db import create_engine
from app.main import create_app
from tests.databases import BACKENDS, Backend, settings_for


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    workdir = Path(tempfile.mkdtemp(prefix="nrm-tests-"))
    backend = Backend(name=request.param, workdir=workdir)
    backend.prepare_template()
    try:
        yield backend
    finally:
        backend.drop_all()


@pytest.fixture(scope="session")
def session_database(backend: Backend) -> str:
    return backend.copy("nrm_s")


@pytest.fixture(scope="session")
def app(session_database: str) -> FastAPI:
    return create_app(settings_for(session_database))


@pytest.fixture(scope="session")
async def engine(app: FastAPI) -> AsyncIterator[AsyncEngine]:
    engine: AsyncEngine = app.state.engine
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def sessions(
    app: FastAPI, connection: AsyncConnection
) -> Iterator[async_sessionmaker[AsyncSession]]:
    """The app's session factory, bound to the test's outer transaction."""
    original = app.state.sessionmaker
    factory = async_sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
    app.state.sessionmaker = factory
    try:
        yield factory
    finally:
        app.state.sessionmaker = original


@pytest.fixture
async def db(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session inside the test's transaction, for arranging and checking data."""
    async with sessions() as session:
        yield session


@pytest.fixture
async def client(app: FastAPI, sessions: Any) -> AsyncIterator[httpx.AsyncClient]:
    del sessions  # requested so that the app is bound to the test's transaction
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
def throwaway(backend: Backend) -> Iterator[str]:
    """A database of the test's own that commits for real; dropped afterwards."""
    url = backend.copy("nrm_x")
    try:
        yield url
    finally:
        backend.drop(url)


@pytest.fixture
async def committed_app(throwaway: str) -> AsyncIterator[FastAPI]:
    """An app on a throwaway database with its real engine and real commits."""
    app = create_app(settings_for(throwaway))
    try:
        yield app
    finally:
        await app.state.engine.dispose()


@pytest.fixture
async def committed_client(committed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=committed_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def fresh_engine(url: str) -> AsyncEngine:
    """An engine of the service's own kind for a URL (SQLite pragmas included)."""
    return create_engine(settings_for(url))
