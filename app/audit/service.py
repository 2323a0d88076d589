"""Writing audit events: `record()` is the one way to append one.

It never commits: the event rides in the caller's transaction, so a committed change always
has its event and a rolled-back one never does (STYLE.md). Each event is appended to its
stream under that stream's own head row, never a lock shared by unrelated streams (DESIGN §6).

An append claims the stream's next position by upserting its head row in `audit_streams`
(`length = length + 1`), which locks that row until the caller's transaction ends: writers to
one stream queue there and nowhere else. On PostgreSQL the same statement computes the new
head hash in SQL and inserts the event (one round trip; Python recomputes the hash with `chain`
and refuses a mismatch); on SQLite, whose writers are serialised anyway, three statements do it.
Every transaction that inserts an event has therefore written `audit_streams` first (in the
same statement at the latest), which lets a reader wait for in-flight appends by taking a SHARE
lock on that table (`app.audit.queries.horizon`). Nothing else may insert events.
"""

from __future__ import annotations

import typing
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Insert,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    null,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import chain
from app.audit.models import AuditEvent, AuditStream, Track
from app.http import current_request_id


@dataclass(frozen=True, slots=True)
class ActorRef:
    """Who did it, as the audit trail records it (ids and codes, never names)."""

    user_id: uuid.UUID | None
    organisation: str | None
    roles: tuple[str, ...] = field(default=())


SYSTEM = ActorRef(user_id=None, organisation=None, roles=("system",))


def referral_stream(referral_id: uuid.UUID) -> str:
    """A referral's events form one stream (DESIGN §6)."""
    return f"referral:{referral_id}"


def organisation_stream(code: str | None) -> str:
    """Events with no referral chain per organisation (or `system`)."""
    return f"organisation:{code}" if code else "system"


async def record(
    session: AsyncSession,
    actor: ActorRef,
    *,
    action: str,
    track: Track,
    now: datetime,
    referral_id: uuid.UUID | None = None,
    changes: Mapping[str, Any] | None = None,
    stream: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction; never commits.

    The caller's pending changes are flushed first, so a change that fails (a stale version,
    a constraint) fails before the stream's head row is locked. Returns the stored event (not
    attached to the session) with its `seq`.
    """
    if stream is None:
        stream = (
            referral_stream(referral_id) if referral_id else organisation_stream(actor.organisation)
        )
    await session.flush()
    draft = Draft.of(
        stream=stream,
        actor=actor,
        action=action,
        track=track,
        now=now,
        referral_id=referral_id,
        changes=dict(changes or {}),
        request_id=current_request_id(),
    )
    if session.get_bind().dialect.name == "postgresql":
        return await _append_postgresql(session, draft)
    return await _append_sqlite(session, draft)


@dataclass(frozen=True, slots=True)
class Draft:
    """An event before its place in the stream is known.

    `columns` holds every column but `position`, `prev_hash`, `hash` and `canonical`; the
    canonical text is `before` + the position's digits + `after` (its keys are sorted, so the
    top-level position is the last `,"position":` in it: see `chain.ChainVerifier`).
    """

    columns: dict[str, Any]
    before: str
    after: str
    json_texts: dict[str, str]

    @classmethod
    def of(
        cls,
        *,
        stream: str,
        actor: ActorRef,
        action: str,
        track: Track,
        now: datetime,
        referral_id: uuid.UUID | None,
        changes: dict[str, Any],
        request_id: str | None,
    ) -> Draft:
        event_id = uuid.uuid4()
        content = chain.event_content(
            stream=stream,
            position=1,
            event_id=str(event_id),
            at=chain.format_at(now),
            actor=_actor_content(actor),
            action=action,
            track=track.value,
            referral_id=str(referral_id) if referral_id else None,
            changes=changes,
            request_id=request_id,
        )
        text = chain.canonical_bytes(content).decode("utf-8")
        cut = text.rindex(_POSITION_KEY) + len(_POSITION_KEY)
        columns = {
            "id": event_id,
            "at": now,
            "actor_id": actor.user_id,
            "actor_organisation": actor.organisation,
            "actor_roles": list(actor.roles),
            "action": action,
            "track": track.value,
            "referral_id": referral_id,
            "stream": stream,
            "changes": changes,
            "request_id": request_id,
        }
        return cls(columns, text[:cut], text[cut + 1 :], _json_texts(text))

    def canonical(self, position: int) -> str:
        return f"{self.before}{position}{self.after}"

    def params(self) -> dict[str, Any]:
        """Bind values of the columns, JSON columns as their canonical text (`_json_value`)."""
        params = {k: v for k, v in self.columns.items() if k not in STORED_AS_CANONICAL_JSON}
        params.update(self.json_texts)
        return params

    def row(self, position: int, prev_hash: str | None) -> dict[str, Any]:
        """Every column of the event at `position` after `prev_hash`, hashed."""
        canonical = self.canonical(position)
        digest = chain.event_hash(prev_hash, canonical.encode("utf-8"))
        return {
            **self.columns,
            "position": position,
            "prev_hash": prev_hash,
            "hash": digest,
            "canonical": canonical,
        }


_POSITION_KEY = ',"position":'
# JSON columns are stored as the exact canonical text of their value, so that verification can
# compare a row's columns with its hashed content as text (`app.audit.verify`).
STORED_AS_CANONICAL_JSON = ("actor_roles", "changes")


def canonical_json(value: Any) -> str:
    """The canonical JSON text of one value, as it appears inside an event's canonical form."""
    return chain.canonical_bytes({"": value}).decode("utf-8")[4:-1]


