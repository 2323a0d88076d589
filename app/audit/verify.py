"""Verification of the stored audit trail: walk every chain, check columns, check checkpoints.

Read-only. Events are streamed in (stream, position) order (COPY on PostgreSQL, a server-side
cursor on SQLite), so memory stays constant in the number of events (it grows only with the
number of streams), and fed to `chain.ChainVerifier`. Each row's columns must also agree with
the canonical content its hash covers, so that editing a column (the `action` an auditor
filters on, say) is caught too: on PostgreSQL the database rebuilds the canonical text from
the columns and compares it while rows stream to Python; on SQLite `chain.content_matches`
compares the values. Checkpoints, when given, must be signed and still covered by the chains
(`chain.checkpoint_covered`): that catches what a chain cannot show, a stream cut short or
removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import chain
from app.audit.models import AuditEvent

BATCH = 5000

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
# COPY streams rows while the server still produces them, so the database's work (the index
# walk, the comparison above) runs beside the Python walk instead of between its fetches.
_PG_WALK = f"""COPY (
    SELECT seq, stream, "position", convert_to(canonical, 'UTF8'), prev_hash, hash,
        canonical IS NOT DISTINCT FROM ({_PG_COLUMNS_AS_CANONICAL})
    FROM audit_events ORDER BY stream, "position"
) TO STDOUT (FORMAT BINARY)"""  # noqa: S608 - constants only
_PG_WALK_TYPES = ["int8", "text", "int8", "bytea", "text", "text", "bool"]
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
    columns disagree with its content; `problems` lists checkpoints that are badly signed or
    no longer covered (a stream cut short or removed), which no single event shows.
    """

    valid: bool
    events_checked: int
    first_invalid_seq: int | None
    checkpoint_seq: int | None = None
    problems: list[str] = field(default_factory=list)


class _Walk:
    """One pass over the events: the chains, the columns, and the hashes checkpoints need."""

    __slots__ = ("_accept", "_hashes", "_wanted", "first_invalid", "verifier")

    def __init__(self, wanted: Mapping[str, set[int]]) -> None:
        self.verifier = chain.ChainVerifier()
        self._accept = self.verifier.feed  # bound once: this runs for every event
        self.first_invalid: int | None = None
        self._wanted = wanted
        self._hashes: dict[tuple[str, int], str] = {}

    def feed(self, event: chain.StoredEvent, content_ok: bool) -> None:
        if not self._accept(event) or not content_ok:
            self._refuse(event.seq)
        if self._wanted:
            positions = self._wanted.get(event.stream)
            if positions is not None and event.position in positions:
                self._hashes[(event.stream, event.position)] = event.hash

    def _refuse(self, seq: int) -> None:
        if self.first_invalid is None or seq < self.first_invalid:
            self.first_invalid = seq

    def hash_at(self, stream: str, position: int) -> str | None:
        return self._hashes.get((stream, position))


async def verify_trail(
    session: AsyncSession,
    *,
    checkpoints: Sequence[Mapping[str, Any]] = (),
    public_key: str | None = None,
) -> VerifyReport:
    """Walk every chain and check each checkpoint against it.

    With `public_key` (base64), each checkpoint must be signed by that key; otherwise by the
    key it embeds (which proves its integrity, not who made it).
    """
    problems: list[str] = []
    signed = []
    for checkpoint in checkpoints:
        if chain.verify_checkpoint_signature(checkpoint, expected_public_key=public_key):
            signed.append(checkpoint)
        else:
            problems.append(f"checkpoint at seq {checkpoint.get('seq')} is not validly signed")
    walk = _Walk(_wanted_positions(signed))
    await _walk_events(session, walk)
    heads = walk.verifier.heads()
    for checkpoint in signed:
        problems.extend(chain.checkpoint_covered(checkpoint, heads, walk.hash_at))
    result = walk.verifier.result()
    return VerifyReport(
        valid=walk.first_invalid is None and not problems,
        events_checked=result.events_checked,
        first_invalid_seq=walk.first_invalid,
        checkpoint_seq=max((int(c["seq"]) for c in signed), default=None),
        problems=problems,
    )


def _wanted_positions(checkpoints: Sequence[Mapping[str, Any]]) -> dict[str, set[int]]:
    wanted: dict[str, set[int]] = {}
    for checkpoint in checkpoints:
        for entry in checkpoint["streams"]:
            wanted.setdefault(entry["stream"], set()).add(int(entry["length"]))
    return wanted


async def _walk_events(session: AsyncSession, walk: _Walk) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await _walk_postgresql(session, walk)
    else:
        await _walk_sqlite(session, walk)


async def _walk_postgresql(session: AsyncSession, walk: _Walk) -> None:
    """The walk over the session's own connection and transaction, through psycopg's COPY."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None:
        raise RuntimeError("the session has no database connection")
    stored = chain.StoredEvent
    async with driver.cursor() as cursor, cursor.copy(_PG_WALK) as copy:
        copy.set_types(_PG_WALK_TYPES)
        async for seq, stream, position, canonical, prev_hash, digest, ok in copy.rows():
            walk.feed(stored(seq, stream, position, canonical, prev_hash, digest), bool(ok))


async def _walk_sqlite(session: AsyncSession, walk: _Walk) -> None:
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
