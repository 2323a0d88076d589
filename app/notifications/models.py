"""The outbox (`notifications`) and the deadline reminders already found (`deadline_reminders`).

A notification row names its recipient (a user, or an organisation's mailbox) and holds the
facts its message is made of (`params`: the reference, a stage, a due date; never personal
data). The message itself is rendered at delivery, in the recipient's language then, and never
stored. Invariants only: the closed vocabularies as CHECK constraints, exactly one recipient,
one reminder per referral, stage and kind (a primary key).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, new_id
from app.referrals.vocabulary import check_in


class Kind(StrEnum):
    """What a notification tells (docs/notifications.md has who is told each)."""

    REFERRAL_RECEIVED = "referral.received"
    REFERRAL_ROUTED = "referral.routed"
    REVIEW_NEEDED = "review.needed"
    PANEL_NEEDED = "panel.needed"
    DECISION_EFFECTIVE = "decision.effective"
    RECONSIDERATION_REQUESTED = "reconsideration.requested"
    RECONSIDERATION_DECIDED = "reconsideration.decided"
    DEADLINE_DUE_SOON = "deadline.due_soon"
    DEADLINE_MISSED = "deadline.missed"
    REFERRAL_SUSPENDED = "referral.suspended"
    REFERRAL_RESUMED = "referral.resumed"
    REFERRAL_WITHDRAWN = "referral.withdrawn"


class Status(StrEnum):
    """`queued`: waiting for the worker (again, after a failed attempt); `sent`: the mail
    server took it (or its `.eml` file was written); `failed`: given up (an admin may retry)."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class Notification(Base):
    """One message to one recipient, written in the transaction of the change it tells of."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(check_in("kind", Kind), name="kind"),
        CheckConstraint(check_in("status", Status), name="status"),
        CheckConstraint("(user_id IS NULL) <> (organisation_id IS NULL)", name="one_recipient"),
        # The worker's claim: queued rows, earliest due first.
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
        # GET /notifications: newest first, on (created_at, id).
        Index("ix_notifications_created_at_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40))
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    referral_reference: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None: due at once. After a failed attempt, when to try again (exponential backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A worker's claim: its token, held until `claimed_until` (then another may take the row).
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


class DeadlineReminder(Base):
    """A deadline reminder already written: at most one per referral, stage and kind."""

    __tablename__ = "deadline_reminders"

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
