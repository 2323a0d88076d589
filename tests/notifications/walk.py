"""Helpers: give users and organisations addresses, run the worker, read the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.identity.models import Organisation, User
from app.notifications import delivery, worker
from app.notifications.models import Notification
from app.settings import Settings
from tests.factories import AppUser


def address(user: AppUser) -> str:
    return f"{user.username}@example.org.uk"


async def give_addresses(
    session: AsyncSession, *users: AppUser, language: str | None = None
) -> None:
    for user in users:
        await session.execute(
            update(User).where(User.id == user.id).values(email=address(user), language=language)
        )
    await session.commit()


async def give_mailbox(session: AsyncSession, code: str) -> str:
    mailbox = f"team@{code}.example.org.uk"
    await session.execute(
        update(Organisation).where(Organisation.code == code).values(email=mailbox)
    )
    await session.commit()
    return mailbox


@dataclass(frozen=True)
class Row:
    kind: str
    recipient: str


async def outbox(session: AsyncSession, referral_id: str) -> list[Notification]:
    rows = await session.scalars(
        select(Notification)
        .where(Notification.referral_id == uuid.UUID(referral_id))
        .order_by(Notification.created_at, Notification.kind)
    )
    return list(rows.all())


async def told(session: AsyncSession, referral_id: str) -> set[tuple[str, str]]:
    """(kind, recipient) of every row of a referral: a user id or `organisation:<id>`."""
    return {
        (r.kind, str(r.user_id) if r.user_id else f"organisation:{r.organisation_id}")
        for r in await outbox(session, referral_id)
    }


def worker_settings(app: FastAPI, **changes: object) -> Settings:
    settings: Settings = app.state.settings
    return settings.model_copy(update={"mail_retry_seconds": 0, **changes})


async def deliver(
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    mailer: delivery.Mailer | None = None,
) -> int:
    return await worker.run_once(sessions, settings, mailer)
