"""The database: engine, sessions, the one place that commits, and shared column types.

Owns the transaction rule of STYLE.md: one request, one transaction, committed by
`request_transaction` (entered by `app.http.get_db_session`) after the endpoint returns and
before the response is sent; CLI and background code use `transaction()`. Nothing else in
`app/` commits or rolls back (a test scans for it).
Nothing here connects at import time, and nothing imports the web framework: models and
services import this module, and the core stays free of FastAPI (import-linter).

It also owns the two database-level defences of docs/operations.md: the time limit of a
request's statements (PostgreSQL `statement_timeout`; on SQLite a progress handler that
interrupts a statement past its deadline), and read-only requests, whose SQLite transactions
begin deferred so that they read beside a writer instead of queueing for the write lock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from app.errors import AppError, DatabaseUnavailable, TimeLimitExceeded
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


READ_ONLY = "nrm_read_only"
"""Execution option of a session that writes nothing: on SQLite its transaction begins deferred."""

TIME_LIMIT_MS = "nrm_time_limit_ms"
"""Execution option: the time limit of each statement on SQLite, in milliseconds (see
`allow_time`); PostgreSQL keeps it in `statement_timeout`."""

SQLITE_PROGRESS_STEPS = 10_000
"""How many SQLite virtual-machine steps run between two looks at the deadline (a look costs
a Python call: every 10,000 steps it is lost in the noise)."""

DEADLINE_INFO = "nrm_deadline"
"""Where a time-limited SQLite connection keeps its `_Deadline` (the pool record's `info`)."""


def create_engine(settings: Settings, *, time_limit_ms: int | None = None) -> AsyncEngine:
    """The service's engine; on SQLite, foreign keys on and `BEGIN IMMEDIATE` transactions.

    `time_limit_ms` limits every statement (the service's requests pass
    `NRM_STATEMENT_TIMEOUT_MS`; the CLI's long walks and exports pass nothing).
    """
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
        )
        configure_sqlite(engine, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        if time_limit_ms is not None:
            limit_sqlite_statements(engine, time_limit_ms=time_limit_ms)
        return engine
    # psycopg prepares a statement run five times, and PostgreSQL may then plan it once for
    # any values ("generic plan"). For a time window over the audit trail that plan walks the
    # whole log by seq (0.4 s at 2,000,000 events) where the window's own plan reads its index
    # (2 ms): every statement is planned for its values instead (docs/performance.md).
    options = ["-c plan_cache_mode=force_custom_plan"]
    if time_limit_ms is not None:
        options.append(f"-c statement_timeout={int(time_limit_ms)}")
    connect_args = {"options": " ".join(options)}
    return create_async_engine(
        settings.database_url, pool_pre_ping=True, pool_size=10, connect_args=connect_args
    )


def configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    """SQLAlchemy's documented pysqlite workaround, so that savepoints and locking work.

    The driver's own transaction handling is switched off and every transaction starts with
    `BEGIN IMMEDIATE`, which takes the write lock up front: two writers queue on the busy
    timeout instead of failing on a lock upgrade. A session marked `READ_ONLY` begins deferred
    instead: in WAL mode it reads a snapshot beside the writer and never waits for the lock.
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
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class _Deadline:
    """When the statement running on one SQLite connection must stop (None: no limit)."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None

    def passed(self) -> int:
        # SQLite's progress handler: non-zero interrupts the statement ("interrupted").
        at = self.at
        return int(at is not None and time.monotonic() > at)


def limit_sqlite_statements(engine: AsyncEngine, *, time_limit_ms: int) -> None:
    """SQLite's `statement_timeout`: each statement gets a deadline when it starts (the
    `TIME_LIMIT_MS` execution option, or `time_limit_ms`), and a progress handler interrupts
    it once the deadline has passed. Waiting for a lock is not counted (the busy timeout is)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        deadline = record.info[DEADLINE_INFO] = _Deadline()
        dbapi_connection.run_async(
            lambda driver: driver.set_progress_handler(deadline.passed, SQLITE_PROGRESS_STEPS)
        )

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _start(conn: Any, _cursor: Any, _sql: Any, _params: Any, context: Any, _many: Any) -> None:
        options = context.execution_options if context is not None else {}
        limit = options.get(TIME_LIMIT_MS, time_limit_ms)
        conn.info[DEADLINE_INFO].at = time.monotonic() + limit / 1000

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _stop(conn: Any, *_args: Any) -> None:
        conn.info[DEADLINE_INFO].at = None

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle(_dbapi_connection: Any, record: Any) -> None:
        if DEADLINE_INFO in record.info:
            record.info[DEADLINE_INFO].at = None


async def allow_time(session: AsyncSession, *, time_limit_ms: int) -> None:
    """Give the rest of this session's transaction another statement time limit (the audit
    walk of `GET /audit/verify`, which reads every event, is allowed longer)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT set_config('statement_timeout', :limit, true)"),
            {"limit": str(int(time_limit_ms))},
        )
        return
    sync = session.sync_session
    sync.execution_options = sync.execution_options.union({TIME_LIMIT_MS: time_limit_ms})


def mark_read_only(session: AsyncSession) -> None:
    """Mark a session that writes nothing, before its transaction begins: on SQLite it then
    begins deferred (see `configure_sqlite`). A session already in a transaction cannot be
    marked: that is a mistake in the order of a route's dependencies."""
    if session.in_transaction():
        raise RuntimeError("a session must be marked read-only before it first reads")
    sync = session.sync_session
    sync.execution_options = sync.execution_options.union({READ_ONLY: True})


@asynccontextmanager
async def read_only_session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session of its own that writes nothing (a long read beside the request's own, as the
    API's `ReadOnlyDbSession`), rolled back at the end."""
    async with sessions() as session:
        mark_read_only(session)
        try:
            yield session
        finally:
            await session.rollback()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (responses are built before it)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def is_unavailable(exc: BaseException) -> bool:
    """Whether a database error means the database cannot be reached (or is locked), or that
    no connection of the pool came free in time (`TimeoutError`: more requests at once than
    connections, for longer than the pool waits)."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def ran_out_of_time(exc: BaseException) -> bool:
    """Whether a database error is a statement stopped by the time limit: PostgreSQL's
    `query_canceled` (SQLSTATE 57014) or SQLite's "interrupted"."""
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    if getattr(original, "sqlstate", None) == "57014":
        return True
    return type(original).__name__ == "OperationalError" and str(original) == "interrupted"


def unavailable_error(exc: BaseException) -> AppError | None:
    """The 503 a database error becomes (with `Retry-After`), or None if it is not one."""
    if ran_out_of_time(exc):
        return TimeLimitExceeded()
    if is_unavailable(exc):
        return DatabaseUnavailable()
    return None


@asynccontextmanager
async def request_transaction(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: commit when the endpoint returns, roll back on error.

    Entered by `app.http.get_db_session` with `Depends(..., scope="function")`, so the commit
    runs before the response is sent: a failed commit becomes a problem response, never a 2xx.
    """
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        try:
            await session.commit()
        except OperationalError as exc:
            raise (unavailable_error(exc) or DatabaseUnavailable()) from exc


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
