"""The `letters` table: one row per letter the service owes a person (docs/letters.md).

A row holds what the letter is (its kind, the decision it tells of, the reconsideration request
when it answers one), whom it is addressed to and in which language, and the dates it states,
fixed when it is written so that the PDF rendered from it is the same at every download. The
reasons are read from the decision (or the request), never copied. Nothing here holds an
immigration fact (DESIGN §5). Invariants only.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, new_id
from app.referrals.vocabulary import check_in


class LetterKind(StrEnum):
    """What a letter tells: a decision by stage and outcome, or a reconsideration's answer."""

    RG_POSITIVE = "rg_positive"
    RG_NEGATIVE = "rg_negative"
    CG_POSITIVE = "cg_positive"
    CG_NEGATIVE = "cg_negative"
    RECONSIDERATION_ACCEPTED = "reconsideration_accepted"
    RECONSIDERATION_DECLINED = "reconsideration_declined"


class Addressee(StrEnum):
    """Who a letter is addressed to: the person, or (a child's) the local authority holding
    the child's care, never the child (CASEWORK "Decision letters")."""

    PERSON = "person"
    LOCAL_AUTHORITY = "local_authority"


class Letter(Base):
    """A letter to the person about a decision on their referral."""

    __tablename__ = "letters"
    __table_args__ = (
        CheckConstraint(check_in("kind", LetterKind), name="kind"),
        CheckConstraint(check_in("addressee", Addressee), name="addressee"),
        CheckConstraint("language IN ('en', 'cy')", name="language"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decisions.id"))
    reconsideration_request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("reconsideration_requests.id")
    )
    # The person's correspondence language when the letter was written: `cy` is Welsh first,
    # then English, in one document.
    language: Mapped[str] = mapped_column(String(2))
    addressee: Mapped[str] = mapped_column(String(16))
    # For a child's letter: the ONS code of the local authority holding the child's care.
    local_authority: Mapped[str | None] = mapped_column(String(9))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The dates the letter states (Welsh calendar dates): the decision's, and by kind the end
    # of the recovery period (RG positive), of move-on support (CG positive) or of support
    # (negative), and the last day to ask for reconsideration (negative).
    decided_on: Mapped[date] = mapped_column(Date)
    until_on: Mapped[date | None] = mapped_column(Date)
    reconsider_by: Mapped[date | None] = mapped_column(Date)
