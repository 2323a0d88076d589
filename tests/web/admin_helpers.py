"""What the administrators' page tests share: the audit events an admin caused, the roles a
page shows ticked, whether someone can sign in, and a complete new-user form."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from tests.factories import AppUser
from tests.web.helpers import sign_in_csrf

NEW_PASSWORD = "a-long-enough-password"


async def events(db: AsyncSession, action: str, actor: AppUser) -> list[AuditEvent]:
    found = await db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.actor_id == actor.id)
        .order_by(AuditEvent.seq)
    )
    return list(found.all())


def checked_roles(html: str) -> set[str]:
    return set(re.findall(r'name="roles" type="checkbox" value="(\w+)" checked', html))


async def can_sign_in(app: FastAPI, username: str, password: str) -> bool:
    """Whether the sign-in form lets them in, in a browser of their own."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as other:
        form = await other.get("/sign-in")
        answer = await other.post(
            "/sign-in",
            data={
                "username": username,
                "password": password,
                "csrf_token": sign_in_csrf(form.text),
            },
        )
        return answer.status_code == 303


def new_user_form(**overrides: object) -> dict[str, object]:
    return {
        "username": "new-caseworker",
        "display_name": "New Caseworker",
        "password": NEW_PASSWORD,
        "organisation": "bawso",
        "roles": ["first_responder"],
        **overrides,
    }
