"""The workflow's commands on a referral, one function each: load → guard → change → audit → flush.

Owns what each command changes (status, deadlines, assignment, routing, notes) and the one
victim-track audit event each writes. The decision commands (decide, review, reconsideration)
are in `app.referrals.decisions`, built on the helpers here.

How a command runs: the router loads the referral with `load` (visibility, 404) under its row
lock and compares `If-Match` (428/412); the command asks `workflow.check` (403 relation → 409
state → 403 separation of duties), then checks the rules that need dates or other rows (422),
changes the referral, and records its event. Every command moves the referral's version (the
mapper's `version_id_col` checks it in the UPDATE; `touch` forces the UPDATE when only child
rows change). The referral's row is locked before the audit stream's, always in that order.

A reason that has no column of its own (withdrawal, suspension, resumption, re-routing, age) is
kept as a note on the referral, by its author; the event names the note, never its text.
Assignment, like the decisions, is in `app.referrals.decisions`.

Must not: commit, build HTTP responses, decide state rules itself (the workflow table does), or
read anything of immigration (DESIGN §5).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from app.audit import service as audit
from app.audit.models import Track
from app.errors import FieldError, NotFound, RuleViolation, ValidationFailed
from app.identity.models import Organisation, User
from app.identity.principal import Principal
from app.identity.roles import Sector
from app.referrals import workflow
from app.referrals.ages import MAX_AGE_YEARS, age_on, is_child
from app.referrals.deadlines import add_working_days, wales_date, working_days_between
from app.referrals.facts import facts_of, open_request, pending_proposal
from app.referrals.models import Note, Referral
from app.referrals.queries import full_load, visible_referrals
from app.referrals.routing import deciding_unit
from app.referrals.workflow import (
    Command,
    DecisionStatus,
    ReconsiderationStatus,
    Relation,
    Status,
)
from app.settings import Settings

# --- the steps every command shares -------------------------------------------------------


async def load(session: AsyncSession, principal: Principal, referral_id: uuid.UUID) -> Referral:
    """The referral the caller may see (404), its row locked for this transaction.

    The lock makes a racing command wait for this one and then see the new version, so its
    `If-Match` is stale (412); the version check in the UPDATE is the second line of defence.
    """
    query = (
        visible_referrals(principal)
        .where(Referral.id == referral_id)
        .options(*full_load())
        .with_for_update(of=Referral)
    )
    referral = await session.scalar(query)
    if referral is None:
        raise NotFound("no such referral")
    return referral


async def reload(session: AsyncSession, referral_id: uuid.UUID) -> Referral:
    """A referral by id with everything the commands and the representation need, without the
    visibility filter or a lock: for internal callers (the demo data), never for a request."""
    referral = await session.scalar(
        select(Referral)
        .where(Referral.id == referral_id)
        .options(*full_load())
        .execution_options(populate_existing=True)
    )
    if referral is None:
        raise NotFound("no such referral")
    return referral


async def acting_user(session: AsyncSession, principal: Principal) -> User:
    """The caller's user row, for what a command records as theirs.

    The role gate loaded it into this request's session, so this is no query; setting the
    relationship (not only the id) lets the response present the change without a reload.
    """
    user = await session.get(User, principal.id)
    if user is None:  # the role gate just loaded it: only a bug gets here
        raise NotFound("no such user")
    return user


def actor_of(principal: Principal, referral: Referral) -> workflow.Actor:
    """The caller as the workflow sees them: roles and relations to this referral."""
    relations: set[Relation] = set()
    if principal.organisation_id == referral.referring_organisation_id:
        relations.add(Relation.REFERRER)
    if principal.organisation_id == referral.routed_to_id:
        relations.add(Relation.ROUTED_UNIT)
    return workflow.Actor(str(principal.id), principal.roles, frozenset(relations))


def check(command: Command, referral: Referral, principal: Principal) -> workflow.Transition:
    """The workflow's verdict: 403 (relation), 409 (state), 403 (separation of duties)."""
    return workflow.check(command, facts_of(referral), actor_of(principal, referral))


def touch(referral: Referral) -> None:
    """Make the flush UPDATE the referral, so its version moves with a child-only change."""
    flag_modified(referral, "status")


