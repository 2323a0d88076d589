"""`GET /audit/events` and the other audit endpoints: auditors only, every filter, paging."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import proofs
from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import AuditEvent, AuditStream, Track
from app.http import cursor_key, encode_cursor
from app.identity.roles import Role
from tests.factories import AppUser, make_user

EVENTS = "/api/v1/audit/events"
AUDIT_PATHS = [EVENTS, "/api/v1/audit/verify", "/api/v1/audit/checkpoints/latest"]
ITEM_KEYS = {
    "seq",
    "id",
    "at",
    "actor",
    "action",
    "track",
    "referral_id",
    "stream",
    "position",
    "changes",
    "request_id",
    "hash",
    "prev_hash",
}
# Later than anything else in the test database, so time filters select only these events.
T1 = datetime(2031, 3, 1, 10, 0, tzinfo=UTC)
ONE, TWO = Action.NOTE_ADDED, Action.IMMIGRATION_UPDATED


def _from_t1(name: str) -> dict[str, str]:
    """`since=T1` beside a filter that does not already bound the time."""
    return {} if name in ("since", "until") else {"since": T1.isoformat()}


@dataclass
class Arranged:
    """Three events with known actors, organisations, referrals, actions, tracks and times."""

    tag: str
    actor_a: uuid.UUID
    actor_b: uuid.UUID
    org_x: str
    org_y: str
    referral_1: uuid.UUID
    referral_2: uuid.UUID
    events: list[AuditEvent]

    @property
    def seqs(self) -> list[int]:
        return [e.seq for e in self.events]


@pytest.fixture
async def arranged(db: AsyncSession) -> Arranged:
    tag = f"t{uuid.uuid4().hex[:10]}"
    actor_a, actor_b = uuid.uuid4(), uuid.uuid4()
    org_x, org_y = f"{tag}-x", f"{tag}-y"
    referral_1, referral_2 = uuid.uuid4(), uuid.uuid4()
    a = audit.ActorRef(actor_a, org_x, ("first_responder",))
    b = audit.ActorRef(actor_b, org_y, ("immigration_officer",))
    plan: list[tuple[audit.ActorRef, uuid.UUID | None, Action, Track]] = [
        (a, referral_1, ONE, Track.VICTIM),
        (b, referral_2, TWO, Track.IMMIGRATION),
        (a, None, ONE, Track.ACCESS),
    ]
    events = [
        await audit.record(
            db,
            actor,
            action=action,
            track=track,
            now=T1 + timedelta(hours=i),
            referral_id=referral,
            changes={"field": {"after": i}},
        )
        for i, (actor, referral, action, track) in enumerate(plan)
    ]
    return Arranged(tag, actor_a, actor_b, org_x, org_y, referral_1, referral_2, events)


@pytest.fixture
async def auditor(app: FastAPI, db: AsyncSession) -> AppUser:
    return await make_user(app, db, Role.AUDITOR)


async def _page(
    client: httpx.AsyncClient, user: AppUser, **params: Any
) -> tuple[list[dict[str, Any]], str | None]:
    response = await client.get(EVENTS, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "next_cursor"}
    return body["items"], body["next_cursor"]


async def _seqs(client: httpx.AsyncClient, user: AppUser, **params: Any) -> list[int]:
    items, cursor = await _page(client, user, limit=200, **params)
    assert cursor is None
    return [item["seq"] for item in items]


class TestAccess:
    @pytest.mark.parametrize("role", [r for r in Role if r is not Role.AUDITOR])
    @pytest.mark.parametrize("path", AUDIT_PATHS)
    async def test_refuses_every_other_role_with_403(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient, role: Role, path: str
    ) -> None:
        user = await make_user(app, db, role)
        response = await client.get(path, headers=user.headers)
        assert response.status_code == 403
        assert response.json()["type"] == "/problems/forbidden"

    @pytest.mark.parametrize("path", AUDIT_PATHS)
    async def test_refuses_a_caller_without_a_token_with_401(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"

    async def test_answers_403_before_judging_the_query(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db, Role.DECISION_MAKER)
        response = await client.get(EVENTS, params={"limit": 0}, headers=user.headers)
        assert response.status_code == 403


class TestListEvents:
    async def test_items_carry_exactly_the_fields_api_md_lists(
        self, client: httpx.AsyncClient, auditor: AppUser, arranged: Arranged
    ) -> None:
        items, _ = await _page(client, auditor, referral_id=str(arranged.referral_2))
        assert len(items) == 1
        item = items[0]
        event = arranged.events[1]
        assert set(item) == ITEM_KEYS
        assert item["seq"] == event.seq
        assert item["id"] == str(event.id)
        assert item["at"] == "2031-03-01T11:00:00Z"
        assert item["actor"] == {
            "id": str(arranged.actor_b),
            "organisation": arranged.org_y,
            "roles": ["immigration_officer"],
        }
        assert (item["action"], item["track"]) == (TWO.value, "immigration")
        assert item["referral_id"] == str(arranged.referral_2)
        assert (item["stream"], item["position"]) == (f"referral:{arranged.referral_2}", 1)
        assert item["changes"] == {"field": {"after": 1}}
        assert (item["hash"], item["prev_hash"]) == (event.hash, None)
        assert item["request_id"] is None

    async def test_lists_oldest_first(
        self, client: httpx.AsyncClient, auditor: AppUser, arranged: Arranged
    ) -> None:
        seqs = await _seqs(client, auditor, since=T1.isoformat())
        assert seqs == sorted(seqs)
        assert seqs == arranged.seqs

    @pytest.mark.parametrize(
        ("name", "value_of", "expected"),
        [
            ("referral_id", lambda a: str(a.referral_1), [0]),
            ("actor_id", lambda a: str(a.actor_a), [0, 2]),
            ("organisation", lambda a: a.org_y, [1]),
            ("action", lambda _: ONE.value, [0, 2]),
            ("since", lambda _: (T1 + timedelta(hours=1)).isoformat(), [1, 2]),
            ("until", lambda _: (T1 + timedelta(hours=1)).isoformat(), None),
        ],
    )
    async def test_filters_by_each_field(
        self,
        client: httpx.AsyncClient,
        auditor: AppUser,
        arranged: Arranged,
        name: str,
        value_of: Any,
        expected: list[int] | None,
    ) -> None:
        # From T1 on, only the arranged events exist (an action filter alone would see others).
        seqs = await _seqs(client, auditor, **{name: value_of(arranged)}, **_from_t1(name))
        if expected is None:  # `until` is exclusive: the first event only, of ours
            assert arranged.seqs[0] in seqs
            assert not set(arranged.seqs[1:]) & set(seqs)
        else:
            assert seqs == [arranged.seqs[i] for i in expected]

    @pytest.mark.parametrize(("track", "index"), [("victim", 0), ("immigration", 1), ("access", 2)])
    async def test_filters_by_track(
        self,
        client: httpx.AsyncClient,
        auditor: AppUser,
        arranged: Arranged,
        track: str,
        index: int,
    ) -> None:
        items, _ = await _page(client, auditor, track=track, limit=200)
        assert {item["track"] for item in items} == {track}
        ours = [item["seq"] for item in items if item["seq"] in arranged.seqs]
        assert ours == [arranged.seqs[index]]

    async def test_combines_filters(
        self, client: httpx.AsyncClient, auditor: AppUser, arranged: Arranged
    ) -> None:
        seqs = await _seqs(
            client,
            auditor,
            actor_id=str(arranged.actor_a),
            track="access",
            until="2032-01-01T00:00Z",
        )
        assert seqs == [arranged.seqs[2]]


class TestPaging:
    async def test_pages_through_every_match_with_the_cursor(
        self, client: httpx.AsyncClient, auditor: AppUser, arranged: Arranged
    ) -> None:
        seen: list[int] = []
        cursor: str | None = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": 1, "since": T1.isoformat()}
            if cursor:
                params["cursor"] = cursor
            items, cursor = await _page(client, auditor, **params)
            seen += [item["seq"] for item in items]
            pages += 1
            if cursor is None:
                break
        assert seen == arranged.seqs
        assert pages == 3

    async def test_a_full_last_page_has_no_cursor_when_nothing_follows(
        self, client: httpx.AsyncClient, auditor: AppUser, arranged: Arranged
    ) -> None:
        items, cursor = await _page(client, auditor, since=T1.isoformat(), limit=3)
        assert [item["seq"] for item in items] == arranged.seqs
        assert cursor is None

    async def test_a_cursor_continues_after_its_seq(
        self, app: FastAPI, client: httpx.AsyncClient, auditor: AppUser, arranged: Arranged
    ) -> None:
        key = cursor_key(app.state.settings)
        cursor = encode_cursor({"seq": arranged.seqs[0]}, key=key, scope=EVENTS)
        seqs = await _seqs(client, auditor, since=T1.isoformat(), cursor=cursor)
        assert seqs == arranged.seqs[1:]

    @pytest.mark.parametrize("limit", [0, -1, 201])
    async def test_refuses_a_limit_outside_1_to_200(
        self, client: httpx.AsyncClient, auditor: AppUser, limit: int
    ) -> None:
        response = await client.get(EVENTS, params={"limit": limit}, headers=auditor.headers)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["limit"]

    async def test_accepts_the_limits_1_and_200(
        self, client: httpx.AsyncClient, auditor: AppUser
    ) -> None:
        for limit in (1, 200):
            items, _ = await _page(client, auditor, limit=limit)
            assert 0 < len(items) <= limit

    @pytest.mark.parametrize(
        "cursor",
        [
            "not a cursor!",
            base64.urlsafe_b64encode(b"[1, 2]").decode(),
            base64.urlsafe_b64encode(b'{"seq": 5}').decode(),
            encode_cursor({"seq": 5}, key=b"another key", scope=EVENTS),
        ],
    )
    async def test_refuses_a_cursor_that_is_not_ours(
        self, client: httpx.AsyncClient, auditor: AppUser, cursor: str
    ) -> None:
        response = await client.get(EVENTS, params={"cursor": cursor}, headers=auditor.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "cursor"

    @pytest.mark.parametrize("values", [{"seq": "5"}, {"seq": True}, {"seq": -1}, {"after": 5}])
    async def test_refuses_a_signed_cursor_without_a_seq(
        self, app: FastAPI, client: httpx.AsyncClient, auditor: AppUser, values: dict[str, Any]
    ) -> None:
        cursor = encode_cursor(values, key=cursor_key(app.state.settings), scope=EVENTS)
        response = await client.get(EVENTS, params={"cursor": cursor}, headers=auditor.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "cursor"


class TestInvalidFilters:
    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"since": "2031-03-01T10:00:00"}, "since"),
            ({"until": "yesterday"}, "until"),
            ({"since": "2031-03-02T00:00Z", "until": "2031-03-01T00:00Z"}, "until"),
            ({"track": "gossip"}, "track"),
            ({"referral_id": "not-a-uuid"}, "referral_id"),
            ({"actor_id": "42"}, "actor_id"),
            ({"action": "x" * 65}, "action"),
            # Issue 9, item 5: moments with no UTC form in the years 1 to 9999 (once a 500).
            ({"since": "9999-12-31T23:00:00-05:00"}, "since"),
            ({"until": "9999-12-31T23:59:59-00:01"}, "until"),
            ({"since": "0001-01-01T00:30:00+01:00"}, "since"),
            # A bare number would be read as seconds since 1970: times are RFC 3339 text.
            ({"since": "99999999999"}, "since"),
            ({"until": "1764000000"}, "until"),
        ],
    )
    async def test_refuses_an_invalid_filter_with_422(
        self, client: httpx.AsyncClient, auditor: AppUser, params: dict[str, str], field: str
    ) -> None:
        response = await client.get(EVENTS, params=params, headers=auditor.headers)
        assert response.status_code == 422
        assert response.json()["type"] == "/problems/validation-failed"
        assert [e["field"] for e in response.json()["errors"]] == [field]


class TestOpenActionFilter:
    async def test_an_action_the_service_never_writes_finds_nothing(
        self, client: httpx.AsyncClient, auditor: AppUser, arranged: Arranged
    ) -> None:
        # API.md names actions "such as …": the filter stays open, as before issue 10.
        response = await client.get(
            EVENTS, params={"action": "referral.misspelt"}, headers=auditor.headers
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"items": [], "next_cursor": None}


class TestVerifyEndpoint:
    async def test_reports_the_intact_trail_valid_with_every_event_checked(
        self, db: AsyncSession, client: httpx.AsyncClient, auditor: AppUser, arranged: Arranged
    ) -> None:
        from sqlalchemy import func, select

        total = await db.scalar(select(func.count()).select_from(AuditEvent))
        response = await client.get("/api/v1/audit/verify", headers=auditor.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["valid"] is True
        assert body["events_checked"] == total
        assert body["first_invalid_seq"] is None
        del arranged


class TestLatestCheckpointEndpoint:
    """Out of the box (no cron job yet, no key set outside production) an auditor asking for
    the latest checkpoint gets one signed over every event committed so far."""

    async def test_makes_one_over_every_event_when_none_was_made(
        self, client: httpx.AsyncClient, db: AsyncSession, auditor: AppUser
    ) -> None:
        response = await client.get("/api/v1/audit/checkpoints/latest", headers=auditor.headers)
        assert response.status_code == 200, response.text
        document = response.json()
        newest = await db.scalar(select(func.max(AuditEvent.seq)))
        assert document["seq"] == newest
        streams = await db.scalar(select(func.count()).select_from(AuditStream))
        assert len(document["streams"]) == streams
        assert proofs.verify_checkpoint_signature(document)

    async def test_extends_the_latest_over_events_appended_since(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, auditor: AppUser
    ) -> None:
        url = "/api/v1/audit/checkpoints/latest"
        first = (await client.get(url, headers=auditor.headers)).json()
        again = (await client.get(url, headers=auditor.headers)).json()
        assert again == first  # nothing appended: the same signed document
        await make_user(app, db, Role.FIRST_RESPONDER)  # its creation is an admin event
        later = (await client.get(url, headers=auditor.headers)).json()
        assert later["seq"] > first["seq"]
        assert proofs.verify_checkpoint_signature(later)
