"""Verification checks what a chain alone cannot: that `seq` grows with the position within a
stream (pages are served in seq order), and that each stream's record in `audit_streams` is its
newest event (DESIGN §6).

Each test builds chains on a database of its own (`trail`), tampers with rows directly in SQL
as an attacker with the owner's rights could, and checks what both walks report.
"""

from __future__ import annotations

import pytest
from sqlalchemy import ColumnElement, delete, update

from app.audit import outcome
from app.audit import service as audit
from app.audit.models import AuditEvent, AuditStream, Track
from app.db import transaction
from tests.audit.tampering import ACTOR, LENGTH, NOW, Trail, swap_seqs

pytestmark = pytest.mark.committing


def _where(seq: int) -> ColumnElement[bool]:
    return AuditEvent.seq == seq


class TestSeqSwapped:
    """`seq` is given by the database at insert and is not hashed, but pages are served in seq
    order: within a stream it must grow with the position."""

    @pytest.mark.parametrize(("first", "second"), [(2, 3), (1, 5), (2, 4)])
    async def test_finds_two_events_of_a_stream_with_swapped_seqs_at_the_lower_seq(
        self, trail: Trail, first: int, second: int
    ) -> None:
        low, high = trail.seq(1, first), trail.seq(1, second)
        await trail.tamper(*swap_seqs(low, high))
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq, report.problems) == (False, low, [])
        assert report.events_checked == await trail.total()

    async def test_finds_seqs_swapped_between_streams_that_put_one_out_of_order(
        self, trail: Trail
    ) -> None:
        """Stream 0's first event takes stream 2's last seq: it now pages after its successor."""
        low, high = trail.seq(0, 1), trail.seq(2, LENGTH)
        await trail.tamper(*swap_seqs(low, high))
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, low)

    async def test_accepts_seqs_swapped_between_streams_that_keep_each_in_order(
        self, trail: Trail
    ) -> None:
        """Known limit (docs/audit.md): seq says only in which order the database numbered
        events of different streams, and no event attests that order, so exchanging the seqs
        of two neighbouring events of different streams is not detectable, and need not be."""
        low, high = trail.seq(0, 3), trail.seq(1, 3)
        assert trail.seq(1, 2) < low < high < trail.seq(0, 4)
        await trail.tamper(*swap_seqs(low, high))
        assert (await trail.verify()).valid


class TestRecordedStreams:
    """Each stream's record in `audit_streams` (its length and head, which appends build on)
    must be its newest event: that catches a tail cut off before any checkpoint covers it."""

    async def test_finds_a_streams_newest_events_cut_off_at_its_last_surviving_event(
        self, trail: Trail
    ) -> None:
        cut = [trail.seq(1, 4), trail.seq(1, 5)]
        await trail.tamper(delete(AuditEvent).where(AuditEvent.seq.in_(cut)))
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, trail.seq(1, 3))
        assert report.problems == [f"stream {trail.names[1]} cut short: 3 events, 5 recorded"]
        assert report.events_checked == await trail.total()

    async def test_finds_a_recorded_stream_whose_events_are_all_gone(self, trail: Trail) -> None:
        gone = trail.names[2]
        await trail.tamper(delete(AuditEvent).where(AuditEvent.stream == gone))
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, None)
        assert report.problems == [f"stream {gone} removed: 5 events recorded, none left"]

    async def test_finds_the_events_of_a_stream_with_no_record(self, trail: Trail) -> None:
        stream = trail.names[1]
        await trail.tamper(delete(AuditStream).where(AuditStream.stream == stream))
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, trail.seq(1, LENGTH))
        assert report.problems == [f"stream {stream} has 5 events, none recorded"]

    async def test_finds_a_record_that_is_shorter_than_its_stream(self, trail: Trail) -> None:
        stream = trail.names[0]
        await trail.tamper(
            update(AuditStream).where(AuditStream.stream == stream).values(length=LENGTH - 1)
        )
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, trail.seq(0, LENGTH))
        assert report.problems == [f"stream {stream} has 5 events, only 4 recorded"]

    async def test_finds_a_recorded_head_that_is_not_the_newest_event(self, trail: Trail) -> None:
        stream = trail.names[2]
        await trail.tamper(
            update(AuditStream).where(AuditStream.stream == stream).values(head="0" * 64)
        )
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, trail.seq(2, LENGTH))
        [problem] = report.problems
        assert problem.startswith(f"stream {stream} rewritten: event 5 has hash ")

    async def test_reports_a_broken_link_before_a_record_that_does_not_match(
        self, trail: Trail
    ) -> None:
        """A broken chain is the more precise evidence: it is reported even when a record
        names a lower seq (here the moved event's predecessor in its old stream)."""
        moved = trail.seq(0, LENGTH)
        await trail.tamper(
            update(AuditEvent)
            .where(_where(moved))
            .values(stream=trail.names[1], position=LENGTH + 1)
        )
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq) == (False, moved)
        assert report.problems == [
            f"stream {trail.names[0]} cut short: 4 events, 5 recorded",
            f"stream {trail.names[1]} has 6 events, only 5 recorded",
        ]

    async def test_names_a_few_streams_and_counts_the_rest(
        self, trail: Trail, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(outcome, "MAX_STREAM_PROBLEMS", 1)
        await trail.tamper(delete(AuditStream).where(AuditStream.stream.in_(trail.names)))
        report = await trail.verify()
        first = min(trail.names)
        newest = min(trail.seq(n, LENGTH) for n in range(3))
        assert (report.valid, report.first_invalid_seq) == (False, newest)
        assert report.problems == [
            f"stream {first} has 5 events, none recorded",
            "2 more streams do not match their recorded length and head",
        ]

    async def test_a_cut_stream_that_grows_again_breaks_at_the_new_event(
        self, trail: Trail
    ) -> None:
        """The next append builds on the record, so it leaves a gap: the new event is reported
        as an event after a deleted one would be, and the record matches again."""
        stream = trail.names[1]
        await trail.tamper(delete(AuditEvent).where(_where(trail.seq(1, LENGTH))))
        async with transaction(trail.sessions) as session:
            event = await audit.record(
                session,
                ACTOR,
                action="referral.stepped",
                track=Track.VICTIM,
                now=NOW,
                stream=stream,
            )
        report = await trail.verify()
        assert (report.valid, report.first_invalid_seq, report.problems) == (False, event.seq, [])
