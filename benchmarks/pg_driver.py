"""Compare PostgreSQL drivers under SQLAlchemy's async engine: psycopg 3 against asyncpg.

Prints, for each driver, single-row write transactions per second and primary-key reads per
second from 16 concurrent tasks. asyncpg is not a dependency of the service: install it into a
scratch environment to run the comparison (`pip install asyncpg`). A script, not a test.

    python benchmarks/pg_driver.py [postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

TASKS = 16
WRITES_PER_TASK = 300
READS_PER_TASK = 600


async def _setup(engine: AsyncEngine, table: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        await conn.execute(
            text(f"CREATE TABLE {table} (id uuid PRIMARY KEY, body jsonb NOT NULL, n int)")
        )


async def _writer(engine: AsyncEngine, table: str, ids: list[uuid.UUID]) -> None:
    for _ in range(WRITES_PER_TASK):
        row_id = uuid.uuid4()
        async with engine.begin() as conn:
            await conn.execute(
                text(f"INSERT INTO {table} (id, body, n) VALUES (:id, :body, 1)"),
                {"id": row_id, "body": '{"a": 1}'},
            )
        ids.append(row_id)


async def _reader(engine: AsyncEngine, table: str, ids: list[uuid.UUID]) -> None:
    for i in range(READS_PER_TASK):
        async with engine.connect() as conn:
            await conn.execute(
                text(f"SELECT * FROM {table} WHERE id = :id"), {"id": ids[i % len(ids)]}
            )


async def measure(url: str) -> tuple[float, float]:
    engine = create_async_engine(url, pool_size=TASKS, max_overflow=0)
    table = f"bench_{uuid.uuid4().hex[:8]}"
    await _setup(engine, table)
    ids: list[uuid.UUID] = []
    started = time.perf_counter()
    await asyncio.gather(*(_writer(engine, table, ids) for _ in range(TASKS)))
    writes = TASKS * WRITES_PER_TASK / (time.perf_counter() - started)
    started = time.perf_counter()
    await asyncio.gather(*(_reader(engine, table, ids) for _ in range(TASKS)))
    reads = TASKS * READS_PER_TASK / (time.perf_counter() - started)
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE {table}"))
    await engine.dispose()
    return writes, reads


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/test"
    rest = base.split("://", 1)[1]
    drivers = ["psycopg"] + (["asyncpg"] if importlib.util.find_spec("asyncpg") else [])
    for driver in drivers:
        writes, reads = asyncio.run(measure(f"postgresql+{driver}://{rest}"))
        print(f"{driver:8s} writes/s {writes:8.0f}   reads/s {reads:8.0f}")
    if len(drivers) == 1:
        print("asyncpg not installed: pip install asyncpg to compare")


if __name__ == "__main__":
    main()
