"""Counting the SQL statements a request runs (issue 11: fewer round trips per request).

`counted(engine)` records every statement sent on the engine's connections while it is open,
through SQLAlchemy's `before_cursor_execute` event, leaving out transaction control (`BEGIN`,
`COMMIT`, savepoints): those are the test harness's (each request's transaction is a savepoint
of the test's) or SQLite's `BEGIN IMMEDIATE`, not the request's work. Every query, insert,
update and upsert counts, whichever backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_TRANSACTION_CONTROL = re.compile(
    r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE\s+SAVEPOINT)\b", re.IGNORECASE
)


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements sent while the block runs, in order (transaction control left out)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not _TRANSACTION_CONTROL.match(statement):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def shown(statements: list[str]) -> str:
    """The statements' first lines, for an assertion's message."""
    return "\n".join(s.strip().splitlines()[0][:120] for s in statements)
