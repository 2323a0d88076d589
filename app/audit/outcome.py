"""What a walk over the audit trail found, whichever backend walked it, and the check of each
stream's record (`audit_streams`) against its newest event.

Shared by `app.audit.walk_postgresql` and `app.audit.walk_sqlite`; read by `app.audit.verify`.
Read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from app.audit import proofs, queries

# Streams whose record does not match their events are named up to this many, then counted.
MAX_STREAM_PROBLEMS = 10


@dataclass(frozen=True, slots=True)
class Recorded:
    """Streams whose record (`audit_streams`) is not their newest event: the lowest seq of
    such an event, up to MAX_STREAM_PROBLEMS problems by stream, and how many more."""

    first_seq: int | None = None
    problems: Mapping[str, str] = field(default_factory=dict)
    more: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a walk found: events checked, the lowest bad seq, the streams whose record is not
    their events, and what checkpoints need."""

    checked: int
    first_invalid: int | None
    recorded: Recorded
    heads: Mapping[str, tuple[int, str]]
    hashes: Mapping[tuple[str, int], str]

    def hash_at(self, stream: str, position: int) -> str | None:
        return self.hashes.get((stream, position))


async def check_records(connection: AsyncConnection) -> Recorded:
    """Each stream's record against its newest event (`proofs.head_row_problem`), streamed:
    nothing grows with the streams but the first MAX_STREAM_PROBLEMS problems."""
    first_seq: int | None = None
    problems: dict[str, str] = {}
    more = 0
    result = await connection.stream(queries.stream_records())
    async for stream, length, head, position, digest, seq in result:
        recorded = None if length is None else (int(length), head)
        newest = None if position is None else (int(position), digest)
        problem = proofs.head_row_problem(stream, recorded, newest)
        if problem is None:
            continue
        if seq is not None and (first_seq is None or seq < first_seq):
            first_seq = int(seq)
        if len(problems) < MAX_STREAM_PROBLEMS:
            problems[stream] = problem
        else:
            more += 1
    return Recorded(first_seq, problems, more)
