"""Starting, finding and ending web sessions (`app.web.models.WebSession`); CSRF tokens.

A session is found by the SHA-256 of its cookie's token. It is refused (and deleted) when it
has been idle longer than `NRM_WEB_SESSION_IDLE_MINUTES`, when its user was deactivated since
(their token generation moved on), or when the user is inactive. Idle time runs on the real
clock, never the test clock (WEB.md). Never commits: the request's session does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.clock import real_now
from app.identity.models import User
from app.settings import Settings
from app.web.models import WebSession

# A session's last use is written at most this often, so reading pages rarely writes.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Started:
    """A new session: the token for the cookie (never stored) and the row."""

    token: str
    row: WebSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _owner_mac(random_part: str, user_id: uuid.UUID, settings: Settings) -> str:
    message = f"form-owner\n{random_part}\n{user_id}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:20]


def csrf_token_for(user: User, settings: Settings) -> str:
    """A new CSRF token: random, and bound to its user (61 characters)."""
    random_part = secrets.token_urlsafe(30)
    return f"{random_part}.{_owner_mac(random_part, user.id, settings)}"


def owned_by(csrf_token: str, user_id: uuid.UUID, settings: Settings) -> bool:
    """Whether a CSRF token (of a session, live or ended) was issued to this user."""
    random_part, _, mac = csrf_token.partition(".")
    expected = _owner_mac(random_part, user_id, settings)
    return bool(mac) and hmac.compare_digest(mac.encode(), expected.encode())


async def start(session: AsyncSession, user: User, settings: Settings) -> Started:
    """A new session for `user`; sessions idle past the limit are cleared on the way."""
    now = real_now()
    await session.execute(delete(WebSession).where(WebSession.last_seen_at < _idle_since(settings)))
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=token_hash(token),
        user_id=user.id,
        token_generation=user.token_generation,
        csrf_token=csrf_token_for(user, settings),
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    await session.flush()
    return Started(token, row)


def _idle_since(settings: Settings) -> datetime:
    return real_now() - timedelta(minutes=settings.web_session_idle_minutes)


async def find(
    session: AsyncSession, token: str | None, settings: Settings
) -> tuple[WebSession, User] | None:
    """The live session a cookie's token names, with its user (organisation and roles
    loaded); None when there is none, it went idle, or its user may no longer sign in."""
    if not token or len(token) > 100:
        return None
    row = await session.get(WebSession, token_hash(token))
    if row is None:
        return None
    if row.last_seen_at < _idle_since(settings):
        await session.delete(row)
        return None
    user = (
        (
            await session.execute(
                select(User)
                .where(User.id == row.user_id)
                .options(joinedload(User.organisation, innerjoin=True), joinedload(User.role_rows))
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if user is None or not user.is_active or user.token_generation != row.token_generation:
        await session.delete(row)
        return None
    now = real_now()
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row, user


async def end(session: AsyncSession, token: str | None) -> None:
    """Sign out: the session's row is deleted, so its cookie is refused from now on."""
    if token:
        await session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


def csrf_matches(expected: str, sent: str | None) -> bool:
    """Whether a form's `csrf_token` is the session's (compared in constant time)."""
    return bool(sent) and hmac.compare_digest(expected.encode(), (sent or "").encode())
