"""How fast is a statistics breakdown at national scale? (issue 6: under 1 s with 1,000,000
referrals on PostgreSQL on this machine.)

Creates a PostgreSQL database of its own, migrates it with `app.cli.db_upgrade`, bulk-loads
referrals (with one to three exploitation types each), decisions for most of them, immigration
records for half, and duty-to-notify reports, all generated inside PostgreSQL
(`INSERT … SELECT … FROM generate_series`), then times every breakdown through the service
functions the endpoints call (one SQL aggregation each, plus suppression and the tests of
independence) over three periods: all of it, a year, a quarter. Prints the best and median
seconds per breakdown; drops the database unless `--keep` (`--database NAME` measures a kept
one again). With `--report DIR` it also writes the auditor's report of the loaded data. A
script, not a test; the figures are in docs/statistics.md.

    python benchmarks/statistics_scale.py [--referrals 1000000] [--runs 5]
        [--period all|year|quarter] [--keep | --database NAME] [--report DIR]

`NRM_BENCH_PG` names the server (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli import db_upgrade
from app.db import create_engine, create_sessionmaker
from app.referrals.workflow import Stage
from app.reports import report, service
from app.reports.queries import Period
from app.reports.schemas import REFERRAL_BREAKDOWNS, Breakdown
from app.settings import Environment, Settings

SERVER = os.environ.get("NRM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
FIRST_DAY = date(2024, 1, 1)
DAYS = 731  # two years of referrals
PERIOD = Period(FIRST_DAY, date(2025, 12, 31))
PERIODS = {  # every referral; the second year (half of them); its last quarter (an eighth)
    "all": PERIOD,
    "year": Period(date(2025, 1, 1), date(2025, 12, 31)),
    "quarter": Period(date(2025, 10, 1), date(2025, 12, 31)),
}

# Everything below runs inside PostgreSQL: no row is generated in Python.
LOAD = [
    # A submitter and a decider for the foreign keys (never signed in).
    """
    INSERT INTO users (id, username, display_name, password_hash, organisation_id, is_active,
                       created_at)
    SELECT gen_random_uuid(), 'bench-' || code, 'Bench ' || code, '!', id, false, now()
    FROM organisations WHERE code IN ('south-wales-police', 'all-wales-decision-unit')
    """,
    # A child decision panel for Cardiff, so that there are two deciding units.
    """
    INSERT INTO organisations (id, code, name, name_cy, sector, local_authority)
    VALUES (gen_random_uuid(), 'bench-cardiff-child-panel', 'Cardiff Child Decision Panel',
            'Panel Penderfyniadau Plant Caerdydd', 'decision_unit', 'W06000015')
    """,
    """
    CREATE TEMP TABLE bench AS SELECT
      (SELECT array_agg(id ORDER BY code) FROM organisations
        WHERE sector NOT IN ('decision_unit', 'home_office')) AS referrers,
      (SELECT array_agg(ons_code ORDER BY ons_code) FROM local_authorities) AS places,
      (SELECT id FROM organisations WHERE code = 'all-wales-decision-unit') AS unit,
      (SELECT id FROM organisations WHERE code = 'bench-cardiff-child-panel') AS panel,
      (SELECT id FROM users WHERE username = 'bench-south-wales-police') AS submitter,
      (SELECT id FROM users WHERE username = 'bench-all-wales-decision-unit') AS decider,
      ARRAY['GB','GB','GB','AL','AL','VN','VN','RO','SD','ER','PL','NG','IN','CN',
            'IR','IQ','AF','SY','UA','PK'] AS nationalities,
      ARRAY['male','male','male','female','female','other','unknown'] AS genders,
      ARRAY['sexual','labour','domestic_servitude','criminal','organ_harvesting','unknown']
        AS types
    """,
    """
    INSERT INTO referrals (id, reference, status, version, created_at, created_on, is_child,
      referring_organisation_id, submitted_by_id, routed_to_id, other_names, date_of_birth,
      estimated_age, gender, nationality, languages, interpreter_needed,
      correspondence_language, exploitation_location, local_authority, exploited_as_child,
      indicators, account, rg_due)
    SELECT gen_random_uuid(), 'NRM-B-' || n, 'awaiting_rg', 1,
      timestamptz '2024-01-01 12:00Z' + (n % {days}) * interval '1 day',
      date '2024-01-01' + (n % {days}),
      n % 10 < 4,
      b.referrers[1 + n % array_length(b.referrers, 1)], b.submitter,
      CASE WHEN n % 10 < 4 AND b.places[1 + n % 22] = 'W06000015' THEN b.panel ELSE b.unit END,
      '[]', CASE WHEN n % 10 < 8 THEN date '1990-01-01' + (n % 9000) END,
      CASE WHEN n % 10 = 8 THEN 16 + n % 30 END,
      b.genders[1 + n % 7], CASE WHEN n % 50 <> 0 THEN b.nationalities[1 + n % 20] END,
      '[]', false, 'en', 'uk', b.places[1 + n % 22], CASE WHEN n % 17 = 0 THEN true END,
      '[]', 'Benchmark referral.', date '2024-01-01' + (n % {days}) + 7
    FROM generate_series(1, {referrals}) AS n, bench b
    """,
    # One to three exploitation types: the first by number, a second for a third of them...
    """
    INSERT INTO referral_exploitation_types (referral_id, type)
    SELECT r.id, b.types[1 + (substr(r.reference, 7)::int) % 6] FROM referrals r, bench b
    """,
    """
    INSERT INTO referral_exploitation_types (referral_id, type)
    SELECT r.id, b.types[1 + (substr(r.reference, 7)::int + 1) % 6] FROM referrals r, bench b
    WHERE substr(r.reference, 7)::int % 3 = 0
    """,
    # RG decisions for 80%: positive for 60% of those, more often for some nationalities.
    """
    INSERT INTO decisions (id, referral_id, stage, outcome, status, reasons, decided_by_id,
      decided_at, decided_on, unit_id, guidance_version, working_days, due_on, met,
      effective_at)
    SELECT gen_random_uuid(), r.id, 'reasonable_grounds',
      CASE WHEN (h % 100) < CASE WHEN r.nationality = 'GB' THEN 70 ELSE 55 END
           THEN 'positive' ELSE 'negative' END,
      'effective', 'Benchmark.', b.decider, r.created_at + (h % 12) * interval '1 day',
      r.created_on + (h % 12), r.routed_to_id, 'bench', h % 12, r.rg_due, h % 12 <= 5,
      r.created_at + (h % 12) * interval '1 day'
    FROM (SELECT *, (hashtext(reference) & 2147483647) AS h FROM referrals) r, bench b
    WHERE r.h % 10 < 8
    """,
    # CG decisions for half of the positive RG decisions.
    """
    INSERT INTO decisions (id, referral_id, stage, outcome, status, reasons, decided_by_id,
      decided_at, decided_on, unit_id, guidance_version, working_days, due_on, met,
      effective_at)
    SELECT gen_random_uuid(), d.referral_id, 'conclusive_grounds',
      CASE WHEN h % 100 < 65 THEN 'positive' ELSE 'negative' END, 'effective', 'Benchmark.',
      d.decided_by_id, d.decided_at + (30 + h % 120) * interval '1 day',
      d.decided_on + (30 + h % 120), d.unit_id, 'bench', 22 + h % 90, NULL, NULL,
      d.decided_at + (30 + h % 120) * interval '1 day'
    FROM (SELECT *, (hashtext(id::text) & 2147483647) AS h FROM decisions) d
    WHERE d.outcome = 'positive' AND d.h % 2 = 0
    """,
    """
    INSERT INTO immigration_records (id, referral_id, status, version, created_at, updated_at)
    SELECT gen_random_uuid(), id,
      (ARRAY['british_or_irish_citizen','settled','pre_settled','visa_holder',
             'visa_overstayer','asylum_seeker','refugee_or_protection','no_leave',
             'unknown'])[1 + (hashtext(reference || 'i') & 2147483647) % 9],
      1, created_at, created_at
    FROM referrals WHERE (hashtext(reference || 'i') & 2147483647) % 2 = 0
    """,
    """
    INSERT INTO duty_to_notify_reports (id, reference, created_at, created_on, organisation_id,
      submitted_by_id, gender, nationality, exploitation_types, exploitation_location,
      local_authority)
    SELECT gen_random_uuid(), 'DTN-B-' || n,
      timestamptz '2024-01-01 12:00Z' + (n % {days}) * interval '1 day',
      date '2024-01-01' + (n % {days}), b.referrers[1 + n % array_length(b.referrers, 1)],
      b.submitter, b.genders[1 + n % 7], b.nationalities[1 + n % 20],
      CASE WHEN n % 4 = 0 THEN json_build_array(b.types[1 + n % 6], b.types[1 + (n + 2) % 6])
           ELSE json_build_array(b.types[1 + n % 6]) END,
      'uk', b.places[1 + n % 22]
    FROM generate_series(1, {reports}) AS n, bench b
    """,
]


def settings_for(database: str) -> Settings:
    url = f"{SERVER.replace('postgresql://', 'postgresql+psycopg://')}/{database}"
    return Settings(env=Environment.TEST, database_url=url, log_json=False)


def create_database(name: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def load(name: str, referrals: int) -> None:
    """Generate the data in PostgreSQL, then ANALYZE so the planner knows it."""
    started = time.perf_counter()
    with psycopg.connect(f"{SERVER}/{name}") as conn:
        sizes = {"referrals": referrals, "reports": referrals // 4, "days": DAYS}
        for template in LOAD:
            statement = template
            for name_, value in sizes.items():  # integers only: nothing to quote
                statement = statement.replace("{" + name_ + "}", str(value))
            conn.execute(statement)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in (
                "referrals",
                "referral_exploitation_types",
                "decisions",
                "immigration_records",
                "duty_to_notify_reports",
            )
        }
    print(f"loaded in {time.perf_counter() - started:.1f} s: {counts}")


async def _time(work: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, float]:
    """The best and the median of `runs` wall-clock timings of `work`, after a warm-up run.
    The best is the figure to quote on a shared machine: other load only ever adds time."""
    await work()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        timings.append(time.perf_counter() - started)
    return min(timings), statistics.median(timings)


def _breakdowns(
    session: AsyncSession, period: Period, threshold: int
) -> list[tuple[str, str, Callable[[], Awaitable[Any]]]]:
    view = service.AUDITOR_VIEW
    work: list[tuple[str, str, Callable[[], Awaitable[Any]]]] = []
    for by in sorted(REFERRAL_BREAKDOWNS):
        work.append(
            (
                "referrals",
                by.value,
                partial(
                    service.referral_statistics,
                    session,
                    view,
                    by=by,
                    period=period,
                    threshold=threshold,
                ),
            )
        )
    for stage in Stage:
        for by in Breakdown:
            work.append(
                (
                    f"disparities {stage.value}",
                    by.value,
                    partial(
                        service.disparity_statistics,
                        session,
                        view,
                        by=by,
                        stage=stage,
                        period=period,
                        threshold=threshold,
                    ),
                )
            )
    return work


async def measure(
    settings: Settings, period: Period, runs: int
) -> list[tuple[str, str, float, float]]:
    """Per breakdown through the service (SQL, suppression, tests): best and median seconds."""
    engine = create_engine(settings)
    results = []
    try:
        async with create_sessionmaker(engine)() as session:
            for table, by, call in _breakdowns(session, period, settings.suppression_threshold):
                best, median = await _time(call, runs)
                results.append((table, by, best, median))
                await session.rollback()  # each request is its own transaction
    finally:
        await engine.dispose()
    return results


async def write_report(settings: Settings, out: Path) -> None:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            data = await report.gather(
                session, period=PERIOD, threshold=settings.suppression_threshold
            )
    finally:
        await engine.dispose()
    for path in report.write(data, out):
        print(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--report", type=Path, help="also write the report into this folder")
    parser.add_argument("--database", help="measure a database kept by an earlier --keep run")
    parser.add_argument(
        "--period", action="append", choices=list(PERIODS), help="periods to time (default all)"
    )
    args = parser.parse_args()
    args.period = args.period or list(PERIODS)
    name = args.database or f"nrm_bench_{uuid.uuid4().hex[:8]}"
    if not args.database:
        create_database(name)
    try:
        settings = settings_for(name)
        if not args.database:
            db_upgrade(settings)
            load(name, args.referrals)
        for name_ in args.period:
            load_before = os.getloadavg()[0]
            results = asyncio.run(measure(settings, PERIODS[name_], args.runs))
            print(
                f"\nperiod {name_} {PERIODS[name_]}: {args.runs} runs, "
                f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
            )
            print(f"{'table':<32} {'by':<19} {'best s':>7} {'median s':>9}")
            for table, by, best, median in results:
                print(f"{table:<32} {by:<19} {best:>7.3f} {median:>9.3f}")
            print(
                f"slowest: {max(r[2] for r in results):.3f} s (best), "
                f"{max(r[3] for r in results):.3f} s (median)"
            )
        if args.report:
            asyncio.run(write_report(settings, args.report))
    finally:
        if args.keep or args.database:
            print(f"kept database {name}")
        else:
            drop_database(name)


if __name__ == "__main__":
    main()
