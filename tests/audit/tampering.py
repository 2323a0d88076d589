"""What the tampering tests share: writing to the audit table as an attacker with the database's
owner rights would (the append-only triggers dropped first), values as `record()` stores them,
and a `Trail` of committed chains to tamper with (the `trail` fixture is in conftest.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Text, Update, cast, func, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.audit import chain, triggers
from app.audit import service as audit
from app.audit.draft import STORED_AS_CANONICAL_JSON, Draft
from app.audit.models import AuditEvent
from app.audit.verify import VerifyReport, verify_trail
from app.db import transaction

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ACTOR = audit.ActorRef(uuid.uuid4(), "bawso", ("first_responder",))
LENGTH = 5


async def tamper(engine: AsyncEngine, *statements: Any) -> None:
    """Drop the append-only triggers, then run the statements, committed."""
    async with engine.begin() as connection:
        pg = connection.dialect.name == "postgresql"
        for statement in triggers.POSTGRESQL_DROP if pg else triggers.SQLITE_DROP:
            await connection.execute(text(statement))
        for statement in statements:
            await connection.execute(statement)


def canonical_json(value: Any) -> str:
    """The canonical JSON text of one value, as it appears inside an event's canonical form."""
    return chain.canonical_bytes({"": value}).decode("utf-8")[4:-1]


def event_row(*, position: int, prev_hash: str | None, **draft: Any) -> dict[str, Any]:
    """The column values of a forged event at `position` after `prev_hash`, hashed and
    canonical: exactly what `record()` would have stored there (`Draft.of` takes `draft`)."""
    return Draft.of(**draft).row(position, prev_hash)


def as_stored(engine: AsyncEngine, values: dict[str, Any]) -> dict[str, Any]:
    """Column values as `record()` stores them: JSON columns as their canonical text."""
    stored = dict(values)
    for name in STORED_AS_CANONICAL_JSON:
        if name in stored:
            text_value = literal(canonical_json(stored[name]), Text)
            pg = engine.dialect.name == "postgresql"
            stored[name] = cast(text_value, JSON) if pg else text_value
    return stored


def swap_seqs(first: int, second: int) -> list[Update]:
    """Statements giving two events each other's seq (for `tamper`): seq is the key, so one
    moves aside to a seq no event has (they are positive) first."""
    aside = -first
    return [
        update(AuditEvent).where(AuditEvent.seq == first).values(seq=aside),
        update(AuditEvent).where(AuditEvent.seq == second).values(seq=first),
        update(AuditEvent).where(AuditEvent.seq == aside).values(seq=second),
    ]


@dataclass
class Trail:
    """Three interleaved streams of LENGTH events each, committed; seqs by stream."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    streams: dict[str, list[int]]
    referral: uuid.UUID
    workers: int = 1

    @property
    def names(self) -> list[str]:
        return list(self.streams)

    def seq(self, stream: int, position: int) -> int:
        return self.streams[self.names[stream]][position - 1]

    async def tamper(self, *statements: object) -> None:
        """Drop the triggers, then run the statements, committed."""
        await tamper(self.engine, *statements)

    async def verify(self) -> VerifyReport:
        async with transaction(self.sessions) as session:
            return await verify_trail(session, workers=self.workers)

    async def total(self) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
