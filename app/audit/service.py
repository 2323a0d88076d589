"""Writing audit events: `record()` is the one way to append one.

It never commits: the event rides in the caller's transaction, so a committed change always
has its event and a rolled-back one never does (STYLE.md). Each event is appended to its
stream under that stream's own row lock, never a lock shared by unrelated streams.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import chain
from app.audit.models import AuditEvent, AuditStream, Track
from app.http import current_request_id


@dataclass(frozen=True, slots=True)
class ActorRef:
    """Who did it, as the audit trail records it (ids and codes, never names)."""

    user_id: uuid.UUID | None
    organisation: str | None
    roles: tuple[str, ...] = field(default=())


SYSTEM = ActorRef(user_id=None, organisation=None, roles=("system",))


def referral_stream(referral_id: uuid.UUID) -> str:
    """A referral's events form one stream (DESIGN §6)."""
    return f"referral:{referral_id}"


def organisation_stream(code: str | None) -> str:
    """Events with no referral chain per organisation (or `system`)."""
    return f"organisation:{code}" if code else "system"


async def record(
    session: AsyncSession,
    actor: ActorRef,
    *,
    action: str,
    track: Track,
    now: datetime,
    referral_id: uuid.UUID | None = None,
    changes: Mapping[str, Any] | None = None,
    stream: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction and flush it; never commits."""
    if stream is None:
        stream = (
            referral_stream(referral_id) if referral_id else organisation_stream(actor.organisation)
        )
    length, head = await _lock_stream(session, stream)
    event_id = uuid.uuid4()
    request_id = current_request_id()
    content = chain.event_content(
        stream=stream,
        position=length + 1,
        event_id=str(event_id),
        at=chain.format_at(now),
        actor=_actor_content(actor),
        action=action,
        track=track.value,
        referral_id=str(referral_id) if referral_id else None,
        changes=dict(changes or {}),
        request_id=request_id,
    )
    canonical = chain.canonical_bytes(content)
    digest = chain.event_hash(head, canonical)
    event = AuditEvent(
        id=event_id,
        at=now,
        actor_id=actor.user_id,
        actor_organisation=actor.organisation,
        actor_roles=list(actor.roles),
        action=action,
        track=track.value,
        referral_id=referral_id,
        stream=stream,
        position=length + 1,
        changes=dict(changes or {}),
        request_id=request_id,
        prev_hash=head,
        hash=digest,
        canonical=canonical.decode("utf-8"),
    )
    session.add(event)
    await session.execute(
        update(AuditStream)
        .where(AuditStream.stream == stream)
        .values(length=length + 1, head=digest)
    )
    await session.flush()
    return event


def _actor_content(actor: ActorRef) -> dict[str, Any]:
    return {
        "id": str(actor.user_id) if actor.user_id else None,
        "organisation": actor.organisation,
        "roles": list(actor.roles),
    }


async def _lock_stream(session: AsyncSession, stream: str) -> tuple[int, str | None]:
    """Create the stream's head row if new, then lock it: writers to one stream queue here."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(AuditStream)
        .values(stream=stream, length=0, head=None)
        .on_conflict_do_nothing(index_elements=["stream"])
    )
    row = (
        await session.execute(
            select(AuditStream.length, AuditStream.head)
            .where(AuditStream.stream == stream)
            .with_for_update()
        )
    ).one()
    return int(row.length), row.head
