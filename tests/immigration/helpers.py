"""Helpers for the compartment's tests: canary forms, the immigration endpoints, and a snapshot
of everything the victim side holds about a referral (to prove nothing here changes it).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent, AuditStream
from app.audit.service import referral_stream
from app.referrals.models import Decision, Note, ReconsiderationRequest, Referral
from tests.factories import AppUser
from tests.referrals.builders import referral_form

RARE_STATUS = "refugee_or_protection"
"""The status the canary referrals carry: rare enough that seeing it anywhere is a leak."""


def canary_reference(token: str, n: int = 0) -> str:
    """A Home Office reference no other text can contain by chance."""
    return f"HO-CANARY-{token}-{n}"


def canary_form(token: str, n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid adult referral whose immigration part holds a canary reference."""
    immigration = {"status": RARE_STATUS, "home_office_reference": canary_reference(token, n)}
    return referral_form(immigration=immigration, **overrides)


def immigration_path(referral_id: str | uuid.UUID) -> str:
    return f"/api/v1/referrals/{referral_id}/immigration"


async def put_record(
    client: httpx.AsyncClient,
    user: AppUser,
    referral_id: str | uuid.UUID,
    body: dict[str, Any],
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
) -> httpx.Response:
    headers = dict(user.headers)
    if if_match is not None:
        headers["If-Match"] = if_match
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    return await client.put(immigration_path(referral_id), json=body, headers=headers)


def _row(obj: Any) -> dict[str, Any]:
    return {column.key: getattr(obj, column.key) for column in obj.__table__.columns}


async def victim_side(db: AsyncSession, referral_id: str | uuid.UUID) -> dict[str, Any]:
    """Every victim-side row of a referral, its victim and access events, and its stream head."""
    rid = uuid.UUID(str(referral_id))
    fresh = {"populate_existing": True}

    async def rows(model: Any, *order: Any) -> list[dict[str, Any]]:
        found = await db.scalars(
            select(model)
            .where(model.referral_id == rid)
            .order_by(*order)
            .execution_options(**fresh)
        )
        return [_row(item) for item in found.all()]

    referral = await db.scalar(
        select(Referral).where(Referral.id == rid).execution_options(**fresh)
    )
    assert referral is not None
    events = await db.scalars(
        select(AuditEvent)
        .where(AuditEvent.referral_id == rid, AuditEvent.track.in_(["victim", "access"]))
        .order_by(AuditEvent.seq)
    )
    head = await db.scalar(
        select(AuditStream)
        .where(AuditStream.stream == referral_stream(rid))
        .execution_options(**fresh)
    )
    return {
        "referral": _row(referral),
        "decisions": await rows(Decision, Decision.decided_at),
        "requests": await rows(ReconsiderationRequest, ReconsiderationRequest.requested_at),
        "notes": await rows(Note, Note.at),
        "events": [(e.seq, e.action, e.hash) for e in events.all()],
        "stream": None if head is None else (head.length, head.head),
    }
