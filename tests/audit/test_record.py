"""`record()`, the one way to write an event: chained per stream, in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import chain
from app.audit import service as audit
from app.audit.draft import Draft
from app.audit.models import AuditEvent, AuditStream, Track
from app.errors import Conflict
from app.http import DbSession
from app.routing import api_router
from tests.audit.tampering import canonical_json
from tests.conftest import fresh_engine

NOW = datetime(2026, 11, 30, 9, 15, 0, 123456, tzinfo=UTC)
ACTOR = audit.ActorRef(uuid.uuid4(), "bawso", ("first_responder",))


async def _stream_events(session: AsyncSession, stream: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.stream == stream).order_by(AuditEvent.position)
    return list((await session.scalars(query)).all())


class TestRecord:
    async def test_chains_positions_one_two_three_each_after_the_previous_hash(
        self, db: AsyncSession
    ) -> None:
        referral_id = uuid.uuid4()
        for step in range(3):
            await audit.record(
                db,
                ACTOR,
                action="test.step",
                track=Track.VICTIM,
                now=NOW,
                referral_id=referral_id,
                changes={"step": {"after": step}},
            )
        events = await _stream_events(db, audit.referral_stream(referral_id))
        assert [e.position for e in events] == [1, 2, 3]
        assert [e.prev_hash for e in events] == [None, events[0].hash, events[1].hash]
        for event in events:
            assert event.hash == chain.event_hash(event.prev_hash, event.canonical.encode())

    async def test_stores_the_canonical_content_its_columns_say(self, db: AsyncSession) -> None:
        referral_id = uuid.uuid4()
        event = await audit.record(
            db,
            ACTOR,
            action="test.step",
            track=Track.IMMIGRATION,
            now=NOW,
            referral_id=referral_id,
            changes={"status": {"before": "a", "after": "b"}},
        )
        stored = await db.scalar(select(AuditEvent).where(AuditEvent.seq == event.seq))
        assert stored is not None
        assert stored.id == event.id
        expected = {
            "stream": f"referral:{referral_id}",
            "position": 1,
            "id": str(event.id),
            "at": "2026-11-30T09:15:00.123456Z",
            "actor": {
                "id": str(ACTOR.user_id),
                "organisation": "bawso",
                "roles": ["first_responder"],
            },
            "action": "test.step",
            "track": "immigration",
            "referral_id": str(referral_id),
            "changes": {"status": {"before": "a", "after": "b"}},
            "request_id": None,
            "v": 1,
        }
        assert chain.content_matches(stored.canonical.encode(), expected)
        assert stored.at == NOW

    async def test_streams_by_referral_then_organisation_then_system(
        self, db: AsyncSession
    ) -> None:
        referral_id = uuid.uuid4()
        organisation = f"org-{uuid.uuid4().hex[:8]}"
        actor = audit.ActorRef(None, organisation, ("admin",))
        by_referral = await audit.record(
            db, actor, action="t.a", track=Track.VICTIM, now=NOW, referral_id=referral_id
        )
        by_organisation = await audit.record(db, actor, action="t.b", track=Track.ADMIN, now=NOW)
        by_system = await audit.record(db, audit.SYSTEM, action="t.c", track=Track.ADMIN, now=NOW)
        assert by_referral.stream == f"referral:{referral_id}"
        assert by_organisation.stream == f"organisation:{organisation}"
        assert by_organisation.position == 1
        assert by_system.stream == "system"

    async def test_moves_the_stream_head_row_to_the_newest_event(self, db: AsyncSession) -> None:
        stream = f"test:{uuid.uuid4()}"
        for _ in range(2):
            newest = await audit.record(
                db, ACTOR, action="t.a", track=Track.ADMIN, now=NOW, stream=stream
            )
        head = await db.get(AuditStream, stream)
        assert head is not None
        assert (head.length, head.head) == (2, newest.hash)

    async def test_records_the_request_id_of_the_request(
        self, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        username = f"nobody-{uuid.uuid4().hex[:8]}"
        response = await client.post(
            "/api/v1/auth/token",
            data={"username": username, "password": "wrong-password"},
            headers={"X-Request-ID": "audit-request-42"},
        )
        assert response.status_code == 401
        event = await db.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "auth.login_failed",
                AuditEvent.request_id == "audit-request-42",
            )
        )
        assert event is not None
        assert '"request_id":"audit-request-42"' in event.canonical


class TestRollback:
    async def test_a_rolled_back_transaction_leaves_no_event_and_no_position_used(
        self, sessions: async_sessionmaker[AsyncSession], db: AsyncSession
    ) -> None:
        stream = f"test:{uuid.uuid4()}"
        async with sessions() as session:
            await audit.record(
                session, ACTOR, action="t.a", track=Track.ADMIN, now=NOW, stream=stream
            )
            await session.rollback()
        assert await _stream_events(db, stream) == []
        assert await db.get(AuditStream, stream) is None
        kept = await audit.record(
            db, ACTOR, action="t.a", track=Track.ADMIN, now=NOW, stream=stream
        )
        assert (kept.position, kept.prev_hash) == (1, None)

    async def test_a_request_that_fails_after_recording_commits_no_event(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, throwaway: str
    ) -> None:
        stream = f"test:{uuid.uuid4()}"
        router = api_router()

        @router.post("/api/v1/test-fails-after-recording")
        async def fails(session: DbSession) -> None:
            await audit.record(
                session, ACTOR, action="t.a", track=Track.ADMIN, now=NOW, stream=stream
            )
            raise Conflict("refused after the event was recorded")

        committed_app.include_router(router)
        response = await committed_client.post("/api/v1/test-fails-after-recording")
        assert response.status_code == 409
        engine = fresh_engine(throwaway)
        try:
            async with engine.connect() as connection:
                count = await connection.scalar(
                    select(func.count()).select_from(AuditEvent).where(AuditEvent.stream == stream)
                )
                head = await connection.scalar(
                    select(func.count())
                    .select_from(AuditStream)
                    .where(AuditStream.stream == stream)
                )
        finally:
            await engine.dispose()
        assert (count, head) == (0, 0)


TRICKY_CHANGES = [
    {},
    {"id": {"after": ',"id":"'}, "note": {"before": None, "after": True}},
    {"changes": {"roles": [']},"at":"', 1]}},
    {"ŵyneb": [1, -2, None, False, {"z": "\n\t\u001f"}]},
    {"\U0001f600": 1, "\ue000": 2},  # JCS orders keys by UTF-16 code units
]


class TestJsonColumnsAsCanonicalText:
    @pytest.mark.parametrize("changes", TRICKY_CHANGES)
    def test_cuts_the_exact_canonical_text_of_changes_and_roles(
        self, changes: dict[str, object]
    ) -> None:
        actor = audit.ActorRef(uuid.uuid4(), "bawso", (']},"at":"', "first_responder"))
        draft = Draft.of(
            stream="test:x",
            actor=actor,
            action="t.a",
            track=Track.ADMIN,
            now=NOW,
            referral_id=None,
            changes=changes,
            request_id=None,
        )
        params = draft.params()
        assert params["changes_json"] == canonical_json(changes)
        assert params["actor_roles_json"] == canonical_json(list(actor.roles))
        assert f'"changes":{params["changes_json"]},' in draft.canonical(1)

    async def test_stores_them_as_that_text(self, db: AsyncSession) -> None:
        changes = TRICKY_CHANGES[3]
        event = await audit.record(
            db, ACTOR, action="t.a", track=Track.ADMIN, now=NOW, stream="test:j", changes=changes
        )
        column = "changes::text" if db.get_bind().dialect.name == "postgresql" else "changes"
        stored = await db.scalar(
            text(f"SELECT {column} FROM audit_events WHERE seq = :seq"), {"seq": event.seq}
        )
        assert stored == canonical_json(changes)
        reread = await db.scalar(select(AuditEvent.changes).where(AuditEvent.seq == event.seq))
        assert reread == changes
