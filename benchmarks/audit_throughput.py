"""Benchmark: audit events appended per second on PostgreSQL, chained (`record()`) or not.

Each writer is an asyncio task with its own connection that commits one transaction per event,
as a request does. *Chained* calls `app.audit.service.record`: the stream's head row upsert
(its row lock), the hash, and the insert. *Unchained* inserts the same row (same canonical
bytes, same indexes) with one plain INSERT: no head row, no lock, no link to the previous
event. Events go to 1,000 referral streams picked at random, as requests for different referrals
would, after each stream got its first event (a stream is created once, then appended to over
a referral's life); a last run puts every chained writer on one stream, the worst case.
The issue's target: chained >= 0.9x unchained at 16 writers.

Run: `.venv/bin/python benchmarks/audit_throughput.py [URL] [--seconds S]`. It creates its own
database on the server of URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
migrates it, measures, and drops it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import psycopg
from alembic import command
from psycopg import sql
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.audit.actions import Action
from app.audit.draft import Draft
from app.audit.models import AuditEvent, Track
from app.cli import alembic_config
from app.db import create_engine, create_sessionmaker, transaction
from app.settings import Settings

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STREAMS = [audit.referral_stream(uuid.uuid4()) for _ in range(1_000)]
ACTOR = audit.ActorRef(uuid.uuid4(), "south-wales-police", ("first_responder",))
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CHANGES = {"status": {"before": "submitted", "after": "routed"}, "unit": {"after": "awdu"}}
PLAIN_INSERT = insert(AuditEvent.__table__)  # built once, as record()'s statements are
_positions: defaultdict[str, itertools.count[int]] = defaultdict(lambda: itertools.count(1))

Append = Callable[[async_sessionmaker[AsyncSession], str], Awaitable[None]]


async def chained(factory: async_sessionmaker[AsyncSession], stream: str) -> None:
    async with transaction(factory) as session:
        await audit.record(
            session, ACTOR, action=Action.REFERRAL_ROUTED, track=Track.VICTIM, now=NOW,
            referral_id=None, changes=CHANGES, stream=stream,
        )  # fmt: skip


async def unchained(factory: async_sessionmaker[AsyncSession], stream: str) -> None:
    row = Draft.of(
        stream=f"plain:{stream}", actor=ACTOR, action=Action.REFERRAL_ROUTED,
        track=Track.VICTIM, now=NOW, referral_id=None, changes=CHANGES, request_id=None,
    ).row(next(_positions[stream]), None)  # fmt: skip
    async with transaction(factory) as session:
        await session.execute(PLAIN_INSERT, row)


async def run(
    factory: async_sessionmaker[AsyncSession],
    append: Append,
    writers: int,
    seconds: float,
    pick: Callable[[], str],
    limit: int | None = None,
) -> float:
    """Events per second appended by `writers` tasks over `seconds` (or until `limit`)."""
    deadline = time.perf_counter() + seconds
    counts = [0] * writers

    async def writer(index: int) -> None:
        while time.perf_counter() < deadline and (limit is None or sum(counts) < limit):
            await append(factory, pick())
            counts[index] += 1

    started = time.perf_counter()
    await asyncio.gather(*(writer(i) for i in range(writers)))
    return sum(counts) / (time.perf_counter() - started)


async def measure(url: str, seconds: float, rounds: int) -> None:
    engine = create_engine(Settings(database_url=url))
    factory = create_sessionmaker(engine)
    try:
        # Warm up, and give every stream its first event: a referral's stream is created once
        # and then appended to over its life (tens of events), which is what is measured.
        streams = itertools.cycle(STREAMS)
        await run(factory, chained, 16, 30.0, lambda: next(streams), limit=len(STREAMS))
        await run(factory, unchained, 16, 30.0, lambda: next(streams), limit=len(STREAMS))
        results: dict[tuple[str, int], list[float]] = defaultdict(list)
        for _ in range(rounds):  # interleaved, so drift hits both alike
            for writers in (1, 16):
                for name, append in (("chained", chained), ("unchained", unchained)):
                    rate = await run(
                        factory, append, writers, seconds, lambda: random.choice(STREAMS)
                    )
                    results[(name, writers)].append(rate)
        one_stream = await run(factory, chained, 16, seconds, lambda: "referral:hot")
        report(results, one_stream, seconds, rounds)
    finally:
        await engine.dispose()


def report(
    results: dict[tuple[str, int], list[float]], one_stream: float, seconds: float, rounds: int
) -> None:
    print(f"PostgreSQL, one transaction per event, median of {rounds} runs of {seconds:.0f} s")
    print(f"{'writers':>8} {'chained ev/s':>14} {'unchained ev/s':>16} {'ratio':>7}")
    for writers in (1, 16):
        c = statistics.median(results[("chained", writers)])
        u = statistics.median(results[("unchained", writers)])
        print(f"{writers:>8} {c:>14,.0f} {u:>16,.0f} {c / u:>7.2f}")
    print(f"16 chained writers all on ONE stream: {one_stream:,.0f} ev/s")


def admin_url(url: str) -> tuple[str, str]:
    """(libpq URL of the server's `postgres` database, the server part of `url`)."""
    server = url.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql://{server}/postgres", server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=DEFAULT_URL)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    admin, server = admin_url(args.url)
    name = f"nrm_audit_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"postgresql+psycopg://{server}/{name}"
    try:
        command.upgrade(alembic_config(url), "heads")
        asyncio.run(measure(url, args.seconds, args.rounds))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


if __name__ == "__main__":
    main()
