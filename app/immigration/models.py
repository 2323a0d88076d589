"""The immigration compartment's table: one record per referral, apart from the referral.

Nothing on the victim side imports this module (import-linter checks it). The record has its
own version and ETag; changing it never touches the referral (DESIGN §5).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, new_id


class ImmigrationStatus(StrEnum):
    """A person's immigration status, as the immigration liaison records it."""

    BRITISH_OR_IRISH_CITIZEN = "british_or_irish_citizen"
    SETTLED = "settled"  # settled status / indefinite leave
    PRE_SETTLED = "pre_settled"
    VISA_HOLDER = "visa_holder"
    VISA_OVERSTAYER = "visa_overstayer"
    ASYLUM_SEEKER = "asylum_seeker"
    REFUGEE_OR_PROTECTION = "refugee_or_protection"
    NO_LEAVE = "no_leave"
    UNKNOWN = "unknown"


_STATUSES = ", ".join(f"'{s.value}'" for s in ImmigrationStatus)


class ImmigrationRecord(Base):
    """A referral's immigration facts; never joined to the referral in a victim-side query."""

    __tablename__ = "immigration_records"
    __table_args__ = (CheckConstraint(f"status IN ({_STATUSES})", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(32))
    home_office_reference: Mapped[str | None] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}