async def record(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    action: str,
    now: datetime,
    changes: dict[str, Any],
) -> None:
    """Flush the referral (its UPDATE checks the version), then append the one event."""
    touch(referral)
    await session.flush()
    await audit.record(
        session,
        principal.audit_ref(),
        action=action,
        track=Track.VICTIM,
        now=now,
        referral_id=referral.id,
        changes=changes,
    )


async def keep_reason(
    session: AsyncSession,
    referral: Referral,
    principal: Principal,
    label: str,
    text: str,
    now: datetime,
) -> Note:
    """A reason with no column of its own, kept as a note on the case by its author."""
    by = await acting_user(session, principal)
    note = Note(id=uuid.uuid4(), referral_id=referral.id, text=f"{label}: {text}", by=by, at=now)
    referral.notes.append(note)
    return note


async def record_with_reason(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    action: str,
    reason: tuple[str, str],
    now: datetime,
    changes: dict[str, Any],
) -> None:
    """Keep the command's reason as a note (`label: text`) and record the command's one event,
    which names the note, never its text."""
    label, text = reason
    note = await keep_reason(session, referral, principal, label, text, now)
    await record(
        session,
        principal,
        referral,
        action=action,
        now=now,
        changes={**changes, "reason": {"note_id": str(note.id)}},
    )


def change(before: object, after: object) -> dict[str, object]:
    """A before/after pair as the audit trail records a change."""
    return {"before": before, "after": after}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- withdraw, suspend, resume ------------------------------------------------------------


async def withdraw(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    reason: str,
    now: datetime,
) -> Referral:
    """Withdraw with a reason; a proposal awaiting review is marked `rejected` (API.md) and an
    open reconsideration request is closed as `declined`: nothing is left waiting for a
    decision that can no longer be made (docs/workflow.md)."""
    check(Command.WITHDRAW, referral, principal)
    before = referral.status
    proposal = pending_proposal(referral)
    if proposal is not None:
        proposal.status = DecisionStatus.REJECTED.value
    request = open_request(referral)
    if request is not None:
        request.status = ReconsiderationStatus.DECLINED.value
        request.decided_by_id, request.decided_at = principal.id, now
        request.decision_reasons = "Closed: the referral was withdrawn."
    referral.status = Status.WITHDRAWN.value
    referral.panel_review_due = None  # no review will come
    referral.status_before_suspension, referral.suspended_on = None, None  # never resumed
    await record_with_reason(
        session,
        principal,
        referral,
        action="referral.withdrawn",
        reason=("Withdrawn", reason),
        now=now,
        changes={
            "status": change(before, referral.status),
            "rejected_proposal": str(proposal.id) if proposal else None,
            "declined_reconsideration": str(request.id) if request else None,
        },
    )
    return referral


async def suspend(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    reason: str,
    now: datetime,
) -> Referral:
    """Suspend while the person is missing; no deadline runs until `resume` (DESIGN §4)."""
    check(Command.SUSPEND, referral, principal)
    before = referral.status
    referral.status_before_suspension = before
    referral.suspended_on = wales_date(now)
    referral.status = Status.SUSPENDED.value
    await record_with_reason(
        session,
        principal,
        referral,
        action="referral.suspended",
        reason=("Suspended", reason),
        now=now,
        changes={
            "status": change(before, referral.status),
            "suspended_on": referral.suspended_on.isoformat(),
        },
    )
    return referral


async def resume(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    reason: str,
    now: datetime,
    settings: Settings,
) -> Referral:
    """Return to the state the referral left, moving its deadlines on (API.md)."""
    transition = check(Command.RESUME, referral, principal)
    target = workflow.target_of(transition, facts_of(referral))
    today = wales_date(now)
    since = referral.suspended_on or today
    before = {
        "rg_due": _iso(referral.rg_due),
        "recovery_period_ends": _iso(referral.recovery_period_ends),
        "panel_review_due": _iso(referral.panel_review_due),
    }
    _move_deadlines(referral, target, since=since, today=today, settings=settings)
    referral.status = target.value
    referral.status_before_suspension = None
    referral.suspended_on = None
    await record_with_reason(
        session,
        principal,
        referral,
        action="referral.resumed",
        reason=("Resumed", reason),
        now=now,
        changes={
            "status": change(Status.SUSPENDED.value, target.value),
            "suspended_on": since.isoformat(),
            **{name: change(old, _iso(getattr(referral, name))) for name, old in before.items()},
        },
    )
    return referral


