"""Idempotent creation: `Idempotency-Key` on POST /referrals and POST /duty-to-notify (API.md),
and the hidden key of the web forms that create (a referral, a report, an organisation, a user)
or run a command on a referral's page or an immigration record (a form sent twice changes once).

A retry by the same user to the same endpoint with the same key and the same body (equal as
canonical JSON) gets the first response again (status, body, `Location`, `ETag`) and creates
nothing; the same key with another body is 422; a retry while the first is still running waits
for it and replays it, or gets 409 if it is still running after `LOCK_WAIT`. Records live 24
hours (a setting).

How: the record is claimed with `INSERT … ON CONFLICT DO NOTHING` inside the request's own
transaction. On PostgreSQL a second claim of the same key waits on the first's uncommitted
unique-index entry; when the first commits it sees the stored response, and when the first
rolls back it claims the key itself. On SQLite, `BEGIN IMMEDIATE` already serialises writers.
No separate commit is needed, so a failed request never leaves a half-made record.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import errors as pg_errors
from sqlalchemy import JSON, Integer, String, UniqueConstraint, Uuid, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app import backends
from app.db import Base, UTCDateTime, new_id
from app.errors import FieldError, IdempotencyInFlight, IdempotencyKeyReused, ValidationFailed

LOCK_WAIT = "10s"
MAX_KEY_LENGTH = 255


class IdempotencyRecord(Base):
    """A claimed key and, once the request succeeded, the response to replay."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "endpoint", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    endpoint: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSON, nullable=True)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What the first request answered."""

    status_code: int
    body: Any
    headers: dict[str, str]


def body_hash(raw: bytes) -> str:
    """SHA-256 of the body as canonical JSON (key order and spacing do not matter)."""
    try:
        parsed = json.loads(raw or b"null")
    except ValueError:
        parsed = raw.decode("utf-8", "replace")
    canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    """A key is 1-255 printable ASCII characters."""
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationFailed(
            "invalid Idempotency-Key",
            errors=[FieldError("Idempotency-Key", "1-255 printable ASCII characters")],
        )
    return key


async def claim(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    endpoint: str,
    key: str,
    request_hash: str,
    now: datetime,
    ttl: timedelta,
) -> IdempotencyRecord | StoredResponse:
    """Claim the key for this request, or return the first request's response to replay."""
    await _insert_claim(session, user_id, endpoint, check_key(key), request_hash, now)
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.endpoint == endpoint,
            IdempotencyRecord.key == key,
        )
    )
    assert record is not None  # claimed just now, or committed by the first request
    if record.created_at < now - ttl:
        # Expired: the key is free again for a new request.
        record.request_hash, record.created_at = request_hash, now
        record.status_code, record.body, record.headers = None, None, None
        await session.flush()
        return record
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used with another body")
    if record.status_code is None:
        return record  # ours: freshly claimed in this transaction
    return StoredResponse(record.status_code, record.body, dict(record.headers or {}))


async def _insert_claim(
    session: AsyncSession,
    user_id: uuid.UUID,
    endpoint: str,
    key: str,
    request_hash: str,
    now: datetime,
) -> None:
    statement = (
        backends.upsert(session, IdempotencyRecord)
        .values(
            id=new_id(),
            user_id=user_id,
            endpoint=endpoint,
            key=key,
            request_hash=request_hash,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "endpoint", "key"])
    )
    if not backends.is_postgresql(session):  # BEGIN IMMEDIATE already serialises writers
        await session.execute(statement)
        return
    await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
    try:
        await session.execute(statement)
    except OperationalError as exc:
        if isinstance(exc.orig, pg_errors.LockNotAvailable):
            raise IdempotencyInFlight("the first request with this key is still running") from exc
        raise
    await session.execute(text("SET LOCAL lock_timeout = DEFAULT"))


async def complete(
    session: AsyncSession, record: IdempotencyRecord, response: StoredResponse
) -> None:
    """Store the response to replay; it commits with the change it describes."""
    record.status_code = response.status_code
    record.body = response.body
    record.headers = response.headers
    await session.flush()


async def run_once(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    endpoint: str,
    key: str,
    request_hash: str,
    now: datetime,
    ttl: timedelta,
    create: Callable[[], Awaitable[StoredResponse]],
) -> StoredResponse:
    """Run `create` once per key: its response is stored with the change it describes, and a
    retry gets the first response back instead of a second change (every door that files
    calls this: the API's routes and the web's forms)."""
    claimed = await claim(
        session,
        user_id=user_id,
        endpoint=endpoint,
        key=key,
        request_hash=request_hash,
        now=now,
        ttl=ttl,
    )
    if isinstance(claimed, StoredResponse):
        return claimed
    response = await create()
    await complete(session, claimed, response)
    return response
