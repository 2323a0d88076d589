"""The referral aggregate's tables: referrals, their decisions, reconsideration requests, notes,
exploitation types, and anonymous duty-to-notify reports.

One aggregate, one version: `Referral.version` is the mapper's `version_id_col`, so every
UPDATE checks it and a lost race surfaces as `StaleDataError` (412). Child rows (decisions,
requests, notes) are changed only through the referral, whose version moves with each command.
No column here holds an immigration fact (DESIGN §5): those live in `app.immigration`.
Invariants only; rules live in `workflow.py`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, new_id
from app.identity.models import Organisation, User
from app.letters.models import Letter
from app.referrals.vocabulary import (
    ExploitationLocation,
    ExploitationType,
    Gender,
    check_in,
)
from app.referrals.workflow import (
    DecisionStatus,
    NextAction,
    Outcome,
    ReconsiderationStatus,
    Stage,
    Status,
)


class Referral(Base):
    """A potential victim's referral and where it stands in the identification workflow."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(check_in("status", Status), name="status"),
        CheckConstraint(check_in("gender", Gender), name="gender"),
        CheckConstraint(check_in("exploitation_location", ExploitationLocation), name="location"),
        CheckConstraint(
            "status_before_suspension IS NULL OR " + check_in("status_before_suspension", Status),
            name="status_before_suspension",
        ),
        CheckConstraint("correspondence_language IN ('en', 'cy')", name="language"),
        Index("ix_referrals_routed_to_id_status", "routed_to_id", "status"),
        # GET /referrals, newest first on (created_at, id), for each way a list narrows.
        Index("ix_referrals_created_at_id", "created_at", "id"),
        Index(
            "ix_referrals_referring_organisation_id_created_at_id",
            "referring_organisation_id",
            "created_at",
            "id",
        ),
        Index("ix_referrals_routed_to_id_created_at_id", "routed_to_id", "created_at", "id"),
        Index("ix_referrals_status_created_at_id", "status", "created_at", "id"),
        # Statistics count the referrals filed in a period (docs/statistics.md).
        Index("ix_referrals_created_on", "created_on"),
        CheckConstraint(
            "next_action IS NULL OR " + check_in("next_action", NextAction), name="next_action"
        ),
        # The queue (app.referrals.queue): one unit's work of one kind, earliest due first.
        Index(
            "ix_referrals_queue",
            "routed_to_id",
            "next_action",
            "queue_due",
            "reference",
            postgresql_where=text("next_action IS NOT NULL"),
            sqlite_where=text("next_action IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_on: Mapped[date] = mapped_column(Date)  # the Welsh date of submission
    is_child: Mapped[bool] = mapped_column(Boolean)
    referring_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    submitted_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    routed_to_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    # The potential victim (personal data: every read is audited).
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    other_names: Mapped[list[str]] = mapped_column(JSON)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    estimated_age: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[str] = mapped_column(String(16))
    nationality: Mapped[str | None] = mapped_column(String(2), index=True)
    languages: Mapped[list[str]] = mapped_column(JSON)
    interpreter_needed: Mapped[bool] = mapped_column(Boolean)
    correspondence_language: Mapped[str] = mapped_column(String(2))

    consent_given: Mapped[bool | None] = mapped_column(Boolean)
    consent_recorded_on: Mapped[date | None] = mapped_column(Date)

    exploitation_location: Mapped[str] = mapped_column(String(32))
    local_authority: Mapped[str] = mapped_column(
        ForeignKey("local_authorities.ons_code"), index=True
    )
    exploitation_began_on: Mapped[date | None] = mapped_column(Date)
    exploitation_ongoing: Mapped[bool | None] = mapped_column(Boolean)
    exploited_as_child: Mapped[bool | None] = mapped_column(Boolean)
    indicators: Mapped[list[str]] = mapped_column(JSON)
    account: Mapped[str] = mapped_column(Text)

    # Deadlines (DESIGN §4): stored, shown in queues, counted in statistics.
    rg_due: Mapped[date | None] = mapped_column(Date)
    recovery_period_ends: Mapped[date | None] = mapped_column(Date)
    panel_review_due: Mapped[date | None] = mapped_column(Date)
    # Suspension: where to return, and since when (no deadline runs meanwhile).
    status_before_suspension: Mapped[str | None] = mapped_column(String(32))
    suspended_on: Mapped[date | None] = mapped_column(Date)
    # Where the referral stands in its unit's queue, kept by every command that changes it
    # (`command_steps.queue_position`): the work it waits for, if any, and its due date, stored as
    # 9999-12-31 (`facts.NO_DUE_DATE`) when the work has none, so that the queue's order is one
    # index. Both are None when the referral waits on nobody.
    next_action: Mapped[str | None] = mapped_column(String(32))
    queue_due: Mapped[date | None] = mapped_column(Date)

    __mapper_args__ = {"version_id_col": version}

    referring_organisation: Mapped[Organisation] = relationship(
        foreign_keys=[referring_organisation_id], lazy="raise"
    )
    routed_to: Mapped[Organisation] = relationship(foreign_keys=[routed_to_id], lazy="raise")
    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id], lazy="raise")
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id], lazy="raise")
    exploitation_types: Mapped[list[ReferralExploitationType]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="ReferralExploitationType.position",
    )
    decisions: Mapped[list[Decision]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="Decision.decided_at",
        back_populates="referral",
    )
    reconsideration_requests: Mapped[list[ReconsiderationRequest]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ReconsiderationRequest.requested_at"
    )
    notes: Mapped[list[Note]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Note.at"
    )
    # The decision letters written to the person (app.letters), oldest first.
    letters: Mapped[list[Letter]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Letter.created_at"
    )


