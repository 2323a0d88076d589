"""Who is told what: the outbox rows a change writes, in the change's own transaction.

Two doors call it: `app.referrals.command_steps.record` (every referral command, with its
audit action and changes) and the intake (filing). It writes rows only (one INSERT for all
the recipients of a change); the worker renders and delivers them. A rolled-back change takes
its rows with it; a committed one always has them. The table of CASEWORK "Notifications" is
`on_command` and `_told` with the recipient functions below; docs/notifications.md says it in words.

Must not: commit, send anything, or put anything personal into `params` (only a stage and a
due date beside the reference); never import the intake or the immigration compartment.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.actions import Action
from app.identity.models import Organisation, User, UserRole
from app.identity.roles import Role
from app.notifications.models import Kind, Notification, Status
from app.referrals.facts import NO_DUE_DATE
from app.referrals.models import Decision, Referral

Recipient = tuple[uuid.UUID | None, uuid.UUID | None]
"""(user id, organisation id): exactly one of them is set."""

_DECIDERS = (Role.DECISION_MAKER.value, Role.SENIOR_DECISION_MAKER.value)


async def _users_of(session: AsyncSession, unit_id: uuid.UUID, roles: Iterable[str]) -> list[Any]:
    """The active users of a unit holding one of `roles`, in one statement."""
    rows = await session.scalars(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.organisation_id == unit_id, User.is_active, UserRole.role.in_(list(roles)))
        .distinct()
        .order_by(User.id)
    )
    return list(rows.all())


async def _mailbox(session: AsyncSession, organisation_id: uuid.UUID) -> list[Recipient]:
    """The organisation's mailbox, where it has one (the row is usually in the session)."""
    organisation = await session.get(Organisation, organisation_id)
    return [(None, organisation_id)] if organisation and organisation.email else []


async def unit_deciders(session: AsyncSession, referral: Referral) -> list[Recipient]:
    """Every decision maker of the routed unit (seniors included) and its mailbox."""
    users = await _users_of(session, referral.routed_to_id, _DECIDERS)
    return [(u, None) for u in users] + await _mailbox(session, referral.routed_to_id)


async def seniors(session: AsyncSession, referral: Referral) -> list[Recipient]:
    users = await _users_of(session, referral.routed_to_id, [Role.SENIOR_DECISION_MAKER.value])
    return [(u, None) for u in users]


async def _panel(session: AsyncSession, referral: Referral) -> list[Recipient]:
    users = await _users_of(session, referral.routed_to_id, [Role.PANEL_MEMBER.value])
    return [(u, None) for u in users]


def _filer(referral: Referral) -> list[Recipient]:
    return [(referral.submitted_by_id, None)]


async def _filer_and_mailbox(session: AsyncSession, referral: Referral) -> list[Recipient]:
    return _filer(referral) + await _mailbox(session, referral.referring_organisation_id)


def due_of(referral: Referral) -> date | None:
    """The date the unit's next step is due (the queue's), if it has one."""
    due = referral.queue_due
    return None if due is None or due == NO_DUE_DATE else due


@dataclass(frozen=True)
class News:
    """One kind of notification of a change, to its recipients, with its stage and due date."""

    kind: Kind
    recipients: list[Recipient]
    stage: str | None = None
    due: date | None = None


async def write(
    session: AsyncSession, referral: Referral, news: Iterable[News], *, now: datetime
) -> int:
    """One outbox row per kind and recipient (each once), all in one INSERT; returns how many."""
    rows = [
        {
            "id": uuid.uuid4(),
            "kind": item.kind.value,
            "referral_id": referral.id,
            "referral_reference": referral.reference,
            "user_id": user_id,
            "organisation_id": organisation_id,
            "params": {"stage": item.stage, "due": item.due.isoformat() if item.due else None},
            "status": Status.QUEUED.value,
            "attempts": 0,
            "created_at": now,
        }
        for item in news
        for user_id, organisation_id in dict.fromkeys(item.recipients)
    ]
    if rows:
        await session.execute(insert(Notification), rows)
    return len(rows)


async def on_filing(session: AsyncSession, referral: Referral, *, now: datetime) -> None:
    """A referral filed: its filer hears it arrived; the unit it is routed to, that it has."""
    news = [
        News(Kind.REFERRAL_RECEIVED, _filer(referral), due=referral.rg_due),
        News(Kind.REFERRAL_ROUTED, await unit_deciders(session, referral), due=due_of(referral)),
    ]
    await write(session, referral, news, now=now)


async def on_command(
    session: AsyncSession,
    referral: Referral,
    *,
    action: Action,
    changes: Mapping[str, Any],
    effective: Decision | None,
    by_referrer: bool,
    now: datetime,
) -> None:
    """What a referral command tells, and to whom. `effective` is the decision the command put
    into effect, as `command_steps.took_effect` (the one test of it) found it; `by_referrer`:
    the caller belongs to the referring organisation. Commands that tell nobody (a note, an
    assignment) write nothing."""
    if effective is not None:
        news = [
            News(
                Kind.DECISION_EFFECTIVE,
                await _filer_and_mailbox(session, referral),
                effective.stage,
                due_of(referral),
            )
        ]
    else:
        news = [
            News(kind, recipients, None, due_of(referral))
            for kind, recipients in await _told(session, referral, action, changes, by_referrer)
        ]
    await write(session, referral, news, now=now)


async def _told(
    session: AsyncSession,
    referral: Referral,
    action: Action,
    changes: Mapping[str, Any],
    by_referrer: bool,
) -> list[tuple[Kind, list[Recipient]]]:
    """CASEWORK "Notifications", the table: the kinds a command's event tells, with whom (a
    decision that took effect is told by `on_command`)."""
    rerouted = action is Action.REFERRAL_ROUTED or (
        action is Action.REFERRAL_AGE_RECORDED
        and changes["routed_to"]["before"] != changes["routed_to"]["after"]
    )
    if rerouted:
        return [(Kind.REFERRAL_ROUTED, await unit_deciders(session, referral))]
    if action is Action.DECISION_PROPOSED:
        if changes["stage"] == "reasonable_grounds":
            return [(Kind.REVIEW_NEEDED, await seniors(session, referral))]
        return [(Kind.PANEL_NEEDED, await _panel(session, referral))]
    return await _case_news(session, referral, action, by_referrer)


async def _case_news(
    session: AsyncSession, referral: Referral, action: Action, by_referrer: bool
) -> list[tuple[Kind, list[Recipient]]]:
    if action is Action.RECONSIDERATION_REQUESTED:
        return [(Kind.RECONSIDERATION_REQUESTED, await unit_deciders(session, referral))]
    if action in (Action.RECONSIDERATION_ACCEPTED, Action.RECONSIDERATION_DECLINED):
        return [(Kind.RECONSIDERATION_DECIDED, _filer(referral))]
    simple = {
        Action.REFERRAL_SUSPENDED: Kind.REFERRAL_SUSPENDED,
        Action.REFERRAL_RESUMED: Kind.REFERRAL_RESUMED,
    }
    if action in simple:
        return [(simple[action], _filer(referral))]
    if action is Action.REFERRAL_WITHDRAWN:
        unit = await unit_deciders(session, referral) if by_referrer else []
        return [(Kind.REFERRAL_WITHDRAWN, _filer(referral) + unit)]
    return []
