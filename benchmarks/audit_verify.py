"""Benchmark: verifying 1,000,000 stored audit events on PostgreSQL; auditor queries at that size.

Bulk-loads chained events (COPY of precomputed rows, spread over 20,000 streams and
interleaved as real traffic would be), then runs `verify_trail` - the code
behind `GET /audit/verify` and `nrm audit verify` - in a fresh child process, reporting events
per second and its resident memory while it walks (constant: only each stream's length and head
are kept). Finally it times the first page of `GET /audit/events` for each filter at that size.
Targets (issue): >= 100,000 events/s, constant memory.

Run: `.venv/bin/python benchmarks/audit_verify.py [URL] [--events N]`. It creates its own
database on the server of URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test) and
drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from psycopg import sql
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.audit import chain, queries
from app.audit import service as audit
from app.audit.models import Track
from app.audit.verify import verify_trail
from app.cli import alembic_config
from app.db import create_engine, create_sessionmaker, transaction
from app.settings import Settings

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
COLUMNS = (
    "id", "at", "actor_id", "actor_organisation", "actor_roles", "action", "track",
    "referral_id", "stream", "position", "changes", "request_id", "prev_hash", "hash", "canonical",
)  # fmt: skip
ACTIONS = [
    ("referral.submitted", Track.VICTIM), ("referral.routed", Track.VICTIM),
    ("referral.viewed", Track.ACCESS), ("decision.proposed", Track.VICTIM),
    ("decision.reviewed", Track.VICTIM), ("immigration.updated", Track.IMMIGRATION),
    ("auth.login_succeeded", Track.ACCESS), ("user.created", Track.ADMIN),
]  # fmt: skip


CHANGES = '{"status":{"after":"assigned","before":"routed"}}'
# The canonical text of the generated events, filled in by plain formatting (every value is
# ASCII with nothing to escape) because building a million through `chain` takes minutes;
# `rows` checks the first thousand against `chain.canonical_bytes` byte for byte.
TEMPLATE = (
    '{{"action":"{action}","actor":{{"id":"{actor}","organisation":"{organisation}",'
    '"roles":["decision_maker"]}},"at":"{at}","changes":'
    + CHANGES.replace("{", "{{").replace("}", "}}")
    + ',"id":"{id}","position":{position},"referral_id":{referral},"request_id":"{request}",'
    '"stream":"{stream}","track":"{track}","v":1}}'
)


def rows(events: int, streams: int, seed: int = 7) -> Iterator[tuple[Any, ...]]:
    """Chained rows in seq order; memory grows with streams, never with events."""
    rng = random.Random(seed)
    organisations = [f"org-{n:03d}" for n in range(60)]
    actors = [(uuid.UUID(int=n + 1), rng.choice(organisations)) for n in range(500)]
    referrals = [uuid.UUID(int=10**9 + n) for n in range(streams)]
    heads: dict[str, tuple[int, str | None]] = {}
    for n in range(events):
        (actor, organisation), (action, track) = rng.choice(actors), rng.choice(ACTIONS)
        referral = rng.choice(referrals) if rng.random() < 0.9 else None
        stream = audit.referral_stream(referral) if referral else f"organisation:{organisation}"
        length, head = heads.get(stream, (0, None))
        event_id, at = uuid.UUID(int=n), T0 + timedelta(seconds=n / 2)
        values = {
            "action": action, "actor": actor, "organisation": organisation,
            "at": chain.format_at(at), "id": event_id, "position": length + 1,
            "referral": f'"{referral}"' if referral else "null", "request": f"r-{n}",
            "stream": stream, "track": track.value,
        }  # fmt: skip
        canonical = TEMPLATE.format(**values)
        if n < 1000:
            assert canonical.encode() == chain.canonical_bytes(_content(values, referral))
        digest = chain.event_hash(head, canonical.encode())
        heads[stream] = (length + 1, digest)
        yield (
            event_id, at, actor, organisation, '["decision_maker"]', action, track.value,
            referral, stream, length + 1, CHANGES, f"r-{n}", head, digest, canonical,
        )  # fmt: skip


def _content(values: dict[str, Any], referral: uuid.UUID | None) -> dict[str, Any]:
    return chain.event_content(
        stream=values["stream"], position=values["position"], event_id=str(values["id"]),
        at=values["at"], action=values["action"], track=values["track"],
        actor={"id": str(values["actor"]), "organisation": values["organisation"],
               "roles": ["decision_maker"]},
        referral_id=str(referral) if referral else None,
        changes={"status": {"before": "routed", "after": "assigned"}}, request_id=values["request"],
    )  # fmt: skip


def load(libpq_url: str, events: int, streams: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(libpq_url) as connection:
        columns = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        copy_sql = sql.SQL("COPY audit_events ({}) FROM STDIN").format(columns)
        with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows(events, streams):
                copy.write_row(row)
        # The head rows `record()` would have kept: each stream's length and head hash.
        connection.execute(
            """INSERT INTO audit_streams (stream, length, head, prev_head)
            SELECT DISTINCT ON (stream) stream, "position", hash, prev_hash FROM audit_events
            ORDER BY stream, "position" DESC"""
        )
        connection.commit()
    with psycopg.connect(libpq_url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE) audit_events")
    return time.perf_counter() - started


def rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


async def verify_child(url: str, workers: int) -> dict[str, Any]:
    """Run in a fresh process: walk every chain, sampling resident memory as it goes."""
    engine = create_engine(Settings(database_url=url))
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.25):
            samples.append(rss_mib())

    try:
        async with transaction(create_sessionmaker(engine)) as session:
            await session.execute(text("SELECT 1"))  # connected, before the walk
            baseline = rss_mib()
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.perf_counter()
            report = await verify_trail(session, workers=workers)
            elapsed = time.perf_counter() - started
            stop.set()
    finally:
        await engine.dispose()
    quarter = max(1, len(samples) // 4)
    return {
        "valid": report.valid,
        "events": report.events_checked,
        "seconds": elapsed,
        "baseline_mib": baseline,
        "rss_mib_by_quarter": [round(s, 1) for s in samples[quarter - 1 :: quarter]][:4],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def filters(events: int) -> dict[str, dict[str, Any]]:
    """A filter of each kind; the time window is one hour in the middle of the log."""
    middle = T0 + timedelta(seconds=events / 4)
    return {
        "referral_id": {"referral_id": uuid.UUID(int=10**9 + 123)},
        "actor_id": {"actor_id": uuid.UUID(int=42)},
        "organisation": {"organisation": "org-007"},
        "action": {"action": "decision.reviewed"},
        "track": {"track": Track.IMMIGRATION},
        "since/until (1 h)": {"since": middle, "until": middle + timedelta(hours=1)},
        "action, cursor mid-log": {"action": "user.created"},
    }


async def time_filters(url: str, events: int) -> dict[str, float]:
    engine = create_engine(Settings(database_url=url))
    factory = create_sessionmaker(engine)
    timings: dict[str, float] = {}
    try:
        for name, values in filters(events).items():
            after = events // 2 if "mid-log" in name else 0
            runs = []
            for _ in range(7):
                async with transaction(factory) as session:
                    started = time.perf_counter()
                    page, _ = await queries.events_page(
                        session, queries.EventFilters(**values), after=after, limit=50
                    )
                    runs.append(time.perf_counter() - started)
                assert page, name
            timings[name] = statistics.median(runs) * 1000
    finally:
        await engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--streams", type=int, default=20_000)
    parser.add_argument("--verify-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.verify_child:
        print(json.dumps(asyncio.run(verify_child(args.url, args.verify_child))))
        return
    server = args.url.split("://", 1)[1].rsplit("/", 1)[0]
    admin = f"postgresql://{server}/postgres"
    name = f"nrm_audit_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"postgresql+psycopg://{server}/{name}"
    try:
        command.upgrade(alembic_config(url), "heads")
        seconds = load(f"postgresql://{server}/{name}", args.events, args.streams)
        print(f"loaded {args.events:,} events over {args.streams:,} streams in {seconds:.0f} s")
        # One walk (GET /audit/verify, in the request's transaction) and one per core
        # (`nrm audit verify`, streams split over connections in one snapshot).
        for workers in sorted({1, os.cpu_count() or 1}):
            child = subprocess.run(
                [sys.executable, __file__, url, "--verify-child", str(workers)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            result = json.loads(child.stdout)
            rate = result["events"] / result["seconds"]
            print(f"verify_trail, {workers} walk(s): {result['events']:,} events in "
                  f"{result['seconds']:.2f} s = {rate:,.0f} events/s, "
                  f"valid={result['valid']}")  # fmt: skip
            print(f"  resident memory: {result['baseline_mib']:.0f} MiB before the walk, "
                  f"{result['rss_mib_by_quarter']} MiB at each quarter, "
                  f"peak {result['peak_rss_mib']:.0f} MiB")  # fmt: skip
        for filter_name, ms in asyncio.run(time_filters(url, args.events)).items():
            print(f"GET /audit/events first page (50) by {filter_name}: {ms:.1f} ms")
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


if __name__ == "__main__":
    main()
