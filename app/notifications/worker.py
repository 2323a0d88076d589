"""The worker: claims due outbox rows, hands their messages to the mail, settles each.

A claim marks a batch of due rows with this worker's token for a lease (`LEASE`), in one
statement: on PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so workers racing
take different rows; on SQLite the conditional `UPDATE` runs under the write lock
(`BEGIN IMMEDIATE`), so two processes on one file cannot both take a row. Messages are sent
outside any transaction; each outcome is then settled in a transaction of its own, only while
this worker still holds the row. A worker that dies leaves its rows claimed until the lease
ends; then they are due again: nothing is lost (a message may go twice, with the same
`Message-ID`). Failures wait `NRM_MAIL_RETRY_SECONDS` * 2 ** (attempts - 1); after
`NRM_MAIL_MAX_ATTEMPTS` the row is `failed`. Time is the service clock (the test clock when
on), read once per step.

Must not: decide who is told (`outbox`), word messages (`messages`) or speak SMTP (`delivery`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import Track
from app.clock import real_now, service_now
from app.days import wales_date
from app.db import transaction
from app.i18n.core import ENGLISH
from app.identity.models import Organisation, User
from app.notifications import delivery, reminders, service
from app.notifications.messages import Facts, render, render_bilingual
from app.notifications.models import Kind, Notification, Status
from app.settings import Settings

LEASE = timedelta(minutes=15)
REMINDER_SCAN_SECONDS = 300
BATCH = 20
LONGEST_WAIT = timedelta(hours=6)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """A claimed row, ready to send: its message, or why it cannot be sent (no address)."""

    id: uuid.UUID
    kind: str
    recipient: str
    referral_id: uuid.UUID
    message: EmailMessage | None
    problem: str | None


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        Notification.status == Status.QUEUED.value,
        or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
        or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
    )


async def claim(session: AsyncSession, *, token: str, now: datetime) -> list[Notification]:
    """Take up to `BATCH` due rows for this worker's `token`; returns them."""
    picked = (
        select(Notification.id)
        .where(_due(now))
        .order_by(Notification.created_at, Notification.id)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    # A CTE is run once: a sub-select in the WHERE could be run again for each row, and pick
    # other rows each time.
    batch = picked.cte("batch")
    claimed = await session.scalars(
        update(Notification)
        .where(Notification.id.in_(select(batch.c.id)), _due(now))
        .values(claim_token=token, claimed_until=now + LEASE)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(claimed.all())  # by key: the token has no index, and sent rows stay
    if not ids:
        return []
    rows = await session.scalars(
        select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)
    )
    return list(rows.all())


def _facts(row: Notification, settings: Settings) -> Facts:
    due = row.params.get("due")
    return Facts(
        reference=row.referral_reference,
        link=f"{settings.public_url.rstrip('/')}/referrals/{row.referral_id}",
        stage=row.params.get("stage"),
        due=date.fromisoformat(due) if due else None,
    )


@dataclass(frozen=True)
class Recipients:
    """A batch's users and mailboxes, by id, as they are now."""

    users: dict[uuid.UUID, User]
    mailboxes: dict[uuid.UUID, Organisation]


async def read_recipients(session: AsyncSession, rows: Sequence[Notification]) -> Recipients:
    """A batch's recipients in one statement for its users and one for its mailboxes, not one
    per row."""
    user_ids = {row.user_id for row in rows if row.user_id is not None}
    mailbox_ids = {row.organisation_id for row in rows if row.organisation_id is not None}
    users: dict[uuid.UUID, User] = {}
    mailboxes: dict[uuid.UUID, Organisation] = {}
    if user_ids:
        users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(user_ids)))}
    if mailbox_ids:
        found = await session.scalars(select(Organisation).where(Organisation.id.in_(mailbox_ids)))
        mailboxes = {o.id: o for o in found}
    return Recipients(users, mailboxes)


def compose(
    row: Notification, recipients: Recipients, settings: Settings, *, now: datetime
) -> Outgoing:
    """The message of a row, for its recipient as they are now (address and language)."""
    kind, facts = Kind(row.kind), _facts(row, settings)
    if row.user_id is not None:
        user = recipients.users.get(row.user_id)
        address, recipient = (user.email if user else None), str(row.user_id)
        rendered = render(kind, facts, (user.language if user else None) or ENGLISH)
    else:
        organisation = (
            recipients.mailboxes.get(row.organisation_id) if row.organisation_id else None
        )
        address = organisation.email if organisation else None
        recipient = service.recipient_of(row, organisation.code if organisation else None)
        rendered = render_bilingual(kind, facts)
    if row.user_id is not None and (user is None or not user.is_active):
        return Outgoing(row.id, row.kind, recipient, row.referral_id, None, "inactive user")
    if not address:
        return Outgoing(row.id, row.kind, recipient, row.referral_id, None, "no e-mail address")
    message = delivery.build(row.id, rendered, to=address, settings=settings, at=now)
    return Outgoing(row.id, row.kind, recipient, row.referral_id, message, None)


