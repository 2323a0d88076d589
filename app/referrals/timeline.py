"""A referral's decision timeline (API.md `GET /referrals/{id}/timeline`): its stages with actor,
time, due date, working days taken and met or missed, and its audit events.

Who: auditors (any referral) and decision makers of the routed unit; anyone else who could see
the referral otherwise gets 404, as for a referral they cannot see. The events are the victim
track, and for auditors the access track too; NEVER the immigration track (DESIGN §5), whatever
else is recorded against the referral. Stages are the ones that happened: `submitted`, each
decision in effect (`reasonable_grounds`, `conclusive_grounds`, with the working days and `met`
stored on the decision), each reconsideration request (`reconsideration`, done when decided)
and a `withdrawal`. Nothing here changes anything.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.actions import Action
from app.audit.models import AuditEvent, Track
from app.audit.schemas import AuditEventRead
from app.days import met, wales_date, working_days_between
from app.errors import NotFound
from app.identity.models import User
from app.identity.principal import Principal
from app.identity.roles import Role
from app.referrals import queries
from app.referrals.models import Decision, ReconsiderationRequest, Referral
from app.referrals.presenters import user_ref
from app.referrals.schemas import UserRef
from app.referrals.workflow import DecisionStatus
from app.schemas import ResponseModel


class TimelineStage(ResponseModel):
    name: str
    at: datetime | None
    actor: UserRef | None
    due: date | None
    working_days: int | None
    met: bool | None


class TimelineRead(ResponseModel):
    reference: str
    stages: list[TimelineStage]
    events: list[AuditEventRead]


def may_read(principal: Principal, referral: Referral) -> bool:
    """API.md: auditors, and decision makers of the routed unit; a referrer's view is not
    enough (the role's `timeline:read` is checked before)."""
    return principal.has(Role.AUDITOR) or referral.routed_to_id == principal.organisation_id


async def timeline(
    session: AsyncSession, principal: Principal, referral_id: uuid.UUID
) -> tuple[TimelineRead, int]:
    """The referral's timeline for this reader (404 when they may not read it), and the
    referral's version (its ETag)."""
    referral = await queries.load(session, principal, referral_id)
    auditor = principal.has(Role.AUDITOR)
    if not may_read(principal, referral):
        raise NotFound("no such referral")
    tracks = [Track.VICTIM.value] + ([Track.ACCESS.value] if auditor else [])
    events = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.referral_id == referral.id, AuditEvent.track.in_(tracks))
            .order_by(AuditEvent.seq)
        )
    ).all()
    stages = [_submitted(referral)]
    stages += [_decided(d) for d in referral.decisions if d.status == DecisionStatus.EFFECTIVE]
    stages += [_reconsidered(r) for r in referral.reconsideration_requests]
    stages += [
        await _withdrawn(session, e) for e in events if e.action == Action.REFERRAL_WITHDRAWN
    ]
    stages.sort(key=lambda stage: stage[0])
    read = TimelineRead(
        reference=referral.reference,
        stages=[stage for _, stage in stages],
        events=[AuditEventRead.of(e) for e in events],
    )
    return read, referral.version


Ordered = tuple[datetime, TimelineStage]


def _submitted(referral: Referral) -> Ordered:
    return referral.created_at, TimelineStage(
        name="submitted",
        at=referral.created_at,
        actor=user_ref(referral.submitted_by),
        due=None,
        working_days=None,
        met=None,
    )


def _decided(decision: Decision) -> Ordered:
    return decision.decided_at, TimelineStage(
        name=decision.stage,
        at=decision.decided_at,
        actor=user_ref(decision.decided_by),
        due=decision.due_on,
        working_days=decision.working_days,
        met=decision.met,
    )


def _reconsidered(request: ReconsiderationRequest) -> Ordered:
    done = request.decided_at
    decided_on = wales_date(done) if done else None
    return request.requested_at, TimelineStage(
        name="reconsideration",
        at=done,
        actor=user_ref(request.decided_by) if request.decided_by else None,
        due=request.due_on,
        working_days=(
            working_days_between(wales_date(request.requested_at), decided_on)
            if decided_on
            else None
        ),
        met=met(decided_on, request.due_on),
    )


async def _withdrawn(session: AsyncSession, event: AuditEvent) -> Ordered:
    actor = await session.get(User, event.actor_id) if event.actor_id else None
    return event.at, TimelineStage(
        name="withdrawal",
        at=event.at,
        actor=user_ref(actor) if actor else None,
        due=None,
        working_days=None,
        met=None,
    )
