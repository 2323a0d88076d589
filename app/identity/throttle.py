"""The log-in throttle: failed log-ins counted per username and per client address.

A username is throttled whether or not it exists, so the answer never tells which names are
real: from the attempt after `NRM_LOGIN_FAILURES_ALLOWED` failures in the window, a real and an
unknown name alike get 429. A client address is throttled on failures only, with a limit far
above one person's mistakes (`NRM_LOGIN_ADDRESS_FAILURES_ALLOWED`), so one machine cannot lock
out a whole office. Each lock is twice as long as the one before, from
`NRM_LOGIN_LOCKOUT_FIRST_SECONDS` up to `NRM_LOGIN_LOCKOUT_LONGEST_MINUTES`; a key that has had
no failure for a window after its last lock starts again from the first.

Counting is atomic: `count` takes the row lock of the username's row, then of the address's
(always in that order, never one lock for everybody) before it reads them, and holds them until
the request's transaction ends, so parallel attempts queue per key and never more than the
limit are judged (tests/identity/test_throttle_race.py). On SQLite every transaction is
`BEGIN IMMEDIATE`, so attempts are serial anyway. The counters use the service clock.

Never commits; never records audit events (the identity service does).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Row, delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import backends
from app.identity.models import LoginThrottle, ThrottleKind
from app.settings import Settings

UNKNOWN_ADDRESS = "unknown"
_PURGE_BATCH = 100


@dataclass(frozen=True, slots=True)
class Key:
    """One throttled thing: a username or a client address."""

    kind: ThrottleKind
    value: str


def keys_for(username: str, address: str | None) -> tuple[Key, Key]:
    """The username's key and the address's key, in the order their rows are locked."""
    name = (
        username
        if len(username) <= 200
        else "sha256:" + hashlib.sha256(username.encode()).hexdigest()
    )
    return Key(ThrottleKind.USERNAME, name), Key(ThrottleKind.ADDRESS, address or UNKNOWN_ADDRESS)


@dataclass(frozen=True, slots=True)
class Policy:
    """How many failures a key may have in the window, and how long its locks last."""

    allowed: int
    window: timedelta
    first_lock: timedelta
    longest_lock: timedelta

    @classmethod
    def of(cls, settings: Settings, kind: ThrottleKind) -> Policy:
        allowed = (
            settings.login_failures_allowed
            if kind is ThrottleKind.USERNAME
            else settings.login_address_failures_allowed
        )
        return cls(
            allowed=allowed,
            window=timedelta(minutes=settings.login_failure_window_minutes),
            first_lock=timedelta(seconds=settings.login_lockout_first_seconds),
            longest_lock=timedelta(minutes=settings.login_lockout_longest_minutes),
        )


@dataclass(frozen=True, slots=True)
class Counter:
    """A key's failures as stored; pure arithmetic, no database."""

    failures: int = 0
    window_started_at: datetime | None = None
    locked_until: datetime | None = None
    lockouts: int = 0

    def expires_at(self, window: timedelta) -> datetime | None:
        """When the counter stops mattering (None: it never mattered)."""
        ends = [t + window for t in (self.window_started_at, self.locked_until) if t is not None]
        return max(ends) if ends else None

    def as_of(self, now: datetime, window: timedelta) -> Counter:
        """The counter as it stands now: failures of a past window no longer count, and a key
        quiet for a window after its last lock is forgotten entirely."""
        expires = self.expires_at(window)
        if expires is None or expires <= now:
            return Counter()
        if self.window_started_at is not None and self.window_started_at + window <= now:
            return replace(self, failures=0, window_started_at=None)
        return self

    def wait(self, now: datetime) -> int | None:
        """Whole seconds until the lock ends; None when the key is not locked."""
        if self.locked_until is None or self.locked_until <= now:
            return None
        return max(1, math.ceil((self.locked_until - now).total_seconds()))

    def after_failure(self, policy: Policy, now: datetime) -> Counter:
        """The counter with one more failure; the failure that reaches the limit locks the key."""
        current = self.as_of(now, policy.window)
        failures = current.failures + 1
        if failures < policy.allowed:
            return replace(
                current, failures=failures, window_started_at=current.window_started_at or now
            )
        lock = min(policy.first_lock * 2 ** min(current.lockouts, 20), policy.longest_lock)
        return Counter(locked_until=now + lock, lockouts=current.lockouts + 1)


