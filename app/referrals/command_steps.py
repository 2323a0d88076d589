"""The steps every referral command takes, in API.md's order: load (404) → `If-Match` (428/412)
→ the table (403 relation → 409 state → 403 separation of duties) → change → event → flush.

Owns the command's result (`CommandResult`), loading the referral under its row lock through
the one loader (`queries.load`), asking the transition table for its verdict, applying the
row (its target status and its clock effects, `app.referrals.clocks`), and recording the one
victim-track event with what follows it. The commands themselves are in `case_commands`
(withdraw, suspend, resume, note, age, reroute, assign) and `decision_commands` (decide, review,
reconsideration).

Every command moves the referral's version (the mapper's `version_id_col` checks it in the
UPDATE; `record` forces the UPDATE when only child rows change). The referral's row is locked
before the audit stream's, always in that order. `record` also writes, in the same
transaction, the command's notifications into the outbox (`app.notifications.outbox`) and, when
`took_effect` finds a decision put into effect or the event decides a reconsideration, the
letter to the person (`app.letters.service`).

On a command's path (door → command → these steps → the table) this module and the table are
the only ones a command passes control through; what they call (the loader, the facts, the
guards and clocks, the trail, the outbox, the letters) returns without calling back
(`tests/referrals/test_command_path.py`).

Must not: commit, build HTTP responses, decide state rules itself (the table does), or read
anything of immigration (DESIGN §5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import Track
from app.days import wales_date
from app.errors import AppError, NotFound
from app.etags import require_if_match
from app.identity.models import User
from app.identity.principal import Principal
from app.letters import service as letters
from app.notifications import outbox
from app.referrals import clocks, queries, workflow
from app.referrals.facts import (
    NO_DUE_DATE,
    due_of,
    open_request,
    participants,
    pending_proposal,
    questioned_decision,
)
from app.referrals.models import Decision, Note, ReconsiderationRequest, Referral
from app.referrals.workflow import (
    STATE_BEFORE_NEGATIVE,
    Command,
    DecisionStatus,
    Facts,
    Relation,
    Stage,
    Status,
    Transition,
)
from app.settings import Settings

Answer_co = TypeVar("Answer_co", covariant=True)

# Statuses in which a referral can wait on its unit (final and suspended ones never do).
WAITING = frozenset(
    {Status.AWAITING_RG, Status.RECOVERY_PERIOD, Status.RG_NEGATIVE, Status.CG_NEGATIVE}
)
_RECONSIDERED = (Action.RECONSIDERATION_ACCEPTED, Action.RECONSIDERATION_DECLINED)


@dataclass(frozen=True)
class CommandResult(Generic[Answer_co]):
    """What a command gives its door: the referral as it now stands, what the door answers
    with (the referral, or the decision, note or request made) and the version for the ETag."""

    referral: Referral
    answer: Answer_co

    @property
    def version(self) -> int:
        return self.referral.version


@dataclass(frozen=True)
class Allowed:
    """The table's yes: the row the actor may take, and the facts it was checked on."""

    transition: Transition
    facts: Facts

    @property
    def target(self) -> workflow.Status:
        return workflow.target_of(self.transition, self.facts)


async def load(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    expected_version: str | None,
    required: bool = True,
) -> Referral:
    """The referral the caller may see (404), its row locked, at the version they expect:
    428 without one when `required`, 412 when it is stale (API.md "Concurrency")."""
    referral = await queries.load(session, principal, referral_id, lock=True)
    if required or expected_version is not None:
        require_if_match(expected_version, referral.version)
    return referral


def facts_of(referral: Referral) -> Facts:
    """The table's facts of a fully loaded referral."""
    status = Status(referral.status)
    proposal = pending_proposal(referral)
    request = open_request(referral)
    questioned = questioned_decision(referral) if request else None
    return Facts(
        status=status,
        submitted_by=str(referral.submitted_by_id),
        pending_proposal=Stage(proposal.stage) if proposal else None,
        proposer_id=str(proposal.decided_by_id) if proposal else None,
        open_reconsideration=request is not None,
        questioned_decider_id=str(questioned.decided_by_id) if questioned else None,
        participants=participants(referral),
        status_before_suspension=(
            Status(referral.status_before_suspension) if referral.status_before_suspension else None
        ),
        status_before_negative=STATE_BEFORE_NEGATIVE.get(status),
    )


def actor_of(principal: Principal, referral: Referral) -> workflow.Actor:
    """The caller as the workflow sees them: roles and relations to this referral."""
    relations: set[Relation] = set()
    if principal.organisation_id == referral.referring_organisation_id:
        relations.add(Relation.REFERRER)
    if principal.organisation_id == referral.routed_to_id:
        relations.add(Relation.ROUTED_UNIT)
    return workflow.Actor(str(principal.id), principal.roles, frozenset(relations))


def check(command: Command, referral: Referral, principal: Principal) -> Allowed:
    """The table's verdict: 403 (relation), 409 (state), 403 (separation of duties)."""
    facts = facts_of(referral)
    return Allowed(workflow.check(command, facts, actor_of(principal, referral)), facts)


