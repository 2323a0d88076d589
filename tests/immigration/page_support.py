"""What the tests of the immigration liaison's pages share: a browser over the ASGI app, the
record page's path, the audit actions of a referral, the version a form carries."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent

REASONS = "REASONS-CANARY the account was consistent and detailed"
"""The reasons of the fixture's decision: a victim-side text no immigration page may show."""


def browser_of(app: FastAPI) -> httpx.AsyncClient:
    """A client with its own cookies, as another person's browser."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def record_path(referral: dict[str, Any]) -> str:
    return f"/immigration/{referral['id']}"


async def events(db: AsyncSession, referral_id: str, *actions: str) -> list[str]:
    """The actions of the referral's audit events among `actions`, oldest first."""
    rows = await db.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.referral_id == uuid.UUID(referral_id), AuditEvent.action.in_(actions))
        .order_by(AuditEvent.seq)
    )
    return list(rows.all())


def version_of(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found, "the form carries no version"
    return found.group(1)
