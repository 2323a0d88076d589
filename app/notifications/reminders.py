"""Deadline reminders, found by the worker on the service clock.

A referral waiting on its unit has a next step and its due date (`next_action`, `queue_due`,
kept by every command); suspended and closed referrals have none, so they are never reminded.
`deadline.due_soon` when the due date is today or the next working day (a late round still
reminds), `deadline.missed` when it has passed. Each is written once per referral, stage and
kind: a `deadline_reminders` row, whose primary key refuses a second (a racing worker's
savepoint is rolled back and its rows with it).

Must not: send anything (the outbox rows wait for the worker's delivery, as others do).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.days import is_working_day, wales_date
from app.notifications import outbox
from app.notifications.models import DeadlineReminder, Kind
from app.referrals.facts import NO_DUE_DATE
from app.referrals.models import Referral


def next_working_day(day: date) -> date:
    following = day + timedelta(days=1)
    while not is_working_day(following):
        following += timedelta(days=1)
    return following


def kind_for(due: date, today: date) -> Kind | None:
    """Which reminder a step due on `due` needs today, if any."""
    if due < today:
        return Kind.DEADLINE_MISSED
    if due <= next_working_day(today):
        return Kind.DEADLINE_DUE_SOON
    return None


async def _candidates(session: AsyncSession, today: date) -> list[Referral]:
    """Referrals with a next step due by the next working day and a reminder not yet written."""
    reminded = exists().where(
        DeadlineReminder.referral_id == Referral.id,
        DeadlineReminder.stage == Referral.next_action,
        or_(
            DeadlineReminder.kind == Kind.DEADLINE_MISSED.value,
            and_(
                DeadlineReminder.kind == Kind.DEADLINE_DUE_SOON.value, Referral.queue_due >= today
            ),
        ),
    )
    rows = await session.scalars(
        select(Referral)
        .where(
            Referral.next_action.is_not(None),
            Referral.queue_due <= next_working_day(today),
            Referral.queue_due != NO_DUE_DATE,
            ~reminded,
        )
        .order_by(Referral.queue_due, Referral.id)
    )
    return list(rows.all())


# A unit's people, read once per round: (unit id, "deciders" or "seniors") → who.
Known = dict[tuple[uuid.UUID, str], list[outbox.Recipient]]


async def _recipients(
    session: AsyncSession, referral: Referral, kind: Kind, known: Known
) -> list[outbox.Recipient]:
    """The assigned decider, else the unit's decision makers; for a missed step, also the
    unit's senior decision makers."""
    unit = referral.routed_to_id
    if referral.assigned_to_id is not None:
        told: list[outbox.Recipient] = [(referral.assigned_to_id, None)]
    else:
        if (unit, "deciders") not in known:
            deciders = await outbox.unit_deciders(session, referral)
            known[unit, "deciders"] = [r for r in deciders if r[0] is not None]
        told = list(known[unit, "deciders"])
    if kind is Kind.DEADLINE_MISSED:
        if (unit, "seniors") not in known:
            known[unit, "seniors"] = await outbox.seniors(session, referral)
        told += known[unit, "seniors"]
    return told


async def _remind(
    session: AsyncSession, referral: Referral, kind: Kind, now: datetime, known: Known
) -> bool:
    stage, due = referral.next_action, referral.queue_due
    assert stage is not None  # the candidates' query says so
    assert due is not None
    try:
        async with session.begin_nested():
            session.add(
                DeadlineReminder(
                    referral_id=referral.id,
                    stage=stage,
                    kind=kind.value,
                    due_on=due,
                    created_at=now,
                )
            )
            await session.flush()
            recipients = await _recipients(session, referral, kind, known)
            news = outbox.News(kind, recipients, stage, due)
            await outbox.write(session, referral, [news], now=now)
    except IntegrityError:  # another worker wrote it first
        return False
    return True


async def find(session: AsyncSession, *, now: datetime) -> list[tuple[uuid.UUID, Kind]]:
    """Write the reminders due at `now` (service clock); returns what was written."""
    today = wales_date(now)
    written = []
    known: Known = {}
    for referral in await _candidates(session, today):
        assert referral.queue_due is not None
        kind = kind_for(referral.queue_due, today)
        if kind is not None and await _remind(session, referral, kind, now, known):
            written.append((referral.id, kind))
    return written
