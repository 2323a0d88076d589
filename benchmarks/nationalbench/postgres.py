"""PostgreSQL for `benchmarks/national.py`: URLs, scratch databases, pgbench, and how it ran.

pgbench is PostgreSQL's own TPC-B-like benchmark (five statements a transaction: three
updates, a select, an insert), run into a scratch database it initialises (`pgbench -i -s
SCALE`), the reference that filing over HTTP is compared with.
"""

from __future__ import annotations

import glob
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

SHOWN_SETTINGS = (
    "shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem",
    "max_connections", "fsync", "synchronous_commit", "wal_level", "max_wal_size",
    "random_page_cost", "jit", "max_parallel_workers_per_gather",
)  # fmt: skip


def libpq(url: str) -> str:
    """`postgresql+psycopg://…` as libpq (psycopg, pgbench) reads it."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def server_of(url: str) -> str:
    return libpq(url).rsplit("/", 1)[0]


def database_of(url: str) -> str:
    return libpq(url).rsplit("/", 1)[1].split("?", 1)[0]


@contextmanager
def scratch_database(server: str, prefix: str) -> Iterator[str]:
    """A new, empty database on `server` (its URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def pgbench_binary() -> str:
    found = shutil.which("pgbench") or max(
        glob.glob("/usr/lib/postgresql/*/bin/pgbench"),
        key=lambda p: int(p.split("/")[4]),
        default=None,
    )
    if found is None:
        raise RuntimeError("pgbench not found (Debian ships it in postgresql-NN)")
    return found


def pgbench(server: str, *, clients: int, threads: int, seconds: int, scale: int) -> float:
    """TPS of `pgbench -c CLIENTS -j THREADS -T SECONDS` on a scratch database of `scale`."""
    binary = pgbench_binary()
    with scratch_database(server, "nrm_bench_pgbench") as url:
        _run([binary, "-i", "-q", "-s", str(scale), url])
        out = _run([binary, "-c", str(clients), "-j", str(threads), "-T", str(seconds), url])
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if found is None:
        raise RuntimeError(f"no TPS in pgbench's output: {out}")
    return float(found.group(1))


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _commit() -> str:
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=Path(__file__).parent, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip() or "unknown"


def machine() -> list[str]:
    """The machine, in lines: cores, memory, load, Python, SQLite, the code's commit."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"code: commit {_commit()}",
        f"machine: {os.cpu_count()} cores ({_cpu_model()}), {_memory_gib():.1f} GiB of memory, "
        f"load average {load} at the start",
        f"software: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.release()}",
    ]


def server_settings(server: str) -> list[str]:
    """PostgreSQL's version and the settings that bear on these figures, in lines."""
    with psycopg.connect(f"{server}/postgres") as connection:
        version = connection.execute("SHOW server_version").fetchone()
        rows = connection.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s) "
            "ORDER BY name",
            (list(SHOWN_SETTINGS),),
        ).fetchall()
    shown = ", ".join(f"{name}={setting}" for name, setting in rows)
    return [f"PostgreSQL {version[0] if version else '?'} at {server}; {shown}"]
