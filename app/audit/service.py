"""Writing audit events: `record()` is the one way to append one.

It never commits: the event rides in the caller's transaction, so a committed change always
has its event and a rolled-back one never does (STYLE.md). Each event is appended to its
stream under that stream's own head row, never a lock shared by unrelated streams (DESIGN §6):
the event's content is drafted by `app.audit.draft`, appended by `app.audit.append` (the one
module where the backends differ). Nothing else may insert events.

`ActorRef` and `SYSTEM` live in the pure `app.audit.actor`; they are re-exported here so that
callers write `audit.ActorRef` / `audit.SYSTEM` beside `audit.record`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.actions import Action
from app.audit.actor import SYSTEM, ActorRef
from app.audit.append import append
from app.audit.draft import Draft
from app.audit.models import AuditEvent, Track
from app.request_id import current_request_id

__all__ = ["SYSTEM", "ActorRef", "organisation_stream", "record", "referral_stream"]


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
    action: Action,
    track: Track,
    now: datetime,
    referral_id: uuid.UUID | None = None,
    changes: Mapping[str, Any] | None = None,
    stream: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction; never commits.

    The caller's pending changes are flushed first, so a change that fails (a stale version,
    a constraint) fails before the stream's head row is locked. Returns the stored event (not
    attached to the session) with its `seq`. `action` is an `Action`, so mypy refuses a
    name that is none (docs/audit.md lists them).
    """
    if stream is None:
        stream = (
            referral_stream(referral_id) if referral_id else organisation_stream(actor.organisation)
        )
    await session.flush()
    draft = Draft.of(
        stream=stream,
        actor=actor,
        action=action,
        track=track,
        now=now,
        referral_id=referral_id,
        changes=dict(changes or {}),
        request_id=current_request_id(),
    )
    return await append(session, draft)
