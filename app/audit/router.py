"""Routes of the audit trail, for auditors only: events, verification, the latest checkpoint.

Parses, calls one query, presents. Nothing here writes an event or commits; the rules are in
`queries`, `verify` and `checkpoints`. The events and the walk read through `ReadOnlyDbSession`
(on SQLite they never wait for a writer); the checkpoint may extend itself, so it does not.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel, Field, StrictInt, StringConstraints, WithJsonSchema

from app.audit import checkpoints, queries
from app.audit.actions import Action
from app.audit.models import Track
from app.audit.schemas import AuditEventRead, CheckpointRead, VerifyRead
from app.audit.verify import verify_trail
from app.db import allow_time
from app.errors import FieldError, NotFound, ValidationFailed
from app.http import (
    AppSessions,
    AppSettings,
    DbSession,
    PageParams,
    Paging,
    ReadOnlyDbSession,
    RequestNow,
)
from app.identity.deps import Requires
from app.identity.permissions import Permission
from app.identity.principal import Principal
from app.routing import api_router
from app.schemas import Moment, Page

router = api_router(tags=["audit"])

Auditor = Annotated[Principal, Requires(Permission.READ_AUDIT)]


# Any name up to the column's length: the contract's filter is open, so an action the service
# does not write (yet) is an empty page, not a refusal.
ActionName = Annotated[
    str,
    StringConstraints(max_length=64),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": [a.value for a in Action], "description": "an action the service writes"},
                {"type": "string", "maxLength": 64},
            ]
        }
    ),
]


def event_filters(
    referral_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    organisation: Annotated[str | None, Query(max_length=64)] = None,
    action: ActionName | None = None,
    track: Track | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
) -> queries.EventFilters:
    """The filters of API.md; `since` is inclusive, `until` exclusive, both with a zone. The
    `action` filter documents the actions the service writes (OpenAPI lists them) and still
    takes any name, as it always has: a name no event carries finds nothing (docs/audit.md)."""
    if since is not None and until is not None and until < since:
        raise ValidationFailed(
            "until is before since", errors=[FieldError("until", "must not be before since")]
        )
    return queries.EventFilters(referral_id, actor_id, organisation, action, track, since, until)


Filters = Annotated[queries.EventFilters, Depends(event_filters)]


class EventsAfter(BaseModel):
    """A page of events starts after this seq."""

    seq: Annotated[StrictInt, Field(ge=0)]


def after_seq(paging: PageParams) -> int:
    """The seq a cursor continues after (0 on the first page); 422 for a cursor not ours."""
    after = paging.after(EventsAfter)
    return after.seq if after else 0


@router.get("/audit/events", response_model=Page[AuditEventRead])
async def list_events(
    session: ReadOnlyDbSession, _auditor: Auditor, filters: Filters, paging: Paging
) -> Page[AuditEventRead]:
    """Events oldest first; never skips one that commits after a later one was served."""
    events, last = await queries.events_page(
        session, filters, after=after_seq(paging), limit=paging.limit
    )
    cursor = paging.next_cursor({"seq": last}) if last is not None else None
    return Page[AuditEventRead](items=[AuditEventRead.of(e) for e in events], next_cursor=cursor)


@router.get("/audit/verify", response_model=VerifyRead)
async def verify(
    session: ReadOnlyDbSession, _auditor: Auditor, settings: AppSettings
) -> VerifyRead:
    """Walk every chain and check the latest checkpoint is still covered. The walk reads every
    event, so it runs under its own, longer time limit (`NRM_AUDIT_VERIFY_TIMEOUT_MS`)."""
    await allow_time(session, time_limit_ms=settings.audit_verify_timeout_ms)
    latest = await checkpoints.latest(session)
    report = await verify_trail(session, checkpoints=[latest] if latest else [])
    return VerifyRead.of(report)


@router.get("/audit/checkpoints/latest", response_model=CheckpointRead)
async def latest_checkpoint(
    _auditor: Auditor,
    session: DbSession,
    sessions: AppSessions,
    settings: AppSettings,
    now: RequestNow,
) -> CheckpointRead:
    """The newest signed checkpoint, exactly as signed, first extended over the events
    appended since the last one; 404 while there is none (an empty trail)."""
    document = await checkpoints.current(session, sessions, settings, now=now)
    if document is None:
        raise NotFound("no audit checkpoint has been made yet")
    return CheckpointRead.model_validate(document)