def _json_texts(text: str) -> dict[str, str]:
    """The canonical text of `actor_roles` and `changes`, cut out of the event's canonical text.

    Cheaper than serialising them again, and sound because inside JSON strings every `"` is
    escaped: the first `,"roles":` is the actor's (only `action`, a string, precedes `actor`) and
    its list ends at the first `]},"at":"`; the first `,"changes":` is the top-level key (only
    `action`, `actor` and `at` precede it); the top-level `,"id":"` that ends `changes` is the
    last one (only scalars follow it). `canonical_json` says the same (a test compares them).
    """
    roles = text.index(',"roles":') + len(',"roles":')
    changes = text.index(',"changes":') + len(',"changes":')
    return {
        "actor_roles_json": text[roles : text.index(']},"at":"', roles) + 1],
        "changes_json": text[changes : text.rindex(',"id":"')],
    }


def _json_value(name: str, dialect: str) -> ColumnElement[Any]:
    """A JSON column's value bound as text, stored verbatim (PostgreSQL's json keeps its text)."""
    text = bindparam(f"{name}_json", type_=Text)
    return cast(text, JSON) if dialect == "postgresql" else text


def _column_values(dialect: str) -> list[ColumnElement[Any]]:
    return [
        _json_value(name, dialect)
        if name in STORED_AS_CANONICAL_JSON
        else bindparam(name, type_=_EVENTS.c[name].type)
        for name in _DRAFT_COLUMNS
    ]


def event_row(
    *,
    stream: str,
    position: int,
    prev_hash: str | None,
    actor: ActorRef,
    action: str,
    track: Track,
    now: datetime,
    referral_id: uuid.UUID | None,
    changes: dict[str, Any],
    request_id: str | None,
) -> dict[str, Any]:
    """The column values of an event at `position` after `prev_hash`, hashed and canonical."""
    draft = Draft.of(
        stream=stream,
        actor=actor,
        action=action,
        track=track,
        now=now,
        referral_id=referral_id,
        changes=changes,
        request_id=request_id,
    )
    return draft.row(position, prev_hash)


def _actor_content(actor: ActorRef) -> dict[str, Any]:
    return {
        "id": str(actor.user_id) if actor.user_id else None,
        "organisation": actor.organisation,
        "roles": list(actor.roles),
    }


_EVENTS = typing.cast(Table, AuditEvent.__table__)
_STREAMS = typing.cast(Table, AuditStream.__table__)
_DRAFT_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_organisation",
    "actor_roles",
    "action",
    "track",
    "referral_id",
    "stream",
    "changes",
    "request_id",
)


def _sql_event_hash(prev_hash: ColumnElement[Any] | None, position: Any) -> ColumnElement[Any]:
    """`chain.event_hash` in SQL: hex SHA-256 of prev hash, a newline, the canonical bytes.

    Constants are SQL literals rather than bound parameters: fewer values to bind per append.
    """
    canonical = bindparam("before", type_=Text) + cast(position, Text) + bindparam("after", Text)
    prefix = _sql("''") if prev_hash is None else func.coalesce(prev_hash, _sql("''"))
    payload = prefix + _sql("E'\\n'") + canonical
    return func.encode(func.sha256(func.convert_to(payload, _sql("'UTF8'"))), _sql("'hex'"))


