"""Verification's walk on SQLite: the events stream to Python in (stream, position) order
through `chain.ChainVerifier`, `chain.content_matches` compares the columns, and every stream's
record is compared after the walk (`outcome.check_records`). Read-only, in constant
memory; PostgreSQL's walk is `app.audit.walk_postgresql`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import chain
from app.audit.models import AuditEvent
from app.audit.outcome import Outcome, check_records

BATCH = 5000
_CHAIN_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.stream,
    AuditEvent.position,
    AuditEvent.canonical,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)
_CONTENT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor_id,
    AuditEvent.actor_organisation,
    AuditEvent.actor_roles,
    AuditEvent.action,
    AuditEvent.track,
    AuditEvent.referral_id,
    AuditEvent.changes,
    AuditEvent.request_id,
)


class _Walk:
    """SQLite's pass over the events: the chains, the columns, and the hashes checkpoints
    need."""

    __slots__ = ("_accept", "_wanted", "first_invalid", "hashes", "verifier")

    def __init__(self, wanted: Mapping[str, set[int]]) -> None:
        self.verifier = chain.ChainVerifier()
        self._accept = self.verifier.feed  # bound once: this runs for every event
        self.first_invalid: int | None = None
        self._wanted = wanted
        self.hashes: dict[tuple[str, int], str] = {}

    def feed(self, event: chain.StoredEvent, content_ok: bool) -> None:
        if not self._accept(event) or not content_ok:
            self._refuse(event.seq)
        if self._wanted:
            positions = self._wanted.get(event.stream)
            if positions is not None and event.position in positions:
                self.hashes[(event.stream, event.position)] = event.hash

    def _refuse(self, seq: int) -> None:
        if self.first_invalid is None or seq < self.first_invalid:
            self.first_invalid = seq


async def walk(session: AsyncSession, wanted: Mapping[str, set[int]]) -> Outcome:
    walked = _Walk(wanted)
    query = (
        select(*_CHAIN_COLUMNS, *_CONTENT_COLUMNS)
        .order_by(AuditEvent.stream, AuditEvent.position)
        .execution_options(yield_per=BATCH)
    )
    result = await session.stream(query)
    stored = chain.StoredEvent
    async for rows in result.partitions():
        for row in rows:
            event = stored(row[0], row[1], row[2], row[3].encode(), row[4], row[5])
            walked.feed(event, _content_matches(row))
    checked = walked.verifier.result().events_checked
    recorded = await check_records(await session.connection())
    heads = walked.verifier.heads()
    return Outcome(checked, walked.first_invalid, recorded, heads, walked.hashes)


def _content_matches(row: Row[Any]) -> bool:
    """Whether the row's columns say what its canonical content says (SQLite's check)."""
    try:
        expected = chain.event_content(
            stream=row.stream,
            position=row.position,
            event_id=str(row.id),
            at=chain.format_at(row.at),
            actor={
                "id": str(row.actor_id) if row.actor_id else None,
                "organisation": row.actor_organisation,
                "roles": row.actor_roles,
            },
            action=row.action,
            track=row.track,
            referral_id=str(row.referral_id) if row.referral_id else None,
            changes=row.changes,
            request_id=row.request_id,
        )
    except (TypeError, ValueError):
        return False  # columns that no event could have been written with
    return chain.content_matches(row.canonical.encode(), expected)
