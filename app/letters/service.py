"""Writing a letter's row when a decision takes effect or a reconsideration is decided
(CASEWORK "Decision letters"): a command's event (`app.referrals.command_steps.record`) calls
`for_decision` or `for_reconsideration` once, after the change, so the row rides in the
command's transaction (a command that is rolled back leaves no letter; a committed one always
has its letter).

Owns the dates a letter states, fixed when it is written: the end of the recovery period (RG
positive), of move-on support (CG positive, `MOVE_ON_DAYS`), of support after a negative
decision (`SUPPORT_ENDS_WORKING_DAYS`) and the last day to ask for reconsideration
(`RECONSIDER_WITHIN_DAYS`). Must not: flush, commit, or read anything of immigration.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from app.days import add_working_days, wales_date
from app.letters.models import Addressee, Letter, LetterKind
from app.referrals.models import Decision, ReconsiderationRequest, Referral
from app.referrals.workflow import ReconsiderationStatus, Stage

MOVE_ON_DAYS = 45
"""Calendar days of move-on support at least, after a positive CG decision."""
SUPPORT_ENDS_WORKING_DAYS = 9
"""Working days after a negative decision (or a declined reconsideration) until support ends,
as the statutory guidance's exit period for NRM support."""
RECONSIDER_WITHIN_DAYS = 30
"""Calendar days after a negative decision within which reconsideration may be asked for."""


def _kind_of(decision: Decision) -> LetterKind:
    stage = "rg" if decision.stage == Stage.REASONABLE_GROUNDS else "cg"
    return LetterKind(f"{stage}_{decision.outcome}")


def _dates(kind: LetterKind, day: date, referral: Referral) -> tuple[date | None, date | None]:
    """(until_on, reconsider_by) that a letter of this kind states."""
    if kind is LetterKind.RG_POSITIVE:
        return referral.recovery_period_ends, None
    if kind is LetterKind.CG_POSITIVE:
        return day + timedelta(days=MOVE_ON_DAYS), None
    if kind is LetterKind.RECONSIDERATION_ACCEPTED:
        return None, None
    support_ends = add_working_days(day, SUPPORT_ENDS_WORKING_DAYS)
    if kind is LetterKind.RECONSIDERATION_DECLINED:
        return support_ends, None
    return support_ends, day + timedelta(days=RECONSIDER_WITHIN_DAYS)


def _write(
    referral: Referral,
    kind: LetterKind,
    decision_id: uuid.UUID,
    *,
    now: datetime,
    request_id: uuid.UUID | None = None,
) -> Letter:
    day = wales_date(now)
    until_on, reconsider_by = _dates(kind, day, referral)
    child = referral.is_child  # a child's letter goes to the local authority holding their care
    letter = Letter(
        id=uuid.uuid4(),
        referral_id=referral.id,
        kind=kind.value,
        decision_id=decision_id,
        reconsideration_request_id=request_id,
        language=referral.correspondence_language,
        addressee=(Addressee.LOCAL_AUTHORITY if child else Addressee.PERSON).value,
        local_authority=referral.local_authority if child else None,
        created_at=now,
        decided_on=day,
        until_on=until_on,
        reconsider_by=reconsider_by,
    )
    referral.letters.append(letter)
    return letter


def for_decision(referral: Referral, decision: Decision, *, now: datetime) -> Letter:
    """The letter of a decision that has just taken effect (after the referral's clocks moved,
    so a positive RG letter states the recovery period's end)."""
    return _write(referral, _kind_of(decision), decision.id, now=now)


def for_reconsideration(
    referral: Referral, request: ReconsiderationRequest, *, now: datetime
) -> Letter:
    """The letter answering a reconsideration request that has just been decided."""
    accepted = request.status == ReconsiderationStatus.ACCEPTED
    kind = LetterKind.RECONSIDERATION_ACCEPTED if accepted else LetterKind.RECONSIDERATION_DECLINED
    return _write(referral, kind, request.decision_id, now=now, request_id=request.id)
