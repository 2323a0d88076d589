"""Which database backend a session talks to, and the one statement that differs in every
upsert: `INSERT … ON CONFLICT`, which SQLAlchemy builds per dialect.

Owns only the question and that constructor, so a module whose rule differs by backend (the
audit append, the idempotency claim, the log-in throttle's counters) asks here instead of
comparing dialect names itself. Must not: hold a rule of its own or connect.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def is_postgresql(session: AsyncSession) -> bool:
    """Whether the session's database is PostgreSQL (else SQLite, the only other backend)."""
    return session.get_bind().dialect.name == "postgresql"


def upsert(session: AsyncSession, table: Any) -> Any:
    """An `INSERT` into `table` that takes `on_conflict_do_nothing` / `on_conflict_do_update`
    on the session's backend."""
    return pg_insert(table) if is_postgresql(session) else sqlite_insert(table)
