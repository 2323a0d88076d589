"""Verification finds every kind of tampering, with the right seq (DESIGN §6).

Each test builds chains on a database of its own, drops the append-only triggers (as an
attacker with the owner's rights could) and tampers with rows directly in SQL. The reported
`first_invalid_seq` is the lowest seq of an event that does not match.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import ColumnElement, delete, func, insert, select, update

from app.audit import chain
from app.audit.models import AuditEvent, Track
from app.audit.verify import VerifyReport
from app.audit.walk_postgresql import stream_ranges
from app.identity.roles import Role
from tests.audit.tampering import ACTOR, LENGTH, NOW, Trail, as_stored, event_row
from tests.factories import make_user

pytestmark = pytest.mark.committing


def _where(seq: int) -> ColumnElement[bool]:
    return AuditEvent.seq == seq


class TestIntact:
    async def test_reports_an_untouched_trail_valid_with_every_event_checked(
        self, trail: Trail
    ) -> None:
        report = await trail.verify()
        assert report == VerifyReport(
            valid=True, events_checked=await trail.total(), first_invalid_seq=None
        )


class TestModified:
    async def test_finds_an_edited_canonical_content_at_its_seq(self, trail: Trail) -> None:
        seq = trail.seq(1, 3)
        edited = func.replace(AuditEvent.canonical, '"after":3', '"after":4')
        await trail.tamper(update(AuditEvent).where(_where(seq)).values(canonical=edited))
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, seq)

    async def test_finds_each_column_that_disagrees_with_the_hashed_content(
        self, trail: Trail
    ) -> None:
        edits: list[tuple[str, object]] = [
            ("action", "referral.forged"),
            ("track", "admin"),
            ("actor_organisation", "another-org"),
            ("actor_id", uuid.uuid4()),
            ("actor_roles", ["auditor"]),
            ("changes", {"step": {"before": 2, "after": 99}}),
            ("changes", {"step": {"before": 2, "after": True}}),
            ("at", NOW + timedelta(days=1)),
            ("request_id", "forged-request"),
            ("referral_id", uuid.uuid4()),
            ("id", uuid.uuid4()),
        ]
        seq = trail.seq(0, 3)
        async with trail.sessions() as session:
            original = await session.scalar(select(AuditEvent).where(_where(seq)))
        assert original is not None
        for column, value in edits:
            await trail.tamper(update(AuditEvent).where(_where(seq)).values({column: value}))
            report = await trail.verify()
            assert (report.valid, report.first_invalid_seq) == (False, seq), column
            restore = as_stored(trail.engine, {column: getattr(original, column)})
            await trail.tamper(update(AuditEvent).where(_where(seq)).values(restore))
            assert (await trail.verify()).valid, column

    async def test_finds_an_edited_hash_at_its_seq(self, trail: Trail) -> None:
        seq = trail.seq(2, 2)
        await trail.tamper(update(AuditEvent).where(_where(seq)).values(hash="0" * 64))
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, seq)

    async def test_finds_a_consistent_rehashed_edit_at_the_next_event_of_its_stream(
        self, trail: Trail
    ) -> None:
        """Content, columns and hash all forged alike: the next event's link still breaks."""
        seq = trail.seq(1, 2)
        async with trail.sessions() as session:
            event = await session.scalar(select(AuditEvent).where(_where(seq)))
        assert event is not None
        forged = event.canonical.replace('"after":2', '"after":7')
        digest = chain.event_hash(event.prev_hash, forged.encode())
        await trail.tamper(
            update(AuditEvent)
            .where(_where(seq))
            .values(
                as_stored(
                    trail.engine,
                    {
                        "canonical": forged,
                        "hash": digest,
                        "changes": {"step": {"before": 1, "after": 7}},
                    },
                )
            )
        )
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, trail.seq(1, 3))


class TestDeleted:
    async def test_finds_a_deleted_event_at_the_event_that_follows_it(self, trail: Trail) -> None:
        await trail.tamper(delete(AuditEvent).where(_where(trail.seq(0, 2))))
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, trail.seq(0, 3))
        assert report.events_checked == await trail.total()

    async def test_finds_the_deleted_first_event_of_a_stream(self, trail: Trail) -> None:
        await trail.tamper(delete(AuditEvent).where(_where(trail.seq(2, 1))))
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, trail.seq(2, 2))