_COLUMNS = (
    LoginThrottle.failures,
    LoginThrottle.window_started_at,
    LoginThrottle.locked_until,
    LoginThrottle.lockouts,
)


def _counter(row: Row[int, datetime | None, datetime | None, int] | None) -> Counter:
    return Counter() if row is None else Counter(*row)


def _matches(key: Key) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return LoginThrottle.kind == key.kind.value, LoginThrottle.key == key.value


async def locked(session: AsyncSession, keys: tuple[Key, ...], *, now: datetime) -> int | None:
    """Seconds until every lock on these keys ends, read without locking (spares the password
    hash while a key is locked); None when none is locked. `count` decides for certain."""
    rows = [(await session.execute(select(*_COLUMNS).where(*_matches(k)))).first() for k in keys]
    waits = [w for w in (_counter(row).wait(now) for row in rows) if w is not None]
    return max(waits) if waits else None


async def count(
    session: AsyncSession,
    settings: Settings,
    keys: tuple[Key, Key],
    *,
    failed: bool,
    now: datetime,
) -> int | None:
    """Judge one attempt under the keys' row locks: the seconds to wait if a key is locked (the
    attempt then counts for nothing), else None once the attempt is counted."""
    if not failed:
        return await _count_success(session, keys[0], now)
    held: list[tuple[Key, Counter]] = []
    for key in keys:  # the username's row first, then the address's: one order for everyone
        counter = await _hold(session, key, now)
        wait = counter.wait(now)
        if wait is not None:
            return wait
        held.append((key, counter))
    for key, counter in held:
        policy = Policy.of(settings, key.kind)
        await _save(session, key, counter.after_failure(policy, now), policy.window, now)
    await _purge(session, now)
    return None


async def _count_success(session: AsyncSession, username: Key, now: datetime) -> int | None:
    """A right password: refused while the username is locked, else its failures are forgotten.
    The address's failures stay: an address counts failures only, and one good account must
    not wipe a machine's record of guessing at others."""
    query = select(*_COLUMNS).where(*_matches(username)).with_for_update()
    row = (await session.execute(query)).first()
    wait = _counter(row).wait(now)
    if wait is None and row is not None:
        await session.execute(
            delete(LoginThrottle)
            .where(*_matches(username))
            .execution_options(synchronize_session=False)
        )
    return wait


async def _hold(session: AsyncSession, key: Key, now: datetime) -> Counter:
    """The key's counter, its row created if absent and locked until the transaction ends.

    A no-op upsert: on PostgreSQL `ON CONFLICT DO UPDATE` locks the row and returns its newest
    committed version, after waiting for any transaction that holds it.
    """
    values = {
        "kind": key.kind.value,
        "key": key.value,
        "failures": 0,
        "lockouts": 0,
        "expires_at": now,
    }
    statement = (
        backends.upsert(session, LoginThrottle)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.kind, LoginThrottle.key],
            set_={"failures": LoginThrottle.__table__.c.failures},
        )
        .returning(*_COLUMNS)
    )
    return _counter((await session.execute(statement)).one())


async def _save(
    session: AsyncSession, key: Key, counter: Counter, window: timedelta, now: datetime
) -> None:
    await session.execute(
        update(LoginThrottle)
        .where(*_matches(key))
        .values(
            failures=counter.failures,
            window_started_at=counter.window_started_at,
            locked_until=counter.locked_until,
            lockouts=counter.lockouts,
            expires_at=counter.expires_at(window) or now,
        )
        .execution_options(synchronize_session=False)
    )


async def _purge(session: AsyncSession, now: datetime) -> None:
    """Delete a batch of rows that no longer mean anything, skipping rows others hold."""
    stale = (
        select(LoginThrottle.kind, LoginThrottle.key)
        .where(LoginThrottle.expires_at < now)
        .limit(_PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    await session.execute(
        delete(LoginThrottle)
        .where(tuple_(LoginThrottle.kind, LoginThrottle.key).in_(stale))
        .execution_options(synchronize_session=False)
    )
