"""Fixtures of the immigration liaison's pages' tests (`test_pages.py`, `test_page_forms.py`):
a cast, a referral with a canary record and a decision in effect, one without a record, and the
immigration officer signed in to the pages. A module that defines a fixture of the same name
(`test_api.py`) uses its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.immigration.helpers import canary_form
from tests.immigration.page_support import REASONS, browser_of
from tests.referrals.builders import Cast, command, file_referral, make_cast, referral_form
from tests.web.helpers import sign_in


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


@pytest.fixture
def token() -> str:
    return uuid.uuid4().hex


@pytest.fixture
async def referral(client: httpx.AsyncClient, cast: Cast, token: str) -> dict[str, Any]:
    """A referral with a canary immigration record and an effective positive RG decision."""
    filed = (await file_referral(client, cast.responder, canary_form(token))).json()
    body = {"stage": "reasonable_grounds", "outcome": "positive", "reasons": REASONS}
    decided = await command(client, cast.decision_maker, filed, "decisions", body)
    assert decided.status_code == 201, decided.text
    return dict(filed)


@pytest.fixture
async def bare(client: httpx.AsyncClient, cast: Cast) -> dict[str, Any]:
    """A referral filed without immigration facts: the API lets its record be created."""
    form = referral_form()
    del form["immigration"]
    return dict((await file_referral(client, cast.responder, form)).json())


@pytest.fixture
async def officer(app: FastAPI, cast: Cast) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser of the immigration officer, signed in: the client and the CSRF token."""
    async with browser_of(app) as browser:
        yield browser, await sign_in(browser, cast.immigration.username)
