"""The read figures of `benchmarks/national.py` on one database filled by `nrm seed scale`:
each read's p50/p99, deep pages, every statistics table, and whole-log verification with the
service's memory. Returns the p99 reads so that two scales can be compared."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import psycopg

from nationalbench import figures, postgres, reads, servers
from nationalbench.figures import Result
from nationalbench.runs import Run, bearer, closed, get, load, say

SERIES = "NRM-S-"  # the references `nrm seed scale` gives


@dataclass
class Measured:
    """One scale's label and its latency reads (for the growth figures)."""

    label: str
    referrals: int
    reads: dict[str, Result]


def seed_to(url: str, referrals: int) -> None:
    """Migrate, then add generated referrals until the database holds `referrals` of them."""
    servers.nrm(url, "db", "upgrade")
    with psycopg.connect(postgres.libpq(url)) as connection:
        row = connection.execute(
            "SELECT count(*) FROM referrals WHERE reference LIKE %s", (SERIES + "%",)
        ).fetchone()
    missing = referrals - (row[0] if row else 0)
    if missing > 0:
        say(f"seeding {missing:,} referrals (nrm seed scale) …")
        started = time.perf_counter()
        servers.nrm(url, "seed", "scale", "--referrals", str(missing))
        say(f"seeded {missing:,} referrals in {time.perf_counter() - started:,.0f} s")


def analyze(url: str) -> None:
    """Give the planner fresh statistics, as autovacuum would in time after a bulk load."""
    started = time.perf_counter()
    with psycopg.connect(postgres.libpq(url), autocommit=True) as connection:
        connection.execute("ANALYZE")
    say(f"ANALYZE of {postgres.database_of(url)}: {time.perf_counter() - started:.1f} s")


def scale(run: Run, url: str, seed: int) -> Measured:
    """Every read figure on the database at `url` (first topped up to `seed` generated
    referrals, if more); its rows go into `run.rows`."""
    if seed:
        seed_to(url, seed)
    servers.nrm(url, "seed", "demo")  # the demo users, where missing
    analyze(url)
    facts = reads.survey(postgres.libpq(url), run.secret, run.args.depth)
    label = f"{facts.referrals:,} referrals / {facts.events:,} events"
    say(f"\n### Reads at {label} ({postgres.database_of(url)})\n")
    service = servers.start_service(url, run.args.workers, run.settings, run.logs)
    try:
        auth = {user: bearer(service.port, user) for user in (reads.DECIDER, reads.AUDITOR)}
        latency = _latency(run, service.port, auth, facts)
        deep = _deep(run, service.port, auth, facts)
        tables = _tables(run, service.port, auth[reads.AUDITOR], facts)
        result, body, grown = verify(run, service, auth[reads.AUDITOR])
    finally:
        service.stop()
    run.rows.extend(figures.p99s(label, latency))
    run.rows.extend(figures.depth(label, deep, latency))
    run.rows.extend(figures.statistics(label, tables))
    run.rows.extend(figures.verification(label, result, body.get("events_checked", 0), grown))
    return Measured(label, facts.referrals, latency)


def _reads(run: Run, port: int, requests: list[dict[str, str]], headers: dict[str, str]) -> Any:
    return closed(
        run, port, requests, headers=headers, clients=run.args.read_clients,
        seconds=run.args.read_seconds, timeout=run.args.read_timeout,
    )  # fmt: skip


def _latency(
    run: Run, port: int, auth: dict[str, dict[str, str]], facts: reads.Scale
) -> dict[str, Result]:
    return {
        name: load(name, _reads(run, port, requests, auth[user]))
        for name, (user, requests) in reads.latency_reads(facts).items()
    }


def _deep(
    run: Run, port: int, auth: dict[str, dict[str, str]], facts: reads.Scale
) -> dict[str, tuple[str, Result]]:
    return {
        name: (first, load(name, _reads(run, port, requests, auth[user])))
        for name, (first, user, requests) in reads.deep_reads(facts).items()
    }


def _tables(run: Run, port: int, auth: dict[str, str], facts: reads.Scale) -> dict[str, Result]:
    """Each table `--statistics-runs` times after one unrecorded run, one at a time."""
    tables = {}
    for name, path in reads.statistics_tables(facts).items():
        job = closed(
            run, port, [get(path)], headers=auth, clients=1, seconds=3600.0,
            max_requests=run.args.statistics_runs, timeout=run.args.read_timeout,
        )  # fmt: skip
        tables[name] = load(f"statistics, {name}", job)
    return tables


def _verify(port: int, headers: dict[str, str], timeout: float) -> tuple[int, dict[str, Any]]:
    url = f"http://{servers.HOST}:{port}/api/v1/audit/verify"
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout
        ) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, {}


def verify(
    run: Run, service: servers.Server, headers: dict[str, str]
) -> tuple[Result, dict[str, Any], float]:
    """GET /audit/verify once, sampling the workers' resident memory while it walks; the
    result, the answer and the largest growth of a worker (MiB)."""
    workers = service.workers()
    before = servers.rss_mib(workers)
    peak = dict(before)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            for pid, mib in servers.rss_mib(workers).items():
                peak[pid] = max(peak[pid], mib)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    status, body = _verify(service.port, headers, run.args.verify_timeout)
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    say(
        f"* GET /audit/verify: {body} in {seconds:.1f} s; workers' resident memory "
        f"{[round(v) for v in before.values()]} MiB before, {[round(v) for v in peak.values()]} "
        f"MiB at most while it walked"
    )
    result = {"statuses": {str(status): 1}, "errors": {}, "max_ms": seconds * 1000, "count": 1}
    return result, body, max(peak[pid] - before[pid] for pid in before)
