"""Appending a drafted event to its stream: the one place where the two backends differ.

An append claims the stream's next position by upserting its head row in `audit_streams`
(`length = length + 1`), which locks that row until the caller's transaction ends: writers to
one stream queue there and nowhere else (DESIGN §6). On PostgreSQL one statement computes the
new head hash in SQL and inserts the event (one round trip; Python recomputes the hash with
`chain` and refuses a mismatch); on SQLite, whose writers are serialised anyway, three
statements do it. Every transaction that inserts an event has therefore written
`audit_streams` first, which lets a reader wait for in-flight appends
(`app.audit.queries.horizon`).

Must not: commit, choose the stream, or build the event's content (`app.audit.draft`).
"""

from __future__ import annotations

import typing
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

from app import backends
from app.audit.draft import DRAFT_COLUMNS, STORED_AS_CANONICAL_JSON, Draft
from app.audit.models import AuditEvent, AuditStream


async def append(session: AsyncSession, draft: Draft) -> AuditEvent:
    """Append the event at its stream's next position; returns it (not attached) with `seq`."""
    if backends.is_postgresql(session):
        return await _append_postgresql(session, draft)
    return await _append_sqlite(session, draft)


_EVENTS = typing.cast(Table, AuditEvent.__table__)
_STREAMS = typing.cast(Table, AuditStream.__table__)


def _json_value(name: str, dialect: str) -> ColumnElement[Any]:
    """A JSON column's value bound as text, stored verbatim (PostgreSQL's json keeps its text)."""
    text = bindparam(f"{name}_json", type_=Text)
    return cast(text, JSON) if dialect == "postgresql" else text


def _column_values(dialect: str) -> list[ColumnElement[Any]]:
    return [
        _json_value(name, dialect)
        if name in STORED_AS_CANONICAL_JSON
        else bindparam(name, type_=_EVENTS.c[name].type)
        for name in DRAFT_COLUMNS
    ]


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
            [*DRAFT_COLUMNS, "position", "prev_hash", "hash", "canonical"],
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
            **dict(zip(DRAFT_COLUMNS, _column_values("sqlite"), strict=True)),
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
