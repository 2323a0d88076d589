"""`Idempotency-Key` on POST /referrals and POST /duty-to-notify (API.md "Conventions").

A retry by the same user to the same endpoint with the same key and body returns the first
response and creates nothing; another body is 422; racing retries execute once.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.identity.roles import Role
from app.referrals.models import DutyToNotify, Referral
from tests.factories import AppUser as SignedIn
from tests.factories import make_user
from tests.referrals.builders import referral_form

REFERRALS = "/api/v1/referrals"
DUTY = "/api/v1/duty-to-notify"
NOTICE = {
    "gender": "male",
    "nationality": None,
    "exploitation": {"types": ["labour"], "location": "uk", "local_authority": "W06000015"},
}


@pytest.fixture
async def responder(app: FastAPI, db: AsyncSession) -> SignedIn:
    return await make_user(app, db, Role.FIRST_RESPONDER, organisation="south-wales-police")


async def post(
    client: httpx.AsyncClient, user: SignedIn, key: str, body: Any, url: str = REFERRALS
) -> httpx.Response:
    return await client.post(url, json=body, headers={**user.headers, "Idempotency-Key": key})


async def counts(db: AsyncSession) -> tuple[int, int, int]:
    """Referrals, duty-to-notify reports, and audit events of filing."""
    referrals = await db.scalar(select(func.count()).select_from(Referral))
    reports = await db.scalar(select(func.count()).select_from(DutyToNotify))
    events = await db.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action.in_(
                ["referral.submitted", "immigration.updated", "duty_to_notify.submitted"]
            )
        )
    )
    return referrals or 0, reports or 0, events or 0


def same_response(first: httpx.Response, again: httpx.Response) -> None:
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers.get("etag") == first.headers.get("etag")


class TestReplay:
    async def test_the_same_key_and_body_replays_the_first_response_and_creates_nothing(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        first = await post(client, responder, "k-1", referral_form())
        assert first.status_code == 201, first.text
        assert first.headers["etag"] == '"1"'
        assert await counts(db) == (1, 0, 2)
        again = await post(client, responder, "k-1", referral_form())
        same_response(first, again)
        assert await counts(db) == (1, 0, 2)

    async def test_the_body_is_compared_as_canonical_json(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        form = referral_form()
        first = await post(client, responder, "k-2", form)
        reordered = json.dumps(dict(reversed(list(form.items()))), indent=2)
        again = await client.post(
            REFERRALS,
            content=reordered.encode(),
            headers={
                **responder.headers,
                "Idempotency-Key": "k-2",
                "Content-Type": "application/json",
            },
        )
        same_response(first, again)
        assert (await counts(db))[0] == 1

    async def test_duty_to_notify_replays_too(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        first = await post(client, responder, "k-3", NOTICE, DUTY)
        again = await post(client, responder, "k-3", NOTICE, DUTY)
        same_response(first, again)
        assert await counts(db) == (0, 1, 1)

    async def test_without_a_key_every_request_creates(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        for _ in range(2):
            response = await client.post(REFERRALS, json=referral_form(), headers=responder.headers)
            assert response.status_code == 201
        assert (await counts(db))[0] == 2


class TestKeyReuse:
    async def test_the_same_key_with_another_body_is_422_and_creates_nothing(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        await post(client, responder, "k-4", referral_form())
        other = await post(client, responder, "k-4", referral_form(account="Something else."))
        assert other.status_code == 422
        assert other.json()["type"] == "/problems/idempotency-key-reused"
        assert await counts(db) == (1, 0, 2)

    async def test_different_users_use_the_same_key_independently(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        colleague = await make_user(
            app, db, Role.FIRST_RESPONDER, organisation="south-wales-police"
        )
        mine = await post(client, responder, "shared", referral_form())
        theirs = await post(client, colleague, "shared", referral_form())
        assert mine.status_code == theirs.status_code == 201
        assert mine.json()["id"] != theirs.json()["id"]
        assert (await counts(db))[0] == 2

    async def test_a_key_is_per_endpoint(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        assert (await post(client, responder, "k-5", referral_form())).status_code == 201
        assert (await post(client, responder, "k-5", NOTICE, DUTY)).status_code == 201
        assert await counts(db) == (1, 1, 3)

    async def test_a_refused_request_does_not_hold_its_key(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        form = referral_form()
        del form["consent"]
        refused = await post(client, responder, "k-6", form)
        assert refused.status_code == 422
        assert refused.json()["type"] == "/problems/validation-failed"
        fixed = await post(client, responder, "k-6", referral_form())
        assert fixed.status_code == 201, fixed.text
        assert (await counts(db))[0] == 1

    async def test_a_key_expires_after_24_hours(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        await post(client, responder, "k-7", referral_form())
        moved = await client.post(
            "/api/v1/test-clock", json={"advance_days": 2}, headers=responder.headers
        )
        assert moved.status_code == 200
        later = await post(client, responder, "k-7", referral_form(account="A new case."))
        assert later.status_code == 201, later.text
        assert (await counts(db))[0] == 2

    @pytest.mark.parametrize("key", ["", "x" * 256, "clé"])
    async def test_refuses_a_malformed_key(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn, key: str
    ) -> None:
        response = await client.post(
            REFERRALS,
            json=referral_form(),
            headers={**responder.headers, "Idempotency-Key": key.encode()},
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["Idempotency-Key"]
        assert (await counts(db))[0] == 0


class TestRacingRetries:
    @pytest.mark.committing
    async def test_execute_once_and_every_answer_is_the_first_or_409(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        async with committed_app.state.sessionmaker() as session:
            user = await make_user(
                committed_app, session, Role.FIRST_RESPONDER, organisation="south-wales-police"
            )
        form = referral_form()
        responses = await asyncio.gather(
            *(post(committed_client, user, "race", form) for _ in range(5))
        )
        statuses = sorted(r.status_code for r in responses)
        assert set(statuses) <= {201, 409}, [r.text for r in responses]
        created = [r for r in responses if r.status_code == 201]
        assert created
        assert len({r.json()["id"] for r in created}) == 1
        assert len({r.headers["etag"] for r in created}) == 1
        for conflict in (r for r in responses if r.status_code == 409):
            assert conflict.json()["type"] == "/problems/idempotency-in-flight"
        async with committed_app.state.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Referral)) == 1
            submitted = await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "referral.submitted")
            )
            assert submitted == 1
