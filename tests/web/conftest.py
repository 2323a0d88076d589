"""Fixtures of the web pages' tests: a first responder of a police force, signed in."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.identity.roles import Role, Sector
from tests.factories import AppUser, make_organisation, make_user
from tests.web.helpers import sign_in


@dataclass(frozen=True)
class SignedIn:
    user: AppUser
    csrf: str


@pytest.fixture
async def responder(app: FastAPI, db: AsyncSession) -> AppUser:
    police = await make_organisation(db, sector=Sector.POLICE)
    return await make_user(app, db, Role.FIRST_RESPONDER, organisation=police.code)


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, responder: AppUser) -> SignedIn:
    return SignedIn(responder, await sign_in(client, responder.username))
