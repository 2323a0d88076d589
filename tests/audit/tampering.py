"""What the tampering tests share: writing to the audit table as an attacker with the database's
owner rights would (the append-only triggers dropped first), and values as `record()` stores
them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Text, cast, literal, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.audit import service as audit
from app.audit import triggers


async def tamper(engine: AsyncEngine, *statements: Any) -> None:
    """Drop the append-only triggers, then run the statements, committed."""
    async with engine.begin() as connection:
        pg = connection.dialect.name == "postgresql"
        for statement in triggers.POSTGRESQL_DROP if pg else triggers.SQLITE_DROP:
            await connection.execute(text(statement))
        for statement in statements:
            await connection.execute(statement)


def as_stored(engine: AsyncEngine, values: dict[str, Any]) -> dict[str, Any]:
    """Column values as `record()` stores them: JSON columns as their canonical text."""
    stored = dict(values)
    for name in audit.STORED_AS_CANONICAL_JSON:
        if name in stored:
            text_value = literal(audit.canonical_json(stored[name]), Text)
            pg = engine.dialect.name == "postgresql"
            stored[name] = cast(text_value, JSON) if pg else text_value
    return stored
