"""Filing a referral in few round trips (issue 11, item 5).

`POST /referrals` used to read the new referral back through the one loader (eight queries:
the referral and each relationship) and the principal twice over. It now builds its answer
from the rows the transaction already holds, so these tests pin the statement count of one
filing, and prove that the answer is still exactly the referral as a later read shows it.

Counted (transaction control aside, `tests/statements.py`), one filing of a form with its
immigration part, once the year's reference counter exists:

| | PostgreSQL | SQLite |
| --- | ---: | ---: |
| before | 21 | 27 |
| then | 11 | 17 |
| with its notifications | 13 | 19 |

Of those, one reads the test clock (`NRM_TEST_CLOCK=1` only, never in production). The rest:
the user (one statement), the local authority, the deciding unit, the reference counter, the
referral and its exploitation types, the immigration record, and three audit events (one
statement each on PostgreSQL, three on SQLite: `app/audit/append.py`), and the outbox: the
unit's decision makers and one INSERT of every notification of the filing
(`app/notifications/outbox.py`).
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.identity.roles import Role, Sector
from tests.factories import AppUser, make_organisation, make_user
from tests.referrals.builders import child_form, file_referral, referral_form
from tests.statements import counted, shown

# One filing's statements, with and without the form's immigration part.
WITH_IMMIGRATION = {"postgresql": 13, "sqlite": 19}
WITHOUT_IMMIGRATION = {"postgresql": 11, "sqlite": 15}


@pytest.fixture
async def responder(app: FastAPI, db: AsyncSession) -> AppUser:
    return await make_user(app, db, Role.FIRST_RESPONDER, organisation="south-wales-police")


async def statements_of_a_filing(
    client: httpx.AsyncClient, engine: AsyncEngine, user: AppUser, form: dict[str, object]
) -> list[str]:
    await file_referral(client, user)  # the year's reference counter exists from here on
    with counted(engine) as statements:
        await file_referral(client, user, form)
    return statements


class TestStatementCount:
    async def test_a_filing_with_its_immigration_part(
        self, client: httpx.AsyncClient, engine: AsyncEngine, responder: AppUser
    ) -> None:
        statements = await statements_of_a_filing(client, engine, responder, referral_form())
        limit = WITH_IMMIGRATION[engine.dialect.name]
        assert len(statements) <= limit, shown(statements)

    async def test_a_filing_without_one(
        self, client: httpx.AsyncClient, engine: AsyncEngine, responder: AppUser
    ) -> None:
        statements = await statements_of_a_filing(
            client, engine, responder, referral_form(immigration=None)
        )
        limit = WITHOUT_IMMIGRATION[engine.dialect.name]
        assert len(statements) <= limit, shown(statements)

    async def test_the_new_referral_is_never_read_back(
        self, client: httpx.AsyncClient, engine: AsyncEngine, responder: AppUser
    ) -> None:
        statements = await statements_of_a_filing(client, engine, responder, referral_form())
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert not [s for s in reads if "FROM referrals" in s], shown(reads)
        assert not [s for s in reads if "user_roles" not in s and "FROM users" in s], shown(reads)


class TestTheAnswerIsTheReferral:
    """The answer built in hand equals the referral read back from the database."""

    async def assert_answer_is_read_back(
        self, client: httpx.AsyncClient, user: AppUser, form: dict[str, object]
    ) -> None:
        filed = await file_referral(client, user, form)
        read = await client.get(filed.headers["location"], headers=user.headers)
        assert read.status_code == 200, read.text
        assert filed.json() == read.json()
        assert filed.headers["etag"] == read.headers["etag"] == '"1"'

    async def test_an_adults_referral(self, client: httpx.AsyncClient, responder: AppUser) -> None:
        await self.assert_answer_is_read_back(client, responder, referral_form())

    async def test_a_childs_referral_routed_to_a_local_panel(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: AppUser
    ) -> None:
        await make_organisation(
            db, code="cardiff-panel", sector=Sector.DECISION_UNIT, local_authority="W06000015"
        )
        form = child_form(
            potential_victim={"other_names": ["Ani"], "languages": ["ro", "en"]},
            exploitation={"types": ["criminal", "sexual", "labour"], "began_on": None},
        )
        await self.assert_answer_is_read_back(client, responder, form)

    async def test_a_referral_filed_without_the_optional_parts(
        self, client: httpx.AsyncClient, responder: AppUser
    ) -> None:
        form = referral_form(immigration=None, indicators=[])
        form["potential_victim"].update(date_of_birth=None, estimated_age=30, nationality=None)
        await self.assert_answer_is_read_back(client, responder, form)