class ReferralExploitationType(Base):
    """One exploitation type of a referral: a row each, so statistics can count them in SQL."""

    __tablename__ = "referral_exploitation_types"
    __table_args__ = (CheckConstraint(check_in("type", ExploitationType), name="type"),)

    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True
    )
    type: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The order the first responder gave the types in, which the representation keeps.
    position: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))


class Decision(Base):
    """A reasonable-grounds or conclusive-grounds decision, with its review when it has one."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(check_in("stage", Stage), name="stage"),
        CheckConstraint(check_in("outcome", Outcome), name="outcome"),
        CheckConstraint(check_in("status", DecisionStatus), name="status"),
        CheckConstraint("working_days >= 0", name="working_days"),
        Index("ix_decisions_referral_id_decided_at", "referral_id", "decided_at"),
        Index("ix_decisions_stage_decided_on", "stage", "decided_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text)
    early_decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_on: Mapped[date] = mapped_column(Date)  # Welsh date
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    guidance_version: Mapped[str] = mapped_column(String(32))
    # Working days from the stage's start to this decision, and whether it met its due date
    # (None for conclusive grounds, which has no deadline): statistics need no calendar.
    working_days: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date | None] = mapped_column(Date)
    met: Mapped[bool | None] = mapped_column(Boolean)
    # When the decision took effect (positive at once; negative after its review agreed).
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    review_agree: Mapped[bool | None] = mapped_column(Boolean)
    review_comments: Mapped[str | None] = mapped_column(Text)
    review_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_due: Mapped[date | None] = mapped_column(Date)

    referral: Mapped[Referral] = relationship(back_populates="decisions", lazy="raise")
    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id], lazy="raise")
    review_by: Mapped[User | None] = relationship(foreign_keys=[review_by_id], lazy="raise")
    unit: Mapped[Organisation] = relationship(lazy="raise")


class ReconsiderationRequest(Base):
    """The referring organisation's request to reconsider a negative decision."""

    __tablename__ = "reconsideration_requests"
    __table_args__ = (CheckConstraint(check_in("status", ReconsiderationStatus), name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decisions.id"))
    status: Mapped[str] = mapped_column(String(16))
    grounds: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_on: Mapped[date] = mapped_column(Date)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reasons: Mapped[str | None] = mapped_column(Text)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="raise")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="raise")


class Note(Base):
    """Further information added to a referral by its referrer or its deciding unit."""

    __tablename__ = "referral_notes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    by: Mapped[User] = relationship(lazy="raise")


class DutyToNotify(Base):
    """An anonymous duty-to-notify report (Modern Slavery Act 2015 s52): nothing identifying."""

    __tablename__ = "duty_to_notify_reports"
    __table_args__ = (
        CheckConstraint(check_in("gender", Gender), name="gender"),
        CheckConstraint(check_in("exploitation_location", ExploitationLocation), name="location"),
        Index("ix_duty_to_notify_reports_created_at", "created_at"),
        Index("ix_duty_to_notify_reports_created_on", "created_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_on: Mapped[date] = mapped_column(Date)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    submitted_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    gender: Mapped[str] = mapped_column(String(16))
    nationality: Mapped[str | None] = mapped_column(String(2))
    exploitation_types: Mapped[list[str]] = mapped_column(JSON)
    exploitation_location: Mapped[str] = mapped_column(String(32))
    local_authority: Mapped[str] = mapped_column(ForeignKey("local_authorities.ons_code"))

    organisation: Mapped[Organisation] = relationship(lazy="raise")


class ReferenceCounter(Base):
    """The last number issued per reference series and year (`NRM-W-2026-000001`).

    Incremented with `UPDATE … RETURNING` under the row lock, so references are unique and
    gap-free under concurrency; intake is rare enough that the short lock costs nothing.
    """

    __tablename__ = "reference_counters"
    __table_args__ = (UniqueConstraint("series", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer)
