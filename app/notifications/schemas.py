"""Bodies of the notification endpoints (`GET /notifications`, `POST …/retry`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from app.notifications.models import Kind, Status
from app.schemas import Moment, ResponseModel


class NotificationRead(ResponseModel):
    """One outbox row as an admin watches it (never its message)."""

    id: uuid.UUID
    kind: Kind
    referral_reference: str
    # A user's id, or `organisation:<code>` for an organisation's mailbox.
    recipient: str
    status: Status
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


class NotificationsAfter(BaseModel):
    """A page of notifications starts after this row (newest first). Read as a time with its
    zone and a UUID, so no value a cursor can hold reaches the query as a 500."""

    created_at: Moment
    id: uuid.UUID
