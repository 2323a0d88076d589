"""GET /referrals/{id}, GET /referrals and GET /referrals/{id}/outcome: the representation and
its ETag, the access events of reads, the list's filters and keyset pagination, and the outcome.

Who sees which referral is in `test_visibility.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.http import encode_cursor
from app.referrals import presenters
from app.referrals.models import Decision, ReconsiderationRequest, Referral
from tests.referrals.builders import Cast, file_referral, make_cast, set_service_date

SUMMARY_KEYS = {"id", "reference", "status", "created_at", "routed_to", "deadlines", "next_action"}


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


@pytest.fixture
async def referral(client: httpx.AsyncClient, cast: Cast) -> dict[str, Any]:
    return dict((await file_referral(client, cast.responder)).json())


async def access_events(db: AsyncSession, action: str) -> list[AuditEvent]:
    rows = await db.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    )
    return list(rows.all())


async def page(client: httpx.AsyncClient, cast: Cast, **params: Any) -> httpx.Response:
    return await client.get("/api/v1/referrals", params=params, headers=cast.decision_maker.headers)


async def all_pages(client: httpx.AsyncClient, cast: Cast, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        body = (await page(client, cast, **params)).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


class TestReadReferral:
    async def test_is_the_representation_filed_with_its_etag(
        self, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any]
    ) -> None:
        response = await client.get(
            f"/api/v1/referrals/{referral['id']}", headers=cast.responder.headers
        )
        assert response.status_code == 200
        assert response.headers["etag"] == '"1"'
        assert response.json() == referral

    async def test_each_read_writes_one_access_event(
        self, db: AsyncSession, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any]
    ) -> None:
        for user in (cast.responder, cast.decision_maker, cast.auditor, cast.auditor):
            response = await client.get(f"/api/v1/referrals/{referral['id']}", headers=user.headers)
            assert response.status_code == 200
        viewed = await access_events(db, "referral.viewed")
        assert [e.actor_id for e in viewed] == [
            cast.responder.id,
            cast.decision_maker.id,
            cast.auditor.id,
            cast.auditor.id,
        ]
        assert {e.track for e in viewed} == {"access"}
        assert {str(e.referral_id) for e in viewed} == {referral["id"]}
        assert [e.changes["view"]["after"] for e in viewed] == [
            "full",
            "full",
            "pseudonymised",
            "pseudonymised",
        ]
        assert all("Ana" not in e.canonical for e in viewed)

    async def test_a_malformed_id_is_404_after_the_role_gate(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        malformed = await client.get("/api/v1/referrals/nope", headers=cast.responder.headers)
        assert malformed.status_code == 404  # an id that names nothing: no such referral
        assert malformed.json()["type"] == "/problems/not-found"
        refused = await client.get("/api/v1/referrals/nope", headers=cast.admin.headers)
        assert refused.status_code == 403


class TestListReferrals:
    async def test_lists_summaries_only_and_writes_no_access_event(
        self, db: AsyncSession, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any]
    ) -> None:
        body = (await page(client, cast)).json()
        assert len(body["items"]) == 1
        item = body["items"][0]
        assert set(item) == SUMMARY_KEYS
        assert item["id"] == referral["id"]
        assert item["next_action"] == "rg_decision"
        assert item["deadlines"] == referral["deadlines"]
        assert body["next_cursor"] is None
        assert await access_events(db, "referral.viewed") == []

    async def test_lists_newest_first(self, client: httpx.AsyncClient, cast: Cast) -> None:
        filed = [(await file_referral(client, cast.responder)).json()["id"] for _ in range(3)]
        assert [i["id"] for i in (await page(client, cast)).json()["items"]] == filed[::-1]

    async def test_pages_cover_every_referral_once(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        filed = {(await file_referral(client, cast.responder)).json()["id"] for _ in range(7)}
        pages = await all_pages(client, cast, limit=3)
        assert [len(p) for p in pages] == [3, 3, 1]
        flat = [i for p in pages for i in p]
        assert len(flat) == len(set(flat))
        assert set(flat) == filed

    async def test_referrals_filed_in_the_same_instant_are_paged_by_id(
        self, db: AsyncSession, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        filed = {(await file_referral(client, cast.responder)).json()["id"] for _ in range(5)}
        instant = (await db.scalars(select(Referral.created_at))).first()
        await db.execute(update(Referral).values(created_at=instant))
        await db.commit()
        flat = [i for p in await all_pages(client, cast, limit=2) for i in p]
        assert sorted(flat) == sorted(filed)

    @pytest.mark.parametrize("limit", [0, 201, -1])
    async def test_refuses_a_limit_outside_1_to_200(
        self, client: httpx.AsyncClient, cast: Cast, limit: int
    ) -> None:
        response = await page(client, cast, limit=limit)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["limit"]

    @pytest.mark.parametrize("limit", [1, 200])
    async def test_accepts_the_bounds_of_limit(
        self, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any], limit: int
    ) -> None:
        response = await page(client, cast, limit=limit)
        assert response.status_code == 200
        assert [i["id"] for i in response.json()["items"]] == [referral["id"]]

    @pytest.mark.parametrize(
        "cursor",
        [
            "not-a-cursor!",
            encode_cursor({"x": 1}, key=b"another key", scope="/api/v1/referrals"),
            encode_cursor({"created_at": "x"}, key=b"another key", scope="/api/v1/referrals"),
        ],
    )
    async def test_refuses_a_cursor_that_is_not_ours(
        self, client: httpx.AsyncClient, cast: Cast, cursor: str
    ) -> None:
        response = await page(client, cast, cursor=cursor)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["cursor"]

    async def test_filters_by_status(
        self, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any]
    ) -> None:
        waiting = (await page(client, cast, status="awaiting_rg")).json()["items"]
        assert [i["id"] for i in waiting] == [referral["id"]]
        assert (await page(client, cast, status="withdrawn")).json()["items"] == []
        refused = await page(client, cast, status="lost")
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["status"]

    async def test_filters_by_welsh_date_of_filing_inclusively(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        ids: dict[date, str] = {}
        for day in (date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 2)):
            await set_service_date(client, cast.responder, day)
            ids[day] = (await file_referral(client, cast.responder)).json()["id"]

        async def between(**period: str) -> set[str]:
            response = await page(client, cast, **period)
            assert response.status_code == 200, response.text
            return {i["id"] for i in response.json()["items"]}

        assert await between(created_from="2026-11-30", created_to="2026-11-30") == {
            ids[date(2026, 11, 30)]
        }
        assert await between(created_from="2026-11-28") == {
            ids[date(2026, 11, 30)],
            ids[date(2026, 12, 2)],
        }
        assert await between(created_to="2026-11-27") == {ids[date(2026, 11, 27)]}

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"created_from": "2026-12-02", "created_to": "2026-11-30"}, "created_to"),
            ({"created_from": "30/11/2026"}, "created_from"),
        ],
    )
    async def test_refuses_an_impossible_period(
        self, client: httpx.AsyncClient, cast: Cast, params: dict[str, str], field: str
    ) -> None:
        response = await page(client, cast, **params)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [field]

    async def test_costs_the_same_queries_for_two_referrals_or_six(
        self, connection: AsyncConnection, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        for _ in range(2):
            await file_referral(client, cast.responder)
        with counted(connection) as few:
            await page(client, cast)
        for _ in range(4):
            await file_referral(client, cast.responder)
        with counted(connection) as many:
            assert len((await page(client, cast)).json()["items"]) == 6
        assert len(many) == len(few)


@contextmanager
def counted(connection: AsyncConnection) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    target = connection.sync_connection
    event.listen(target, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", count)


class TestOutcome:
    async def test_the_referrer_reads_status_and_stages_only(
        self, db: AsyncSession, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any]
    ) -> None:
        response = await client.get(
            f"/api/v1/referrals/{referral['id']}/outcome", headers=cast.responder.headers
        )
        assert response.status_code == 200
        assert response.json() == {
            "reference": referral["reference"],
            "status": "awaiting_rg",
            "reasonable_grounds": None,
            "conclusive_grounds": None,
        }
        assert response.headers["etag"] == '"1"'
        assert await access_events(db, "referral.outcome_viewed") == []

    async def test_an_immigration_officer_reads_any_outcome_and_it_is_audited(
        self, db: AsyncSession, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any]
    ) -> None:
        response = await client.get(
            f"/api/v1/referrals/{referral['id']}/outcome", headers=cast.immigration.headers
        )
        assert response.status_code == 200
        assert set(response.json()) == {
            "reference",
            "status",
            "reasonable_grounds",
            "conclusive_grounds",
        }
        for secret in ("Ana", "Popescu", "What the first responder saw"):
            assert secret not in response.text
        events = await access_events(db, "referral.outcome_viewed")
        assert [(e.actor_id, e.track, str(e.referral_id)) for e in events] == [
            (cast.immigration.id, "access", referral["id"])
        ]

    async def test_a_missing_referral_is_404_for_an_immigration_officer(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(
            f"/api/v1/referrals/{uuid.uuid4()}/outcome", headers=cast.immigration.headers
        )
        assert response.status_code == 404

    @pytest.mark.parametrize("who", ["decision_maker", "panel", "auditor", "admin"])
    async def test_other_roles_get_403(
        self, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any], who: str
    ) -> None:
        response = await client.get(
            f"/api/v1/referrals/{referral['id']}/outcome", headers=getattr(cast, who).headers
        )
        assert response.status_code == 403
        assert response.json()["type"] == "/problems/forbidden"

    async def test_counts_no_referral_as_read(
        self, db: AsyncSession, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any]
    ) -> None:
        await client.get(
            f"/api/v1/referrals/{referral['id']}/outcome", headers=cast.responder.headers
        )
        viewed = await db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "referral.viewed")
        )
        assert viewed == 0


def _decision(
    outcome: str, status: str, decided_on: date, *, effective_at: datetime | None = None
) -> Decision:
    return Decision(
        id=uuid.uuid4(),
        stage="reasonable_grounds",
        outcome=outcome,
        status=status,
        decided_on=decided_on,
        effective_at=effective_at,
        decided_at=datetime.combine(decided_on, time(12), UTC),
    )


def _referral(*decisions: Decision, set_aside: Decision | None = None) -> Referral:
    requests = (
        []
        if set_aside is None
        else [ReconsiderationRequest(id=uuid.uuid4(), decision_id=set_aside.id, status="accepted")]
    )
    return Referral(
        reference="NRM-W-2026-000001",
        status="recovery_period",
        decisions=list(decisions),
        reconsideration_requests=requests,
    )


class TestOutcomePresenter:
    def test_a_decision_counts_from_the_welsh_date_it_took_effect(self) -> None:
        # Proposed on 29 June, confirmed at 00:30 on 1 July in Wales (23:30 UTC, summer time).
        confirmed = _decision(
            "negative",
            "effective",
            date(2026, 6, 29),
            effective_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
        )
        shown = presenters.outcome(_referral(confirmed)).reasonable_grounds
        assert shown is not None
        assert (shown.outcome, shown.decided_on) == ("negative", date(2026, 7, 1))

    def test_without_a_recorded_effect_the_decision_date_stands(self) -> None:
        positive = _decision("positive", "effective", date(2026, 7, 2))
        shown = presenters.outcome(_referral(positive)).reasonable_grounds
        assert shown is not None
        assert shown.decided_on == date(2026, 7, 2)

    def test_a_proposal_or_a_rejected_one_is_no_outcome(self) -> None:
        proposed = _decision("negative", "proposed", date(2026, 7, 2))
        rejected = _decision("negative", "rejected", date(2026, 7, 1))
        assert presenters.outcome(_referral(rejected, proposed)).reasonable_grounds is None

    def test_a_decision_set_aside_by_reconsideration_no_longer_stands(self) -> None:
        negative = _decision("negative", "effective", date(2026, 7, 1))
        alone = presenters.outcome(_referral(negative, set_aside=negative))
        assert alone.reasonable_grounds is None
        positive = _decision("positive", "effective", date(2026, 7, 9))
        shown = presenters.outcome(_referral(negative, positive, set_aside=negative))
        assert shown.reasonable_grounds is not None
        assert shown.reasonable_grounds.outcome == "positive"
        assert shown.conclusive_grounds is None