def permitted(referral: Referral, principal: Principal) -> frozenset[Command]:
    """The commands this caller may make on this referral now, by the table's verdict (role and
    relation, state, separation of duties): what a door offers, so it offers only those."""
    facts, actor = facts_of(referral), actor_of(principal, referral)
    allowed: set[Command] = set()
    for command in workflow.allowed_commands(facts):  # what the state allows, then who may
        try:
            workflow.check(command, facts, actor)
        except AppError:
            continue
        allowed.add(command)
    return frozenset(allowed)


def _clocks_of(referral: Referral, review_due: date | None) -> clocks.Clocks:
    return clocks.Clocks(
        rg_due=referral.rg_due,
        recovery_period_ends=referral.recovery_period_ends,
        panel_review_due=referral.panel_review_due,
        suspended_on=referral.suspended_on,
        review_due=review_due,
    )


def _periods(settings: Settings) -> clocks.Periods:
    return clocks.Periods(
        rg_due_working_days=settings.rg_due_working_days,
        recovery_period_days=settings.recovery_period_days,
        panel_review_working_days=settings.panel_review_working_days,
    )


def advance(
    referral: Referral, allowed: Allowed, *, now: datetime, settings: Settings
) -> clocks.Clocks:
    """Apply the table's row: its target status and its clock effects (on the referral and on
    its pending proposal). Returns the clocks as they were, for the event."""
    effect, target = allowed.transition.clock, allowed.target
    proposal = pending_proposal(referral)
    before = _clocks_of(referral, proposal.review_due if proposal else None)
    after = clocks.apply(
        effect, before, target=target, today=wales_date(now), periods=_periods(settings)
    )
    referral.rg_due, referral.recovery_period_ends = after.rg_due, after.recovery_period_ends
    referral.panel_review_due, referral.suspended_on = after.panel_review_due, after.suspended_on
    if proposal is not None:
        proposal.review_due = after.review_due
    if effect.suspended_on is clocks.Effect.START:  # DESIGN §4: resuming returns here
        referral.status_before_suspension = referral.status
    elif effect.suspended_on is clocks.Effect.STOP:
        referral.status_before_suspension = None
    referral.status = target.value
    return before


async def acting_user(session: AsyncSession, principal: Principal) -> User:
    """The caller's user row, for what a command records as theirs.

    The role gate loaded it into this request's session, so this is no query; setting the
    relationship (not only the id) lets the response present the change without a reload.
    """
    user = await session.get(User, principal.id)
    if user is None:  # the role gate just loaded it: only a bug gets here
        raise NotFound("no such user")
    return user


def queue_position(referral: Referral) -> None:
    """Keep the referral's place in its unit's queue (`next_action`, `queue_due`) in step with
    the table: every command does this before it flushes (in `record`), as the intake does."""
    waiting = referral.status in WAITING
    action = workflow.next_action(facts_of(referral)) if waiting else None
    referral.next_action = action.value if action else None
    due = due_of(referral, action) if action else None
    referral.queue_due = (due or NO_DUE_DATE) if action else None


def took_effect(action: Action, subject: object) -> Decision | None:
    """The decision this event put into effect, if any: one decided positive (effective at
    once) or a proposal its review confirmed. The one test of it: the letter to the person and
    the notice to the referrer both follow from it."""
    made_or_reviewed = action in (Action.DECISION_EFFECTIVE, Action.DECISION_REVIEWED)
    if made_or_reviewed and isinstance(subject, Decision):
        return subject if subject.status == DecisionStatus.EFFECTIVE else None
    return None


async def record(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    action: Action,
    now: datetime,
    changes: dict[str, Any],
    subject: Decision | ReconsiderationRequest | None = None,
) -> None:
    """Keep its queue position, flush the referral (its UPDATE checks the version), append the
    one event, and queue what follows it in the same transaction: who is told (the outbox)
    and, when a decision took effect or a reconsideration was decided (`subject`, the row the
    command made or decided), the letter to the person."""
    queue_position(referral)
    flag_modified(referral, "status")  # the version moves even with a child-only change
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
    effective = took_effect(action, subject)
    await outbox.on_command(
        session,
        referral,
        action=action,
        changes=changes,
        effective=effective,
        by_referrer=principal.organisation_id == referral.referring_organisation_id,
        now=now,
    )
    if effective is not None:
        letters.for_decision(referral, effective, now=now)
    elif action in _RECONSIDERED and isinstance(subject, ReconsiderationRequest):
        letters.for_reconsideration(referral, subject, now=now)


async def keep_note(
    session: AsyncSession, principal: Principal, referral: Referral, text: str, now: datetime
) -> Note:
    """A note on the case by its author (further information, or a command's reason)."""
    by = await acting_user(session, principal)
    note = Note(id=uuid.uuid4(), referral_id=referral.id, text=text, by=by, at=now)
    referral.notes.append(note)
    return note


async def record_with_reason(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    action: Action,
    reason: tuple[str, str],
    now: datetime,
    changes: dict[str, Any],
) -> None:
    """Keep the command's reason as a note (`label: text`) and record the command's one event,
    which names the note, never its text."""
    label, text = reason
    note = await keep_note(session, principal, referral, f"{label}: {text}", now)
    changes = {**changes, "reason": {"note_id": str(note.id)}}
    await record(session, principal, referral, action=action, now=now, changes=changes)


def change(before: object, after: object) -> dict[str, object]:
    """A before/after pair as the audit trail records a change."""
    return {"before": before, "after": after}


def iso(day: date | None) -> str | None:
    """A date as the audit trail records it."""
    return day.isoformat() if day else None
