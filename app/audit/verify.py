"""Verification of the stored audit trail: walk every chain, check columns, check each
stream's record, check checkpoints.

Read-only, in constant memory. On PostgreSQL the database walks the chains itself, in one
aggregate statement: a window over each stream in position order compares every event's
position, seq and `prev_hash` with the event before it, recomputes its hash with `sha256()`
from the stored canonical bytes, and rebuilds the canonical text from the columns (so that
editing a column, the `action` an auditor filters on, say, is caught too); only counts and the
lowest bad seq come back. In the same statement (so the same snapshot) each stream's record in
`audit_streams` is compared with its newest event, one index probe a stream; only when a record
disagrees are the streams listed (`queries.stream_records`, `chain.head_row_problem`). With an
engine and `workers > 1` (the CLI), the streams are split into ranges of about equal size
walked on that many connections at once, all in one exported snapshot. On SQLite the events
stream to Python in (stream, position) order through `chain.ChainVerifier`,
`chain.content_matches` compares the columns, and every record is compared after the walk.
Checkpoints, when given, must be signed and still covered by the chains
(`chain.checkpoint_covered`): that catches a stream cut short or removed even when its record
was edited to match.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.audit import chain, queries
from app.audit.models import AuditEvent, AuditStream

BATCH = 5000
# Streams whose record does not match their events are named up to this many, then counted.
MAX_STREAM_PROBLEMS = 10

# The canonical text an event's columns say, rebuilt in SQL exactly as `chain` writes it: keys in
# order, strings escaped as JSON (PostgreSQL's escaping of strings is `json`'s), the JSON
# columns as stored (`service.STORED_AS_CANONICAL_JSON`). Equal text means every column agrees
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
_CHAIN_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.stream,
    AuditEvent.position,
    AuditEvent.canonical,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)
_CONTENT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor_id,
    AuditEvent.actor_organisation,
    AuditEvent.actor_roles,
    AuditEvent.action,
    AuditEvent.track,
    AuditEvent.referral_id,
    AuditEvent.changes,
    AuditEvent.request_id,
)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What `GET /audit/verify` and `nrm audit verify` report.

    `first_invalid_seq` is the lowest seq of an event that does not match its chain or whose
    columns disagree with its content; when every chain holds, the lowest seq of a stream's
    newest event that is not what the stream's record says (its tail was cut, say), else None.
    `problems` says in words what no single event shows: checkpoints badly signed or no longer
    covered, and streams whose recorded length and head do not match their events (one line a
    stream, a checkpoint's first; up to `MAX_STREAM_PROBLEMS` of the latter).
    """

    valid: bool
    events_checked: int
    first_invalid_seq: int | None
    checkpoint_seq: int | None = None
    problems: list[str] = field(default_factory=list)


class _Walk:
    """SQLite's pass over the events: the chains, the columns, and the hashes checkpoints
    need."""

    __slots__ = ("_accept", "_wanted", "first_invalid", "hashes", "verifier")

    def __init__(self, wanted: Mapping[str, set[int]]) -> None:
        self.verifier = chain.ChainVerifier()
        self._accept = self.verifier.feed  # bound once: this runs for every event
        self.first_invalid: int | None = None
        self._wanted = wanted
        self.hashes: dict[tuple[str, int], str] = {}

    def feed(self, event: chain.StoredEvent, content_ok: bool) -> None:
        if not self._accept(event) or not content_ok:
            self._refuse(event.seq)
        if self._wanted:
            positions = self._wanted.get(event.stream)
            if positions is not None and event.position in positions:
                self.hashes[(event.stream, event.position)] = event.hash

    def _refuse(self, seq: int) -> None:
        if self.first_invalid is None or seq < self.first_invalid:
            self.first_invalid = seq


async def verify_trail(
    session: AsyncSession,
    *,
    checkpoints: Sequence[Mapping[str, Any]] = (),
    public_key: str | None = None,
    workers: int = 1,
) -> VerifyReport:
    """Walk every chain and check each checkpoint against it.

    With `public_key` (base64), each checkpoint must be signed by that key; otherwise by the
    key it embeds (which proves its integrity, not who made it). On PostgreSQL, with
    `workers > 1` and a session bound to an engine, the walk runs on that many connections of
    the engine in one snapshot; otherwise in the session's own transaction.
    """
    problems: list[str] = []
    signed = []
    for checkpoint in checkpoints:
        if chain.verify_checkpoint_signature(checkpoint, expected_public_key=public_key):
            signed.append(checkpoint)
        else:
            problems.append(f"checkpoint at seq {checkpoint.get('seq')} is not validly signed")
    wanted = _wanted_positions(signed)
    if session.get_bind().dialect.name == "postgresql":
        outcome = await _walk_postgresql(session, wanted, workers)
    else:
        outcome = await _walk_sqlite(session, wanted)
    problems.extend(_stream_problems(signed, outcome))
    first_invalid = outcome.first_invalid
    recorded = outcome.recorded
    return VerifyReport(
        valid=first_invalid is None and recorded.first_seq is None and not problems,
        events_checked=outcome.checked,
        # A broken link is the more precise evidence; a record only says where a stream ends.
        first_invalid_seq=recorded.first_seq if first_invalid is None else first_invalid,
        checkpoint_seq=max((int(c["seq"]) for c in signed), default=None),
        problems=problems,
    )


