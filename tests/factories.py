"""Typed builders for tests: organisations, users, tokens. Keyword overrides, sane defaults.

Users are created through the identity service, so their audit events exist as in life.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import real_now
from app.identity import service as identity
from app.identity.models import Organisation, User
from app.identity.roles import Role, Sector
from app.identity.schemas import OrganisationCreate, UserCreate
from app.identity.security import issue_token

PASSWORD = "correct-horse-battery-staple"


@dataclass(frozen=True)
class AppUser:
    """A created user and the headers that sign them in."""

    id: uuid.UUID
    username: str
    organisation: str
    roles: tuple[Role, ...]
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_organisation(
    session: AsyncSession,
    *,
    code: str | None = None,
    sector: Sector = Sector.CHARITY,
    local_authority: str | None = None,
    name: str | None = None,
) -> Organisation:
    code = code or f"org-{uuid.uuid4().hex[:10]}"
    body = OrganisationCreate(
        code=code,
        name=name or f"Organisation {code}",
        name_cy=f"Sefydliad {code}",
        sector=sector,
        local_authority=local_authority,
    )
    organisation = await identity.create_organisation_as_system(session, body, now=real_now())
    await session.commit()
    return organisation


async def make_user(
    app: FastAPI,
    session: AsyncSession,
    *roles: Role,
    organisation: str = "all-wales-decision-unit",
    username: str | None = None,
    password: str = PASSWORD,
    display_name: str | None = None,
) -> AppUser:
    username = username or f"user-{uuid.uuid4().hex[:10]}"
    body = UserCreate(
        username=username,
        display_name=display_name or username.title(),
        password=password,
        organisation=organisation,
        roles=list(roles or (Role.FIRST_RESPONDER,)),
    )
    user: User = await identity.create_user(session, app.state.settings, None, body, now=real_now())
    await session.commit()
    token = issue_token(app.state.settings, user.id).access_token
    return AppUser(user.id, username, organisation, tuple(body.roles), token)


async def users_by_role(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession], organisation: str
) -> dict[Role, AppUser]:
    """One user per role in an organisation."""
    async with sessions() as session:
        return {
            role: await make_user(app, session, role, organisation=organisation) for role in Role
        }