def _sql(constant: str) -> ColumnElement[Any]:
    return literal_column(constant, Text)


def _postgresql_append() -> Insert:
    """The one-statement append, built once: the head row's upsert feeds the event's INSERT."""
    streams = _STREAMS.c
    claimed = (
        pg_insert(_STREAMS)
        .values(
            stream=bindparam("stream"),
            length=literal_column("1"),
            prev_head=null(),
            head=_sql_event_hash(None, literal_column("1")),
        )
        .on_conflict_do_update(
            index_elements=[streams.stream],
            set_={
                "length": streams.length + literal_column("1"),
                "prev_head": streams.head,
                "head": _sql_event_hash(streams.head, streams.length + literal_column("1")),
            },
        )
        .returning(streams.length, streams.prev_head, streams.head)
        .cte("claimed")
    )
    values = _column_values("postgresql")
    canonical = (
        bindparam("before", type_=Text)
        + cast(claimed.c.length, Text)
        + bindparam("after", type_=Text)
    )
    events = _EVENTS.c
    return (
        insert(_EVENTS)
        .from_select(
            [*_DRAFT_COLUMNS, "position", "prev_hash", "hash", "canonical"],
            select(*values, claimed.c.length, claimed.c.prev_head, claimed.c.head, canonical),
        )
        .returning(events.seq, events.position, events.prev_hash, events.hash)
    )


_APPEND_POSTGRESQL = _postgresql_append()


async def _append_postgresql(session: AsyncSession, draft: Draft) -> AuditEvent:
    """One statement: lengthen and re-hash the stream's head row, insert the event after it.

    The upsert locks the head row until the transaction ends and reads its newest committed
    version even when that committed after this statement began (INSERT … ON CONFLICT DO
    UPDATE), so writers to one stream queue there and each links to the one before. One round
    trip instead of two keeps chaining nearly free (docs/audit.md, benchmarks).
    """
    params = {**draft.params(), "before": draft.before, "after": draft.after}
    stored = (await session.execute(_APPEND_POSTGRESQL, params)).one()
    row = draft.row(int(stored.position), stored.prev_hash)
    if row["hash"] != stored.hash:  # never keep a hash `chain` would not reproduce
        raise RuntimeError(f"the database hashed event {stored.seq} unlike app.audit.chain")
    return AuditEvent(seq=int(stored.seq), **row)


_CLAIM_SQLITE = (
    sqlite_insert(_STREAMS)
    .values(stream=bindparam("stream"), length=1, prev_head=None, head=None)
    .on_conflict_do_update(
        index_elements=[_STREAMS.c.stream],
        set_={"length": _STREAMS.c.length + 1, "prev_head": _STREAMS.c.head},
    )
    .returning(_STREAMS.c.length, _STREAMS.c.prev_head)
)
_INSERT_SQLITE = (
    insert(_EVENTS)
    .values(
        {
            **dict(zip(_DRAFT_COLUMNS, _column_values("sqlite"), strict=True)),
            **{name: bindparam(name) for name in ("position", "prev_hash", "hash", "canonical")},
        }
    )
    .returning(_EVENTS.c.seq)
)
_MOVE_HEAD_SQLITE = (
    update(_STREAMS)
    .where(_STREAMS.c.stream == bindparam("head_stream"))
    .values(head=bindparam("new_head"))
)


async def _append_sqlite(session: AsyncSession, draft: Draft) -> AuditEvent:
    """Claim the position on the head row, insert the event, move the head: writers are
    serialised by `BEGIN IMMEDIATE`, so the three statements cost no concurrency."""
    stream = draft.columns["stream"]
    claimed = (await session.execute(_CLAIM_SQLITE, {"stream": stream})).one()
    row = draft.row(int(claimed.length), claimed.prev_head)
    placed = {k: row[k] for k in ("position", "prev_hash", "hash", "canonical")}
    seq = (await session.execute(_INSERT_SQLITE, {**draft.params(), **placed})).scalar_one()
    await session.execute(_MOVE_HEAD_SQLITE, {"head_stream": stream, "new_head": row["hash"]})
    return AuditEvent(seq=int(seq), **row)
