"""The national benchmark: every figure of the performance goals (docs/performance.md) in one
run, beside its reference (pgbench, a bare endpoint, the first page, the smaller scale) and its
goal, printed as a Markdown table after how it ran (machine, PostgreSQL and its settings).
docs/performance.md ("The national benchmark") says what each figure means.

    python benchmarks/national.py [--scale-db URL [--scale-db URL]] [--seed N [--seed N]]
        [--server URL] [--write-db URL] [--seconds 30] [--read-seconds 10] [--clients 8]
        [--setting NRM_MAX_CONCURRENT_REQUESTS=64] [--no-sqlite] [--overload-seconds 60]

It starts what it measures itself, each under uvicorn with `--workers` processes on a free
port: the service (`nrm serve`, with a secret of its own and the `NRM_` settings given by
`--setting`), and for reference a bare endpoint (`benchmarks/nationalbench/bare.py`). The load
comes from a separate process (`benchmarks/nationalbench/loadgen.py`). In turn:

1. pgbench (`-c CLIENTS -j 2 -T SECONDS`, TPC-B-like) in a scratch database on `--server`;
2. writes on PostgreSQL (a scratch database on `--server`, or `--write-db`): the bare app's
   /healthz and insert, the service's /healthz and filing (`POST /referrals` with an
   `Idempotency-Key`), then filing offered at twice the rate it sustained, open loop;
3. the same writes on SQLite (a scratch file), unless `--no-sqlite`;
4. for each `--scale-db` (filled by `nrm seed scale`; a `--seed N` of the same rank first
   migrates it and tops it up to N generated referrals, about 30 minutes a million), the
   reads: p50 and p99 of each at `--read-clients`, deep pages, every statistics table, and
   `GET /audit/verify` with the workers' memory. Give `--scale-db` twice (100k and 1M, in
   either order) for the growth figures.

Scratch databases are dropped afterwards; scale databases are kept (reading a referral adds
an access event). The demo users (`nrm seed demo`) are created where they are missing.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nationalbench import figures, postgres, scales, writes
from nationalbench.runs import Run, say

SERVER = os.environ.get("NRM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")


def _setting(value: str) -> tuple[str, str]:
    name, _, setting = value.partition("=")
    if not name.startswith("NRM_") or not setting:
        raise argparse.ArgumentTypeError(f"give NRM_NAME=VALUE, not {value!r}")
    return name, setting


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    _where(p.add_argument_group("where"))
    _how(p.add_argument_group("how"))
    return p


def _where(group: argparse._ArgumentGroup) -> None:
    add = group.add_argument
    add(
        "--scale-db",
        action="append",
        default=[],
        metavar="URL",
        help="a PostgreSQL database filled by `nrm seed scale`; twice for the growth figures",
    )
    add(
        "--seed",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="first migrate the --scale-db of the same rank and top it up to N generated "
        "referrals (about 30 minutes a million)",
    )
    add(
        "--server",
        default=SERVER,
        help="PostgreSQL server of the scratch databases (NRM_BENCH_PG; %(default)s)",
    )
    add("--write-db", metavar="URL", help="write on this database instead of a scratch one")
    add("--no-sqlite", action="store_true", help="skip the write figures on SQLite")
    add(
        "--setting",
        type=_setting,
        action="append",
        default=[],
        metavar="NRM_NAME=VALUE",
        help="a setting of the service, such as NRM_MAX_CONCURRENT_REQUESTS=64; repeatable",
    )
    add("--log-level", default="WARNING", help="the service's NRM_LOG_LEVEL (it logs to a file)")
    add("--workers", type=int, default=2, help="uvicorn worker processes of each server")


def _how(group: argparse._ArgumentGroup) -> None:
    add = group.add_argument
    add("--clients", type=int, default=8, help="concurrency of pgbench and the writes")
    add("--seconds", type=float, default=30.0, help="duration of pgbench and each write load")
    add("--pgbench-scale", type=int, default=8, help="pgbench -i -s (one branch a client)")
    add(
        "--overload-seconds",
        type=float,
        default=60.0,
        help="duration of filing at twice the sustained rate (0: skip it)",
    )
    add(
        "--overload-connections",
        type=int,
        default=1000,
        help="the most connections the overload opens at once",
    )
    add("--read-clients", type=int, default=1, help="concurrency of each read")
    add("--read-seconds", type=float, default=10.0, help="duration of each read")
    add("--read-timeout", type=float, default=600.0, help="seconds before a read is an error")
    add("--statistics-runs", type=int, default=3, help="timed requests of each statistics table")
    add("--depth", type=float, default=0.99, help="how far down each list the deep page starts")
    add("--verify-timeout", type=float, default=3600.0, help="seconds GET /audit/verify may take")


def how_it_ran(run: Run) -> None:
    args = run.args
    say("## How it ran\n")
    for line in postgres.machine() + postgres.server_settings(postgres.libpq(args.server)):
        say(f"* {line}")
    shown = ", ".join(f"{k}={v}" for k, v in run.settings.items() if k != "NRM_SECRET_KEY")
    say(f"* service: `nrm serve --workers {args.workers}` (uvicorn, uvloop, httptools), {shown}")
    say(
        f"* load: a separate process (asyncio HTTP/1.1 client, keep-alive); writes at "
        f"{args.clients} clients for {args.seconds:.0f} s after one unrecorded request each, "
        f"reads at {args.read_clients} for {args.read_seconds:.0f} s, statistics "
        f"{args.statistics_runs} runs each, overload for {args.overload_seconds:.0f} s"
    )
    say(f"* pgbench: -i -s {args.pgbench_scale}; -c {args.clients} -j 2 -T {args.seconds:.0f}")


def write_figures(run: Run) -> None:
    args = run.args
    say("\n### pgbench\n")
    tps = postgres.pgbench(
        postgres.libpq(args.server), clients=args.clients, threads=2,
        seconds=round(args.seconds), scale=args.pgbench_scale,
    )  # fmt: skip
    say(f"* pgbench TPC-B-like: {tps:,.1f} TPS")
    if args.write_db:
        writes.writes(run, args.write_db, "PostgreSQL", tps)
    else:
        with postgres.scratch_database(postgres.libpq(args.server), "nrm_bench_write") as url:
            writes.writes(run, url, "PostgreSQL", tps)
    if not args.no_sqlite:
        writes.writes(run, f"sqlite:///{run.logs / 'bench.db'}", "SQLite", None)


def main() -> None:
    args = parser().parse_args()
    if len(args.seed) > len(args.scale_db):
        parser().error("each --seed tops up the --scale-db of the same rank: give that too")
    secret = secrets.token_urlsafe(32)
    settings = {
        "NRM_SECRET_KEY": secret,
        "NRM_TOKEN_TTL_MINUTES": "1440",
        "NRM_LOG_LEVEL": args.log_level,
        **dict(args.setting),
    }
    logs = Path(tempfile.mkdtemp(prefix="nrm-national-"))
    run = Run(args, logs, settings, secret)
    try:
        how_it_ran(run)
        say("\n## Measurements")
        write_figures(run)
        seeds = (args.seed + [0] * len(args.scale_db))[: len(args.scale_db)]
        measured = [
            scales.scale(run, url, seed) for url, seed in zip(args.scale_db, seeds, strict=True)
        ]
        if len(measured) >= 2:
            small, large = sorted(measured, key=lambda m: m.referrals)[:: len(measured) - 1]
            run.rows.extend(figures.growth(small.label, large.label, small.reads, large.reads))
        elif measured:
            say("\n(one --scale-db: no growth figures; give a second, smaller or larger)")
        say(f"\n## Figures\n\n{figures.markdown(run.rows)}")
        say(f"\nload average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        for scratch in logs.glob("bench.db*"):
            scratch.unlink()
        say(f"(the servers' logs are in {logs})")


if __name__ == "__main__":
    main()