def backoff(attempts: int, settings: Settings) -> timedelta:
    """How long to wait after the `attempts`-th failure: doubling, at most `LONGEST_WAIT`."""
    wait = timedelta(seconds=settings.mail_retry_seconds * 2 ** max(attempts - 1, 0))
    return min(wait, LONGEST_WAIT)


async def settle(
    session: AsyncSession,
    item: Outgoing,
    *,
    token: str,
    error: str | None,
    final: bool,
    now: datetime,
    settings: Settings,
) -> None:
    """Record an attempt's outcome, if this worker still holds the row; audit sent/failed."""
    row = await session.scalar(
        select(Notification).where(Notification.id == item.id, Notification.claim_token == token)
    )
    if row is None:  # the lease ran out and another worker took it
        return
    row.attempts += 1
    row.claim_token, row.claimed_until, row.last_error = None, None, error
    if error is None:
        row.status, row.sent_at = Status.SENT.value, now
    elif final or row.attempts >= settings.mail_max_attempts:
        row.status = Status.FAILED.value
    else:
        row.next_attempt_at = now + backoff(row.attempts, settings)
    if row.status != Status.QUEUED:
        action = Action.NOTIFICATION_SENT if error is None else Action.NOTIFICATION_FAILED
        changes = {"notification_id": str(row.id), "kind": row.kind, "recipient": item.recipient}
        if error is not None:
            changes["error"] = error
        await audit.record(
            session,
            audit.SYSTEM,
            action=action,
            track=Track.ADMIN,
            now=now,
            referral_id=row.referral_id,
            changes=changes,
        )


_ADDRESS = re.compile(r"[^\s'\"<>(),;:@]+@[^\s'\"<>(),;:]+")


def scrubbed(problem: str) -> str:
    """A delivery failure as it is kept and audited: an SMTP server's refusal often quotes the
    address it refused, and an address is personal data that neither `last_error` nor the
    audit trail may hold (they name recipients by user id or mailbox code)."""
    return _ADDRESS.sub("<address>", problem)[:500]


async def _send(mailer: delivery.Mailer, item: Outgoing) -> str | None:
    if item.message is None:
        return item.problem
    try:
        await mailer.send(item.message)
    except Exception as exc:  # noqa: BLE001 - any failure to hand over is retried
        problem = scrubbed(f"{type(exc).__name__}: {exc}")
        log.warning("notification %s not delivered: %s", item.id, problem)
        return problem
    return None


async def deliver_batch(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, mailer: delivery.Mailer
) -> int:
    """Claim one batch, send it, settle each row; returns how many rows were claimed."""
    token = secrets.token_hex(16)
    async with transaction(sessions) as session:
        now = await service_now(session, settings)
        rows = await claim(session, token=token, now=now)
        recipients = await read_recipients(session, rows)
        batch = [compose(row, recipients, settings, now=now) for row in rows]
    for item in batch:
        error = await _send(mailer, item)
        async with transaction(sessions) as session:
            now = await service_now(session, settings)
            await settle(
                session,
                item,
                token=token,
                error=error,
                final=item.message is None,
                now=now,
                settings=settings,
            )
    return len(batch)


async def run_once(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    mailer: delivery.Mailer | None = None,
    *,
    find_reminders: bool = True,
) -> int:
    """Find the deadline reminders due, then deliver everything due; returns the rows tried."""
    mailer = mailer or delivery.mailer_for(settings)
    if find_reminders:
        async with transaction(sessions) as session:
            await reminders.find(session, now=await service_now(session, settings))
    tried = 0
    while claimed := await deliver_batch(sessions, settings, mailer):
        tried += claimed
    return tried


@asynccontextmanager
async def in_process(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[None]:
    """A worker beside the service while it runs (`nrm serve`), unless `NRM_WORKER=external`:
    so `make run` needs nothing more (docs/notifications.md)."""
    if settings.worker != "in-process":
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run(sessions, settings, stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def _service_day(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> date:
    """Today in Wales on the service clock (the test clock, when it is on: it moves by request)."""
    if not settings.test_clock:
        return wales_date(real_now())
    async with transaction(sessions) as session:
        return wales_date(await service_now(session, settings))


async def run(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, stop: asyncio.Event
) -> None:
    """Deliver until `stop` is set, looking again every `NRM_WORKER_POLL_SECONDS`, and for
    deadline reminders every `REMINDER_SCAN_SECONDS` (a scan reads every waiting referral; a
    reminder a few minutes late is on time) and at once when the service's day changes (at
    midnight, or when the test clock is moved). A failed round (the database away) is logged
    and tried again at the next look."""
    mailer = delivery.mailer_for(settings)
    scanned: float | None = None
    scanned_day: date | None = None
    while not stop.is_set():
        try:
            day = await _service_day(sessions, settings)
            stale = scanned is None or time.monotonic() - scanned >= REMINDER_SCAN_SECONDS
            scan = stale or day != scanned_day
            await run_once(sessions, settings, mailer, find_reminders=scan)
            if scan:
                scanned, scanned_day = time.monotonic(), day
        except Exception:
            log.exception("the notification worker's round failed; trying again later")
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.worker_poll_seconds)
        except TimeoutError:
            continue
