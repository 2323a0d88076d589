"""The admins' view of the outbox: a page of rows, and queueing a failed one again.

Must not: send anything (the worker does) or show a message's body (it is never stored).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, NotificationNotFailed
from app.identity.models import Organisation
from app.notifications.models import Kind, Notification, Status


async def page(
    session: AsyncSession,
    *,
    status: Status | None,
    kind: Kind | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[Notification, str | None]]:
    """Rows newest first on (created_at, id), with the mailbox's organisation code."""
    query = (
        select(Notification, Organisation.code)
        .outerjoin(Organisation, Organisation.id == Notification.organisation_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Notification.status == status.value)
    if kind is not None:
        query = query.where(Notification.kind == kind.value)
    if after is not None:
        at, last = after
        query = query.where(
            or_(
                Notification.created_at < at,
                and_(Notification.created_at == at, Notification.id < last),
            )
        )
    return [(row, code) for row, code in (await session.execute(query)).all()]


def recipient_of(row: Notification, organisation_code: str | None) -> str:
    """A user's id, or `organisation:<code>` for a mailbox (as the audit events name them)."""
    if row.user_id is not None:
        return str(row.user_id)
    return f"organisation:{organisation_code}"


async def retry(
    session: AsyncSession, notification_id: uuid.UUID
) -> tuple[Notification, str | None]:
    """Queue a failed row again, due at once with a fresh count of attempts (404, 409)."""
    row = await session.get(Notification, notification_id, with_for_update=True)
    if row is None:
        raise NotFound("There is no notification with this id.")
    if row.status != Status.FAILED:
        raise NotificationNotFailed(
            f"This notification is {row.status}: only a failed notification can be retried."
        )
    row.status, row.attempts, row.next_attempt_at = Status.QUEUED.value, 0, None
    row.claim_token = row.claimed_until = None
    await session.flush()
    if row.organisation_id is None:
        return row, None
    organisation = await session.get(Organisation, row.organisation_id)
    return row, organisation.code if organisation else None