class TestInserted:
    async def test_finds_a_forged_event_slipped_into_the_middle_of_a_stream(
        self, trail: Trail
    ) -> None:
        """A well-formed event at position 3 moves the rest along; their links break."""
        stream = trail.names[1]
        async with trail.sessions() as session:
            before = await session.scalar(
                select(AuditEvent.hash).where(AuditEvent.seq == trail.seq(1, 2))
            )
        forged = event_row(
            stream=stream,
            position=3,
            prev_hash=before,
            actor=ACTOR,
            action="referral.forged",
            track=Track.VICTIM,
            now=NOW,
            referral_id=None,
            changes={},
            request_id=None,
        )
        moves = [
            update(AuditEvent).where(_where(trail.seq(1, p))).values(position=p + 1)
            for p in range(LENGTH, 2, -1)
        ]
        await trail.tamper(*moves, insert(AuditEvent).values(as_stored(trail.engine, forged)))
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, trail.seq(1, 3))

    async def test_finds_a_copied_event_appended_to_another_stream(self, trail: Trail) -> None:
        async with trail.sessions() as session:
            event = await session.scalar(select(AuditEvent).where(_where(trail.seq(0, 2))))
        assert event is not None
        copy = {
            c.key: getattr(event, c.key) for c in AuditEvent.__table__.columns if c.key != "seq"
        }
        copy.update(id=uuid.uuid4(), stream=trail.names[2], position=LENGTH + 1)
        await trail.tamper(insert(AuditEvent).values(as_stored(trail.engine, copy)))
        report = await trail.verify()
        assert report.valid is False
        assert report.first_invalid_seq == max(max(s) for s in trail.streams.values()) + 1


class TestReordered:
    async def test_finds_two_events_swapped_within_a_stream_at_the_earlier(
        self, trail: Trail
    ) -> None:
        earlier, later = trail.seq(2, 3), trail.seq(2, 4)
        await trail.tamper(
            update(AuditEvent).where(_where(earlier)).values(position=1000),
            update(AuditEvent).where(_where(later)).values(position=3),
            update(AuditEvent).where(_where(earlier)).values(position=4),
        )
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, earlier)

    async def test_finds_an_event_moved_to_the_end_of_another_stream(self, trail: Trail) -> None:
        moved = trail.seq(0, LENGTH)
        await trail.tamper(
            update(AuditEvent)
            .where(_where(moved))
            .values(stream=trail.names[1], position=LENGTH + 1)
        )
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, moved)


class TestVerifyEndpointOnATamperedTrail:
    async def test_reports_the_broken_chain_to_an_auditor(
        self, trail: Trail, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        async with committed_app.state.sessionmaker() as session:
            auditor = await make_user(committed_app, session, Role.AUDITOR)
        seq = trail.seq(0, 4)
        await trail.tamper(update(AuditEvent).where(_where(seq)).values(action="x.forged"))
        response = await committed_client.get("/api/v1/audit/verify", headers=auditor.headers)
        assert response.status_code == 200
        body = response.json()
        assert (body["valid"], body["first_invalid_seq"]) == (False, seq)
        assert body["events_checked"] == await trail.total()

    async def test_reports_a_cut_tail_to_an_auditor(
        self, trail: Trail, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        async with committed_app.state.sessionmaker() as session:
            auditor = await make_user(committed_app, session, Role.AUDITOR)
        await trail.tamper(delete(AuditEvent).where(_where(trail.seq(2, LENGTH))))
        response = await committed_client.get("/api/v1/audit/verify", headers=auditor.headers)
        assert response.status_code == 200
        body = response.json()
        assert (body["valid"], body["first_invalid_seq"]) == (False, trail.seq(2, LENGTH - 1))
        assert body["problems"] == [f"stream {trail.names[2]} cut short: 4 events, 5 recorded"]


class TestRanges:
    """How the streams are split between parallel walks (`walk_postgresql.stream_ranges`)."""

    def test_every_stream_falls_in_exactly_one_range_of_about_equal_size(self) -> None:
        sizes = [(f"s{n:03d}", 1 + n % 7) for n in range(300)]
        ranges = stream_ranges(sizes, 4)
        assert len(ranges) == 4
        assert ranges[0][0] is None
        assert ranges[-1][1] is None
        counts = [0] * len(ranges)
        for stream, length in sizes:
            inside = [
                i
                for i, (low, high) in enumerate(ranges)
                if (low is None or stream >= low) and (high is None or stream < high)
            ]
            assert len(inside) == 1, stream
            counts[inside[0]] += length
        assert max(counts) - min(counts) <= 2 * 7  # within two streams of each other

    def test_fewer_streams_than_walks_give_fewer_ranges(self) -> None:
        assert stream_ranges([("only", 10)], 3) == [(None, None)]
        assert stream_ranges([], 3) == [(None, None)]
