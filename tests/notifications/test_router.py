"""`GET /notifications` and `POST /notifications/{id}/retry`: admins only, filters, paging."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.notifications.walk import deliver, give_mailbox, outbox, worker_settings
from tests.referrals.builders import Cast, file_case, make_cast_quickly

URL = "/api/v1/notifications"


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


class TestList:
    async def test_admins_see_every_row_newest_first_page_by_page(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        await give_mailbox(db, "all-wales-decision-unit")
        case = await file_case(client, cast.responder)
        rows = await outbox(db, case.id)
        seen: list[dict[str, object]] = []
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = await client.get(URL, params=params, headers=cast.admin.headers)
            assert page.status_code == 200, page.text
            seen += page.json()["items"]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(rows) == 5
        assert {item["id"] for item in seen} == {str(r.id) for r in rows}
        assert set(seen[0]) == {
            "id",
            "kind",
            "referral_reference",
            "recipient",
            "status",
            "attempts",
            "created_at",
            "sent_at",
            "last_error",
        }
        assert {item["referral_reference"] for item in seen} == {case.reference}
        assert "organisation:all-wales-decision-unit" in {item["recipient"] for item in seen}
        assert str(cast.responder.id) in {item["recipient"] for item in seen}

    async def test_filters_by_status_and_kind(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        cast: Cast,
    ) -> None:
        await file_case(client, cast.responder)
        await deliver(app, sessions, worker_settings(app))  # nobody has an address: failed
        received = await client.get(
            URL, params={"kind": "referral.received"}, headers=cast.admin.headers
        )
        assert [i["kind"] for i in received.json()["items"]] == ["referral.received"]
        failed = await client.get(URL, params={"status": "failed"}, headers=cast.admin.headers)
        assert len(failed.json()["items"]) == 4
        assert {i["last_error"] for i in failed.json()["items"]} == {"no e-mail address"}
        queued = await client.get(URL, params={"status": "queued"}, headers=cast.admin.headers)
        assert queued.json()["items"] == []
        wrong = await client.get(URL, params={"status": "lost"}, headers=cast.admin.headers)
        assert wrong.status_code == 422

    async def test_only_admins(self, client: httpx.AsyncClient, cast: Cast) -> None:
        for user in (cast.decision_maker, cast.auditor, cast.responder):
            response = await client.get(URL, headers=user.headers)
            assert response.status_code == 403
            assert response.json()["type"] == "/problems/forbidden"


class TestRetry:
    async def test_only_a_failed_one_is_queued_again(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        row = (await outbox(db, case.id))[0]
        response = await client.post(f"{URL}/{row.id}/retry", headers=cast.admin.headers)
        assert response.status_code == 409
        assert response.json()["type"] == "/problems/notification-not-failed"
        missing = await client.post(f"{URL}/{uuid.uuid4()}/retry", headers=cast.admin.headers)
        assert missing.status_code == 404
        forbidden = await client.post(f"{URL}/{row.id}/retry", headers=cast.senior.headers)
        assert forbidden.status_code == 403
