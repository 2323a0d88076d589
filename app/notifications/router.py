"""Routes of the outbox for admins: `GET /notifications`, `POST /notifications/{id}/retry`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from app.http import DbSession, Paging
from app.identity.deps import Requires
from app.identity.permissions import Permission
from app.identity.principal import Principal
from app.notifications import service
from app.notifications.models import Kind, Notification, Status
from app.notifications.schemas import NotificationRead, NotificationsAfter
from app.openapi import problems
from app.routing import api_router
from app.schemas import Page

router = api_router(tags=["notifications"])

Admin = Annotated[Principal, Requires(Permission.MANAGE_NOTIFICATIONS)]


def present(row: Notification, organisation_code: str | None) -> NotificationRead:
    return NotificationRead(
        id=row.id,
        kind=Kind(row.kind),
        referral_reference=row.referral_reference,
        recipient=service.recipient_of(row, organisation_code),
        status=Status(row.status),
        attempts=row.attempts,
        created_at=row.created_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


@router.get("/notifications")
async def notifications(
    session: DbSession,
    _admin: Admin,
    paging: Paging,
    status: Annotated[Status | None, Query()] = None,
    kind: Annotated[Kind | None, Query()] = None,
) -> Page[NotificationRead]:
    """A page of the outbox, newest first (administrators only): what was sent, what waits,
    what failed and why. Filters `status` and `kind`."""
    start = paging.after(NotificationsAfter)
    after = (start.created_at, start.id) if start else None
    rows = await service.page(
        session, status=status, kind=kind, after=after, limit=paging.limit + 1
    )
    more = len(rows) > paging.limit
    rows = rows[: paging.limit]
    last = rows[-1][0] if rows else None
    cursor = (
        paging.next_cursor({"created_at": last.created_at.isoformat(), "id": str(last.id)})
        if more and last
        else None
    )
    return Page(items=[present(row, code) for row, code in rows], next_cursor=cursor)


@router.post("/notifications/{notification_id}/retry", responses=problems(404, 409))
async def retry(session: DbSession, _admin: Admin, notification_id: uuid.UUID) -> NotificationRead:
    """Queue a failed notification again (administrators only); 409 unless it failed."""
    return present(*await service.retry(session, notification_id))
