"""How readers and checkpoint batches keep out of the appenders' way: the audit trail's other
backend differences (the append itself is `app.audit.append`).

On PostgreSQL a transaction may hold seq 10 uncommitted while seq 11 commits, so a reader
fences in-flight appends with a SHARE lock on `audit_streams` (every append writes that table
first), checkpoint batches take an advisory lock so that one runs at a time, and an auditor's
checkpoint runs in transactions of its own. On SQLite, `BEGIN IMMEDIATE` serialises every
writer already: none of this is needed. Must not: read or write events.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from app import backends
from app.errors import DatabaseUnavailable

# How long a reader waits for in-flight appends before giving up with 503 (a lock that times
# out is 503, never 500: STYLE.md). Appends queue behind a waiting reader, so keep it short.
HORIZON_LOCK_TIMEOUT_MS = 2000
# The advisory lock that names "the checkpoint batch" on PostgreSQL ("nrm_audi" as a bigint).
BATCH_LOCK_KEY = 0x6E726D5F61756469


async def fence_appends(session: AsyncSession) -> None:
    """Wait for in-flight appends and hold new ones back until this transaction ends; 503
    when they take longer than `HORIZON_LOCK_TIMEOUT_MS`."""
    if not backends.is_postgresql(session):
        return
    await session.execute(text(f"SET LOCAL lock_timeout = {int(HORIZON_LOCK_TIMEOUT_MS)}"))
    try:
        await session.execute(text("LOCK TABLE audit_streams IN SHARE MODE"))
    except OperationalError as exc:
        raise DatabaseUnavailable("the audit trail is busy; retry shortly") from exc


async def one_batch_at_a_time(session: AsyncSession) -> None:
    """Hold the checkpoint batch's lock until this transaction ends."""
    if backends.is_postgresql(session):
        await session.execute(select(func.pg_advisory_xact_lock(BATCH_LOCK_KEY)))


def batches_in_own_transactions(session: AsyncSession) -> bool:
    """Whether an auditor's checkpoint runs in transactions of its own (PostgreSQL), rather
    than in the request's, which on SQLite already holds the one write lock."""
    return backends.is_postgresql(session)