def _stream_problems(signed: Sequence[Mapping[str, Any]], outcome: _Outcome) -> list[str]:
    """The checkpoints' problems, then the records', one line a stream: a checkpoint's first."""
    problems: list[str] = []
    named: set[str] = set()
    for checkpoint in signed:
        found = chain.checkpoint_covered(checkpoint, outcome.heads, outcome.hash_at)
        problems.extend(found.values())
        named.update(found)
    recorded = outcome.recorded
    problems.extend(p for stream, p in recorded.problems.items() if stream not in named)
    if recorded.more:
        problems.append(f"{recorded.more} more streams do not match their recorded length and head")
    return problems


@dataclass(frozen=True, slots=True)
class _Recorded:
    """Streams whose record (`audit_streams`) is not their newest event: the lowest seq of
    such an event, up to MAX_STREAM_PROBLEMS problems by stream, and how many more."""

    first_seq: int | None = None
    problems: Mapping[str, str] = field(default_factory=dict)
    more: int = 0


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a walk found: events checked, the lowest bad seq, the streams whose record is not
    their events, and what checkpoints need."""

    checked: int
    first_invalid: int | None
    recorded: _Recorded
    heads: Mapping[str, tuple[int, str]]
    hashes: Mapping[tuple[str, int], str]

    def hash_at(self, stream: str, position: int) -> str | None:
        return self.hashes.get((stream, position))


def _wanted_positions(checkpoints: Sequence[Mapping[str, Any]]) -> dict[str, set[int]]:
    wanted: dict[str, set[int]] = {}
    for checkpoint in checkpoints:
        for entry in checkpoint["streams"]:
            wanted.setdefault(entry["stream"], set()).add(int(entry["length"]))
    return wanted


async def _walk_postgresql(
    session: AsyncSession, wanted: Mapping[str, set[int]], workers: int
) -> _Outcome:
    bind = session.bind
    if workers > 1 and isinstance(bind, AsyncEngine):
        async with _snapshot(bind, workers) as connections:
            ranges = _ranges(await _stream_sizes(connections[0]), len(connections))
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
    return _Outcome(checked, min(bad, default=None), recorded, heads, hashes)


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


async def _recorded_postgresql(connection: AsyncConnection, parts: Sequence[_Part]) -> _Recorded:
    """Only when some record is not its stream's newest event, or some stream has events but
    no record, is it worth listing them (`_recorded`)."""
    if all(p.mismatched == 0 and p.recorded == p.streams for p in parts):
        return _Recorded()
    return await _recorded(connection)


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


def _ranges(sizes: Sequence[tuple[str, int]], parts: int) -> list[tuple[str | None, str | None]]:
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


async def _walk_sqlite(session: AsyncSession, wanted: Mapping[str, set[int]]) -> _Outcome:
    walk = _Walk(wanted)
    query = (
        select(*_CHAIN_COLUMNS, *_CONTENT_COLUMNS)
        .order_by(AuditEvent.stream, AuditEvent.position)
        .execution_options(yield_per=BATCH)
    )
    result = await session.stream(query)
    stored = chain.StoredEvent
    async for rows in result.partitions():
        for row in rows:
            event = stored(row[0], row[1], row[2], row[3].encode(), row[4], row[5])
            walk.feed(event, _content_matches(row))
    checked = walk.verifier.result().events_checked
    recorded = await _recorded(await session.connection())
    heads = walk.verifier.heads()
    return _Outcome(checked, walk.first_invalid, recorded, heads, walk.hashes)


async def _recorded(connection: AsyncConnection) -> _Recorded:
    """Each stream's record against its newest event (`chain.head_row_problem`), streamed:
    nothing grows with the streams but the first MAX_STREAM_PROBLEMS problems."""
    first_seq: int | None = None
    problems: dict[str, str] = {}
    more = 0
    result = await connection.stream(queries.stream_records())
    async for stream, length, head, position, digest, seq in result:
        recorded = None if length is None else (int(length), head)
        newest = None if position is None else (int(position), digest)
        problem = chain.head_row_problem(stream, recorded, newest)
        if problem is None:
            continue
        if seq is not None and (first_seq is None or seq < first_seq):
            first_seq = int(seq)
        if len(problems) < MAX_STREAM_PROBLEMS:
            problems[stream] = problem
        else:
            more += 1
    return _Recorded(first_seq, problems, more)


def _content_matches(row: Row[Any]) -> bool:
    """Whether the row's columns say what its canonical content says (SQLite's check)."""
    try:
        expected = chain.event_content(
            stream=row.stream,
            position=row.position,
            event_id=str(row.id),
            at=chain.format_at(row.at),
            actor={
                "id": str(row.actor_id) if row.actor_id else None,
                "organisation": row.actor_organisation,
                "roles": row.actor_roles,
            },
            action=row.action,
            track=row.track,
            referral_id=str(row.referral_id) if row.referral_id else None,
            changes=row.changes,
            request_id=row.request_id,
        )
    except (TypeError, ValueError):
        return False  # columns that no event could have been written with
    return chain.content_matches(row.canonical.encode(), expected)
