"""Verification's walk on PostgreSQL: the database walks the chains itself.

One aggregate statement: a window over each stream in position order compares every event's
position, seq and `prev_hash` with the event before it, recomputes its hash with `sha256()`
from the stored canonical bytes, and rebuilds the canonical text from the columns (so that
editing a column, the `action` an auditor filters on, say, is caught too); only counts and the
lowest bad seq come back. In the same statement (so the same snapshot) each stream's record in
`audit_streams` is compared with its newest event, one index probe a stream; only when a record
disagrees are the streams listed (`outcome.check_records`). With an engine and
`workers > 1` (the CLI), the streams are split into ranges of about equal size walked on that
many connections at once, all in one exported snapshot. Read-only; SQLite's walk is
`app.audit.walk_sqlite`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.audit.models import AuditStream
from app.audit.outcome import Outcome, Recorded, check_records

# The canonical text an event's columns say, rebuilt in SQL exactly as `chain` writes it: keys in
# order, strings escaped as JSON (PostgreSQL's escaping of strings is `json`'s), the JSON
# columns as stored (`draft.STORED_AS_CANONICAL_JSON`). Equal text means every column agrees
# with the hashed content; it costs the database a few string operations a row.
_PG_COLUMNS_AS_CANONICAL = """'{"action":' || to_json(action)::text
    || ',"actor":{"id":' || coalesce(to_json(actor_id::text)::text, 'null')
    || ',"organisation":' || coalesce(to_json(actor_organisation)::text, 'null')
    || ',"roles":' || actor_roles::text
    || '},"at":"' || to_char("at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    || '","changes":' || changes::text
    || ',"id":"' || id::text
    || '","position":' || "position"::text
    || ',"referral_id":' || coalesce('"' || referral_id::text || '"', 'null')
    || ',"request_id":' || coalesce(to_json(request_id)::text, 'null')
    || ',"stream":' || to_json(stream)::text
    || ',"track":' || to_json(track)::text
    || ',"v":1}'"""
# Public for `nrm seed scale`, which builds its events' canonical text with it (app.seeding).
COLUMNS_AS_CANONICAL = _PG_COLUMNS_AS_CANONICAL
# One aggregate over every chain (or one range of streams): an event is bad when its position
# does not follow the one before it in its stream, its seq is not greater than that event's, its
# prev_hash is not that event's hash, its hash does not recompute from its stored canonical
# bytes (as `chain.event_hash` does), or its columns disagree with those bytes: the
# ChainVerifier's rules, run where the rows are. In the same snapshot it counts the streams with
# events, and compares each stream's record with its newest event, one index probe a stream:
# how many records have an event, and how many are not their newest event (or have none). A
# stream with events but no record shows as fewer recorded streams with events than streams.
_RANGE = """(CAST(%(low)s AS text) IS NULL OR {0} >= %(low)s)
        AND (CAST(%(high)s AS text) IS NULL OR {0} < %(high)s)"""
_PG_CHAINS = f"""SELECT count(*), min(seq) FILTER (WHERE bad), count(*) FILTER (WHERE first), (
    SELECT ARRAY[count(e."position"), count(*) FILTER (WHERE
        e."position" IS DISTINCT FROM s.length OR e.hash IS DISTINCT FROM s.head)]
    FROM audit_streams AS s LEFT JOIN LATERAL (SELECT "position", hash FROM audit_events AS e
        WHERE e.stream = s.stream ORDER BY "position" DESC LIMIT 1) AS e ON true
    WHERE {_RANGE.format("s.stream")}
)
FROM (
    SELECT seq, (
        prev_hash IS DISTINCT FROM lag(hash) OVER w
        OR "position" IS DISTINCT FROM coalesce(lag("position") OVER w, 0) + 1
        OR coalesce(seq <= lag(seq) OVER w, false)
        OR hash IS DISTINCT FROM encode(sha256(convert_to(
            coalesce(prev_hash, '') || E'\\n' || canonical, 'UTF8')), 'hex')
        OR canonical IS DISTINCT FROM ({_PG_COLUMNS_AS_CANONICAL})
    ) AS bad, lag("position") OVER w IS NULL AS first
    FROM audit_events
    WHERE {_RANGE.format("stream")}
    WINDOW w AS (PARTITION BY stream ORDER BY "position")
) AS walked"""  # noqa: S608 - constants only
# The newest event of each stream a checkpoint names, and the events at the lengths it signed.
_PG_HEADS = """SELECT DISTINCT ON (stream) stream, "position", hash FROM audit_events
    WHERE stream = ANY(:streams) ORDER BY stream, "position" DESC"""
_PG_HASHES_AT = """SELECT e.stream, e."position", e.hash FROM audit_events AS e
    JOIN unnest(CAST(:streams AS text[]), CAST(:positions AS bigint[])) AS w(stream, "position")
    ON e.stream = w.stream AND e."position" = w."position"
"""


async def walk(session: AsyncSession, wanted: Mapping[str, set[int]], workers: int) -> Outcome:
    bind = session.bind
    if workers > 1 and isinstance(bind, AsyncEngine):
        async with _snapshot(bind, workers) as connections:
            ranges = stream_ranges(await _stream_sizes(connections[0]), len(connections))
            parts = await asyncio.gather(
                *(
                    _walk_range(c, low, high)
                    for c, (low, high) in zip(connections, ranges, strict=False)
                )
            )
            recorded = await _recorded_postgresql(connections[0], parts)
            heads, hashes = await _checkpoint_facts(connections[0], wanted)
    else:
        connection = await session.connection()
        parts = [await _walk_range(connection, None, None)]
        recorded = await _recorded_postgresql(connection, parts)
        heads, hashes = await _checkpoint_facts(connection, wanted)
    bad = [p.first_invalid for p in parts if p.first_invalid is not None]
    checked = sum(p.checked for p in parts)
    return Outcome(checked, min(bad, default=None), recorded, heads, hashes)


@dataclass(frozen=True, slots=True)
class _Part:
    """One walk over a range of streams: events checked, the lowest bad seq, streams with
    events, recorded streams with events, and records that are not their newest event."""

    checked: int
    first_invalid: int | None
    streams: int
    recorded: int
    mismatched: int


async def _walk_range(connection: AsyncConnection, low: str | None, high: str | None) -> _Part:
    # The driver's own parameters: the canonical text's `":1` would read as a bind to text().
    result = await connection.exec_driver_sql(_PG_CHAINS, {"low": low, "high": high})
    checked, first_invalid, streams, (recorded, mismatched) = tuple(result.one())
    first = None if first_invalid is None else int(first_invalid)
    return _Part(int(checked), first, int(streams), int(recorded), int(mismatched))


async def _recorded_postgresql(connection: AsyncConnection, parts: Sequence[_Part]) -> Recorded:
    """Only when some record is not its stream's newest event, or some stream has events but
    no record, is it worth listing them (`_recorded`)."""
    if all(p.mismatched == 0 and p.recorded == p.streams for p in parts):
        return Recorded()
    return await check_records(connection)


async def _checkpoint_facts(
    connection: AsyncConnection, wanted: Mapping[str, set[int]]
) -> tuple[dict[str, tuple[int, str]], dict[tuple[str, int], str]]:
    """The current head of each stream a checkpoint names, and the hashes at its lengths."""
    if not wanted:
        return {}, {}
    streams = list(wanted)
    rows = await connection.execute(text(_PG_HEADS), {"streams": streams})
    heads = {stream: (int(position), digest) for stream, position, digest in rows}
    pairs = [(stream, position) for stream, positions in wanted.items() for position in positions]
    rows = await connection.execute(
        text(_PG_HASHES_AT),
        {"streams": [s for s, _ in pairs], "positions": [p for _, p in pairs]},
    )
    return heads, {(stream, int(position)): digest for stream, position, digest in rows}


@asynccontextmanager
async def _snapshot(engine: AsyncEngine, workers: int) -> AsyncIterator[list[AsyncConnection]]:
    """`workers` connections in REPEATABLE READ transactions that share one snapshot."""
    async with AsyncExitStack() as stack:
        connections: list[AsyncConnection] = []
        for _ in range(workers):
            connection = await stack.enter_async_context(engine.connect())
            await connection.execution_options(isolation_level="REPEATABLE READ")
            await stack.enter_async_context(connection.begin())
            connections.append(connection)
        snapshot = await connections[0].scalar(text("SELECT pg_export_snapshot()"))
        for connection in connections[1:]:
            await connection.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        yield connections


async def _stream_sizes(connection: AsyncConnection) -> list[tuple[str, int]]:
    rows = await connection.execute(
        select(AuditStream.stream, AuditStream.length).order_by(AuditStream.stream)
    )
    return [(stream, int(length)) for stream, length in rows]


def stream_ranges(
    sizes: Sequence[tuple[str, int]], parts: int
) -> list[tuple[str | None, str | None]]:
    """Up to `parts` ranges of streams [low, high) with about equal numbers of events; the
    first is open below and the last above, so every stream falls in exactly one."""
    total = sum(length for _, length in sizes)
    bounds: list[str] = []
    running = 0
    for stream, length in sizes:
        if len(bounds) + 1 < parts and running >= total * (len(bounds) + 1) / parts:
            bounds.append(stream)
        running += length
    edges: list[str | None] = [None, *bounds, None]
    return list(itertools.pairwise(edges))
