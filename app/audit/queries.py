"""Auditors' queries over the audit trail: filtered pages, exports, the paging horizon, and
each stream's record beside its newest event (for `verify`).

Read-only: nothing here writes an event or changes a row. Every filter is backed by an index
of `audit_events` on (column, seq), so a page costs the same at millions of events.

The horizon (API.md: "paging never skips an event that commits after a later one was
served"): `seq` comes from a sequence, so a transaction holding seq 10 may commit after seq 11
was read. Pages therefore only serve events up to `horizon()`, a seq below which nothing can
still commit. On PostgreSQL the reader takes `LOCK TABLE audit_streams IN SHARE MODE`: every
append first upserts its stream's head row (`app.audit.append`), which holds ROW
EXCLUSIVE on that table until the appender's transaction ends, and SHARE conflicts with it, so
the lock is granted once every in-flight append has committed or rolled back, and it holds new
appends back until the reader's transaction ends. `max(seq)` read then is a safe horizon.
Appenders never conflict with each other on it (ROW EXCLUSIVE is self-compatible). On SQLite
writers begin IMMEDIATE, one at a time, so seq order is commit order; the reader (a read-only
request, begun deferred) reads a snapshot in which every seq up to `max(seq)` is committed.
See docs/audit.md.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    CompoundSelect,
    ScalarSelect,
    Select,
    exists,
    func,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, defer

from app.audit import fences
from app.audit.models import AuditEvent, AuditStream, Track

EXPORT_BATCH = 1000


@dataclass(frozen=True, slots=True)
class EventFilters:
    """The filters of `GET /audit/events` (API.md); None means "any"."""

    referral_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    organisation: str | None = None
    action: str | None = None
    track: Track | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses, each matching an index on (column, seq) or on `at`."""
        equal = {
            AuditEvent.referral_id: self.referral_id,
            AuditEvent.actor_id: self.actor_id,
            AuditEvent.actor_organisation: self.organisation,
            AuditEvent.action: self.action,
            AuditEvent.track: self.track.value if self.track else None,
        }
        clauses = [column == value for column, value in equal.items() if value is not None]
        if self.since is not None:
            clauses.append(AuditEvent.at >= self.since)
        if self.until is not None:
            clauses.append(AuditEvent.at < self.until)
        return clauses


async def horizon(session: AsyncSession) -> int:
    """The newest seq below which no event can still commit, fenced in this transaction.

    On PostgreSQL the SHARE lock is held until the caller's transaction ends: call this last,
    just before the page query, and keep the transaction short. 503 when in-flight appends
    take longer than `fences.HORIZON_LOCK_TIMEOUT_MS`.
    """
    await fences.fence_appends(session)
    newest = await session.scalar(select(func.max(AuditEvent.seq)))
    return int(newest or 0)


def page_query(filters: EventFilters, *, after: int, upto: int) -> Select[AuditEvent]:
    return (
        select(AuditEvent)
        .options(defer(AuditEvent.canonical))
        .where(*filters.conditions(), AuditEvent.seq > after, AuditEvent.seq <= upto)
        .order_by(AuditEvent.seq)
    )


async def events_page(
    session: AsyncSession, filters: EventFilters, *, after: int, limit: int
) -> tuple[list[AuditEvent], int | None]:
    """Up to `limit` events after seq `after`, oldest first, and the seq to continue after.

    The continuation is None when nothing more is visible below the horizon.
    """
    upto = await horizon(session)
    if after >= upto:
        return [], None
    query = page_query(filters, after=after, upto=upto).limit(limit + 1)
    events = list((await session.scalars(query)).all())
    if len(events) <= limit:
        return events, None
    events = events[:limit]
    return events, events[-1].seq


async def export_events(
    session: AsyncSession, filters: EventFilters, *, upto: int
) -> AsyncIterator[AuditEvent]:
    """Every matching event up to seq `upto`, oldest first, streamed in constant memory.

    Take `upto` from `horizon()` in a transaction of its own, so that appends are not held
    back for the whole export.
    """
    query = (
        select(AuditEvent)
        .where(*filters.conditions(), AuditEvent.seq <= upto)
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    result = await session.stream_scalars(query)
    async for event in result:
        yield event


StreamRecord = CompoundSelect[str, int | None, str | None, int | None, str | None, int | None]


def stream_records() -> StreamRecord:
    """Every stream, recorded (`audit_streams`) or with events, in stream order: (stream,
    recorded length, recorded head, newest event's position, its hash, its seq), None where
    there is no record or no event. Three index probes a recorded stream; finding streams with
    events but no record costs a pass over the events."""
    unrecorded = (
        select(AuditEvent.stream)
        .where(~exists().where(AuditStream.stream == AuditEvent.stream))
        .distinct()
        .subquery()
    )
    newest: tuple[InstrumentedAttribute[Any], ...] = (
        AuditEvent.position,
        AuditEvent.hash,
        AuditEvent.seq,
    )
    query: StreamRecord = union_all(
        select(
            AuditStream.stream,
            AuditStream.length,
            AuditStream.head,
            *(_newest(column, AuditStream.stream) for column in newest),
        ),
        select(
            unrecorded.c.stream,
            null(),
            null(),
            *(_newest(column, unrecorded.c.stream) for column in newest),
        ),
    )
    return query.order_by(query.selected_columns[0])


def _newest(
    column: InstrumentedAttribute[Any], stream: ColumnExpressionArgument[str]
) -> ScalarSelect[Any]:
    """`column` of the newest event of `stream` (correlated)."""
    newest = select(column).where(AuditEvent.stream == stream)
    return newest.order_by(AuditEvent.position.desc()).limit(1).scalar_subquery()
