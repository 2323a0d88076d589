"""Fixtures of the web pages' tests: a first responder of a police force, signed in; and for
the browser tests, one live server per database and one Chromium for the whole run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession

from app.identity.roles import Role, Sector
from tests.databases import Backend
from tests.factories import AppUser, make_organisation, make_user
from tests.web import live
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


@pytest.fixture(scope="session")
def server(backend: Backend) -> Iterator[live.LiveServer]:
    running = live.start(backend)
    try:
        yield running
    finally:
        running.stop()
        backend.drop(running.database)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=live.CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def context(browser: Browser, server: live.LiveServer) -> AsyncIterator[BrowserContext]:
    made = await browser.new_context(base_url=server.url)
    try:
        yield made
    finally:
        await made.close()