def _move_deadlines(
    referral: Referral, target: Status, *, since: date, today: date, settings: Settings
) -> None:
    # API.md: rg_due counted afresh from the resume date; recovery_period_ends moves on by the
    # calendar days suspended, panel_review_due by the working days suspended.
    if target == Status.AWAITING_RG:
        referral.rg_due = add_working_days(today, settings.rg_due_working_days)
    if referral.recovery_period_ends is not None:
        referral.recovery_period_ends += timedelta(days=(today - since).days)
    if referral.panel_review_due is not None:
        moved = working_days_between(since, today)
        referral.panel_review_due = add_working_days(referral.panel_review_due, moved)
        proposal = pending_proposal(referral)
        if proposal is not None:
            proposal.review_due = referral.panel_review_due


# --- notes ----------------------------------------------------------------------------------------


async def add_note(
    session: AsyncSession, principal: Principal, referral: Referral, *, text: str, now: datetime
) -> Note:
    """Further information for the decision (no state changes, but the version moves)."""
    check(Command.ADD_NOTE, referral, principal)
    by = await acting_user(session, principal)
    note = Note(id=uuid.uuid4(), referral_id=referral.id, text=text, by=by, at=now)
    referral.notes.append(note)
    await record(
        session,
        principal,
        referral,
        action="note.added",
        now=now,
        changes={"note_id": str(note.id)},
    )
    return note


# --- age and routing ----------------------------------------------------------------------


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


async def record_age(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    date_of_birth: date | None,
    estimated_age: int | None,
    reason: str,
    now: datetime,
    consent: tuple[bool, date] | None = None,
) -> Referral:
    """Record an age assessment: the new age replaces the old; `is_child` and routing follow.
    `consent` (given, recorded on) is recorded with it, for a person found to be an adult."""
    check(Command.RECORD_AGE, referral, principal)
    today = wales_date(now)
    child = is_child(date_of_birth, estimated_age, today)
    if consent is not None and consent[1] > today:
        raise ValidationFailed(
            "The consent is not valid.",
            errors=[
                FieldError("consent.recorded_on", "The date of consent cannot be in the future.")
            ],
        )
    consented = referral.consent_given is True or (consent is not None and consent[0])
    if not child and not consented:
        # DESIGN §4: an adult must consent to a referral.
        raise RuleViolation(
            "A person found to be an adult must consent to the referral: send the consent "
            "they gave, and the date it was recorded, with the age assessment."
        )
    consent_before = referral.consent_given
    if consent is not None:
        referral.consent_given, referral.consent_recorded_on = consent
    was_child, unit_before = referral.is_child, referral.routed_to.code
    fields = [
        name
        for name, value in (("date_of_birth", date_of_birth), ("estimated_age", estimated_age))
        if getattr(referral, name) != value
    ]
    referral.date_of_birth, referral.estimated_age = date_of_birth, estimated_age
    referral.is_child = child
    if child != was_child:
        unit = await deciding_unit(
            session, is_child=child, local_authority=referral.local_authority
        )
        _route(referral, unit)
    await record_with_reason(
        session,
        principal,
        referral,
        action="referral.age_recorded",
        reason=("Age assessed", reason),
        now=now,
        changes={
            "fields": fields,
            "is_child": change(was_child, child),
            "consent_given": change(consent_before, referral.consent_given),
            "routed_to": change(unit_before, referral.routed_to.code),
        },
    )
    return referral


def _route(referral: Referral, unit: Organisation) -> None:
    # DESIGN §3: the new unit takes the case; the old unit's assignee no longer holds it.
    if unit.id != referral.routed_to_id:
        referral.routed_to = unit
        referral.assigned_to = None


async def reroute(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    to: str,
    reason: str,
    now: datetime,
) -> Referral:
    """Route to another decision unit, with a reason; the old unit no longer sees it."""
    check(Command.REROUTE, referral, principal)
    unit = await session.scalar(select(Organisation).where(Organisation.code == to))
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
    before = referral.routed_to.code
    _route(referral, unit)
    await record_with_reason(
        session,
        principal,
        referral,
        action="referral.routed",
        reason=("Re-routed", reason),
        now=now,
        changes={
            "routed_to": change(before, unit.code),
        },
    )
    return referral
