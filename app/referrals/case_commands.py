"""The commands on the case itself: withdraw, suspend, resume, add a note, record an age,
reroute, assign. One function each, with the signature every door calls (the API's routes,
the demo data): session, principal, referral id, expected version, body, time, settings.

Each takes the steps of `app.referrals.command_steps` in API.md's order: load (404) →
`If-Match` (428/412) → the table (403 relation → 409 state → 403 separation of duties) → the
rules that need dates or other rows (422) → the row's change (status and clocks, from the
table) → its one victim-track event. A reason that has no column of its own (withdrawal,
suspension, resumption, re-routing, age) is kept as a note on the referral, by its author; the
event names the note, never its text.

Must not: commit, build HTTP responses, write a status or a deadline by hand (the table's row
does), or read anything of immigration (DESIGN §5).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit.actions import Action
from app.days import wales_date
from app.errors import FieldError, RuleViolation, ValidationFailed
from app.identity.models import Organisation, User
from app.identity.principal import Principal
from app.identity.roles import Role, Sector, effective_roles
from app.referrals.ages import MAX_AGE_YEARS, age_on, is_child
from app.referrals.command_schemas import (
    AgeRequest,
    AssignRequest,
    NoteCreate,
    RerouteRequest,
    ResumeRequest,
    SuspendRequest,
    WithdrawRequest,
)
from app.referrals.command_steps import (
    CommandResult,
    advance,
    change,
    check,
    iso,
    keep_note,
    load,
    record,
    record_with_reason,
)
from app.referrals.facts import open_request, pending_proposal
from app.referrals.models import Note, Referral
from app.referrals.routing import deciding_unit
from app.referrals.workflow import Command, DecisionStatus, ReconsiderationStatus, Status
from app.settings import Settings

# --- withdraw, suspend, resume --------------------------------------------------------------


async def withdraw(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    expected_version: str | None,
    body: WithdrawRequest,
    now: datetime,
    settings: Settings,
) -> CommandResult[Referral]:
    """Withdraw with a reason; a proposal awaiting review is marked `rejected` (API.md) and an
    open reconsideration request is closed as `declined`: nothing is left waiting for a
    decision that can no longer be made (docs/workflow.md)."""
    referral = await load(session, principal, referral_id, expected_version=expected_version)
    allowed = check(Command.WITHDRAW, referral, principal)
    before = referral.status
    proposal = pending_proposal(referral)
    if proposal is not None:
        proposal.status = DecisionStatus.REJECTED.value
    request = open_request(referral)
    if request is not None:
        request.status = ReconsiderationStatus.DECLINED.value
        request.decided_by_id, request.decided_at = principal.id, now
        request.decision_reasons = "Closed: the referral was withdrawn."
    advance(referral, allowed, now=now, settings=settings)
    await record_with_reason(
        session,
        principal,
        referral,
        action=Action.REFERRAL_WITHDRAWN,
        reason=("Withdrawn", body.reason),
        now=now,
        changes={
            "status": change(before, referral.status),
            "rejected_proposal": str(proposal.id) if proposal else None,
            "declined_reconsideration": str(request.id) if request else None,
        },
    )
    return CommandResult(referral, referral)


async def suspend(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    expected_version: str | None,
    body: SuspendRequest,
    now: datetime,
    settings: Settings,
) -> CommandResult[Referral]:
    """Suspend while the person is missing; no deadline runs until `resume` (DESIGN §4)."""
    referral = await load(session, principal, referral_id, expected_version=expected_version)
    allowed = check(Command.SUSPEND, referral, principal)
    before = referral.status
    advance(referral, allowed, now=now, settings=settings)
    await record_with_reason(
        session,
        principal,
        referral,
        action=Action.REFERRAL_SUSPENDED,
        reason=("Suspended", body.reason),
        now=now,
        changes={
            "status": change(before, referral.status),
            "suspended_on": iso(referral.suspended_on),
        },
    )
    return CommandResult(referral, referral)


async def resume(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    expected_version: str | None,
    body: ResumeRequest,
    now: datetime,
    settings: Settings,
) -> CommandResult[Referral]:
    """Return to the state the referral left, moving its deadlines on (API.md)."""
    referral = await load(session, principal, referral_id, expected_version=expected_version)
    allowed = check(Command.RESUME, referral, principal)
    before = advance(referral, allowed, now=now, settings=settings)
    moved = ("rg_due", "recovery_period_ends", "panel_review_due")
    await record_with_reason(
        session,
        principal,
        referral,
        action=Action.REFERRAL_RESUMED,
        reason=("Resumed", body.reason),
        now=now,
        changes={
            "status": change(Status.SUSPENDED.value, referral.status),
            "suspended_on": (before.suspended_on or wales_date(now)).isoformat(),
            **{
                name: change(iso(getattr(before, name)), iso(getattr(referral, name)))
                for name in moved
            },
        },
    )
    return CommandResult(referral, referral)


# --- notes --------------------------------------------------------------------------------


async def add_note(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    expected_version: str | None,
    body: NoteCreate,
    now: datetime,
    settings: Settings,
) -> CommandResult[Note]:
    """Further information for the decision (no state changes, but the version moves).

    API.md asks no `If-Match` of a note (it changes no state); one that is sent is checked.
    The row lock still orders racing writers."""
    referral = await load(
        session, principal, referral_id, expected_version=expected_version, required=False
    )
    allowed = check(Command.ADD_NOTE, referral, principal)
    advance(referral, allowed, now=now, settings=settings)
    note = await keep_note(session, principal, referral, body.text, now)
    await record(
        session,
        principal,
        referral,
        action=Action.NOTE_ADDED,
        now=now,
        changes={"note_id": str(note.id)},
    )
    return CommandResult(referral, note)


# --- age, routing and assignment ----------------------------------------------------------


def check_age(date_of_birth: date | None, *, today: date) -> None:
    """A date of birth is not in the future and gives a possible age (422, the body's stage)."""
    if date_of_birth is None:
        return
    if date_of_birth > today:
        message = "A date of birth cannot be in the future."
    elif age_on(date_of_birth, today) > MAX_AGE_YEARS:
        message = f"This date of birth gives an age over {MAX_AGE_YEARS}: check the year."
    else:
        return
    raise ValidationFailed("The age is not valid.", errors=[FieldError("date_of_birth", message)])


def _check_consent(referral: Referral, body: AgeRequest, *, child: bool, today: date) -> None:
    consent = body.consent
    if consent is not None and consent.recorded_on > today:
        raise ValidationFailed(
            "The consent is not valid.",
            errors=[
                FieldError("consent.recorded_on", "The date of consent cannot be in the future.")
            ],
        )
    if not child and not (referral.consent_given is True or (consent and consent.given)):
        # DESIGN §4: an adult must consent to a referral.
        raise RuleViolation(
            "A person found to be an adult must consent to the referral: send the consent "
            "they gave, and the date it was recorded, with the age assessment."
        )


async def record_age(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    expected_version: str | None,
    body: AgeRequest,
    now: datetime,
    settings: Settings,
) -> CommandResult[Referral]:
    """Record an age assessment: the new age replaces the old; `is_child` and routing follow.
    The consent sent with it is recorded too, for a person found to be an adult."""
    today = wales_date(now)
    check_age(body.date_of_birth, today=today)  # the body's 422 comes before the 404
    referral = await load(session, principal, referral_id, expected_version=expected_version)
    allowed = check(Command.RECORD_AGE, referral, principal)
    child = is_child(body.date_of_birth, body.estimated_age, today)
    _check_consent(referral, body, child=child, today=today)
    consent_before, was_child = referral.consent_given, referral.is_child
    unit_before = referral.routed_to.code
    fields = _take_age(referral, body, child=child)
    if child != was_child:
        unit = await deciding_unit(
            session, is_child=child, local_authority=referral.local_authority
        )
        _route(referral, unit)
    advance(referral, allowed, now=now, settings=settings)
    await record_with_reason(
        session,
        principal,
        referral,
        action=Action.REFERRAL_AGE_RECORDED,
        reason=("Age assessed", body.reason),
        now=now,
        changes={
            "fields": fields,
            "is_child": change(was_child, child),
            "consent_given": change(consent_before, referral.consent_given),
            "routed_to": change(unit_before, referral.routed_to.code),
        },
    )
    return CommandResult(referral, referral)


def _take_age(referral: Referral, body: AgeRequest, *, child: bool) -> list[str]:
    """The new age replaces the old, with the consent sent with it; returns the fields changed."""
    if body.consent is not None:
        referral.consent_given = body.consent.given
        referral.consent_recorded_on = body.consent.recorded_on
    new_age = {"date_of_birth": body.date_of_birth, "estimated_age": body.estimated_age}
    fields = [name for name, value in new_age.items() if getattr(referral, name) != value]
    referral.date_of_birth, referral.estimated_age = body.date_of_birth, body.estimated_age
    referral.is_child = child
    return fields


def _route(referral: Referral, unit: Organisation) -> None:
    # DESIGN §3: the new unit takes the case; the old unit's assignee no longer holds it.
    if unit.id != referral.routed_to_id:
        referral.routed_to = unit
        referral.assigned_to = None


async def _decision_unit(session: AsyncSession, referral: Referral, code: str) -> Organisation:
    # API.md: `to` is the code of a decision unit other than the one routed to (422 otherwise).
    unit = await session.scalar(select(Organisation).where(Organisation.code == code))
    if unit is None or unit.sector != Sector.DECISION_UNIT.value:
        raise RuleViolation(
            "A referral can be routed only to a decision unit.",
            errors=[FieldError("to", "This is not the code of a decision unit: choose one.")],
        )
    if unit.id == referral.routed_to_id:
        raise RuleViolation(
            "The referral is already routed to this unit.",
            errors=[FieldError("to", "The referral is already routed here: choose another unit.")],
        )
    return unit


async def reroute(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    expected_version: str | None,
    body: RerouteRequest,
    now: datetime,
    settings: Settings,
) -> CommandResult[Referral]:
    """Route to another decision unit, with a reason; the old unit no longer sees it."""
    referral = await load(session, principal, referral_id, expected_version=expected_version)
    allowed = check(Command.REROUTE, referral, principal)
    unit = await _decision_unit(session, referral, body.to)
    before = referral.routed_to.code
    _route(referral, unit)
    advance(referral, allowed, now=now, settings=settings)
    await record_with_reason(
        session,
        principal,
        referral,
        action=Action.REFERRAL_ROUTED,
        reason=("Re-routed", body.reason),
        now=now,
        changes={"routed_to": change(before, unit.code)},
    )
    return CommandResult(referral, referral)


async def assign(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    expected_version: str | None,
    body: AssignRequest,
    now: datetime,
    settings: Settings,
) -> CommandResult[Referral]:
    """Assign to a decision maker of the routed unit (the caller by default)."""
    referral = await load(session, principal, referral_id, expected_version=expected_version)
    allowed = check(Command.ASSIGN, referral, principal)
    wanted = body.user_id or principal.id
    assignee = await _decision_maker_of(session, wanted, referral.routed_to_id)
    before = referral.assigned_to_id
    referral.assigned_to = assignee
    advance(referral, allowed, now=now, settings=settings)
    await record(
        session,
        principal,
        referral,
        action=Action.REFERRAL_ASSIGNED,
        now=now,
        changes={"assigned_to": change(str(before) if before else None, str(assignee.id))},
    )
    return CommandResult(referral, referral)


async def _decision_maker_of(session: AsyncSession, user_id: uuid.UUID, unit_id: uuid.UUID) -> User:
    # API.md: the assignee is a decision maker of the routed unit (422 otherwise).
    user = await session.scalar(
        select(User).where(User.id == user_id).options(selectinload(User.role_rows))
    )
    if (
        user is None
        or not user.is_active
        or user.organisation_id != unit_id
        or Role.DECISION_MAKER not in effective_roles(user.roles)
    ):
        raise RuleViolation(
            "A referral can be assigned only to an active decision maker of the unit it is "
            "routed to.",
            errors=[
                FieldError(
                    "user_id",
                    "This user is not an active decision maker of the unit the referral is "
                    "routed to.",
                )
            ],
        )
    return user
