"""The database: engine, sessions, the one place that commits, and shared column types.

Owns the transaction rule of STYLE.md: one request, one transaction, committed by
`get_db_session` after the endpoint returns and before the response is sent; CLI and background
code use `transaction()`. Nothing else in `app/` commits or rolls back (a test scans for it).
Nothing here connects at import time.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator
from starlette.requests import Request

from app.errors import DatabaseUnavailable
from app.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the naming convention Alembic batch mode needs on SQLite."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused; use app.clock")
        return value.astimezone(UTC)

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002
    ) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> uuid.UUID:
    """A fresh random primary key."""
    return uuid.uuid4()


def create_engine(settings: Settings) -> AsyncEngine:
    """The service's engine; on SQLite, foreign keys on and `BEGIN IMMEDIATE` transactions."""
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
        )
        configure_sqlite(engine, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        return engine
    return create_async_engine(settings.database_url, pool_pre_ping=True, pool_size=10)


def configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    """SQLAlchemy's documented pysqlite workaround, so that savepoints and locking work.

    The driver's own transaction handling is switched off and every transaction starts with
    `BEGIN IMMEDIATE`, which takes the write lock up front: two writers queue on the busy
    timeout instead of failing on a lock upgrade.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (responses are built before it)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def is_unavailable(exc: BaseException) -> bool:
    """Whether a database error means the database cannot be reached (or is locked)."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: commit when the endpoint returns, roll back on error.

    Used with `Depends(get_db_session, scope="function")`, so the commit runs before the
    response is sent: a failed commit becomes a problem response, never a 2xx.
    """
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        try:
            await session.commit()
        except OperationalError as exc:
            raise DatabaseUnavailable() from exc


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction for CLI and background code: commit on success, roll back on error."""
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
