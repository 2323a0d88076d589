"""The query plans of the reads at national scale: `EXPLAIN (ANALYZE, BUFFERS)` of the
statements the service sends for the queue, the referral list, a referral's timeline and each
audit-event filter, first page and a page deep in the list, on a database filled by
`nrm seed scale`. docs/performance.md ("Indexes and plans") shows and explains the output.

    python benchmarks/plans.py postgresql://postgres@127.0.0.1:5432/nrm_bench_1m

The statements are built by the service's own code (`queue_statement`, `list_statement`,
`audit.queries.page_query`) and compiled with their values inline, as PostgreSQL plans them
for their values (the service sets `plan_cache_mode = force_custom_plan`).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql

from app.audit.models import AuditEvent, Track
from app.audit.queries import EventFilters, page_query
from app.identity.principal import Principal
from app.identity.roles import Role
from app.referrals.queries import Keyset, ListFilters, list_statement
from app.referrals.queue import QueueAfter, queue_statement

UNIT = "all-wales-decision-unit"
DEPTH = 0.99  # how far down a list the deep page starts


def sql(statement: Select[Any]) -> str:
    compiled = statement.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def principal(row: tuple[Any, ...], *roles: Role) -> Principal:
    user_id, username, organisation_id, code = row
    return Principal(
        id=user_id,
        username=username,
        display_name=username,
        organisation_id=organisation_id,
        organisation_code=code,
        sector="decision_unit",
        roles=frozenset(roles),
    )


def one(connection: psycopg.Connection[Any], query: str, *args: Any) -> Any:
    row = connection.execute(query, args).fetchone()
    assert row is not None, query
    return row[0] if len(row) == 1 else row


def statements(connection: psycopg.Connection[Any]) -> Iterator[tuple[str, str]]:
    """(what, SQL) for every read, first and deep pages."""
    decider = principal(
        one(
            connection,
            "SELECT u.id, u.username, o.id, o.code FROM users u JOIN organisations o"
            " ON o.id = u.organisation_id WHERE o.code = %s ORDER BY u.username LIMIT 1",
            UNIT,
        ),
        Role.DECISION_MAKER,
    )
    auditor = principal((uuid.uuid4(), "auditor", uuid.uuid4(), "oversight"), Role.AUDITOR)
    waiting = one(connection, "SELECT count(*) FROM referrals WHERE next_action IS NOT NULL")
    due, reference = one(
        connection,
        "SELECT queue_due, reference FROM referrals WHERE next_action IS NOT NULL"
        " ORDER BY queue_due, reference OFFSET %s LIMIT 1",
        int(waiting * DEPTH),
    )
    yield "queue, first page", sql(queue_statement(decider, None, 51))
    deep_queue = QueueAfter(due=due.isoformat(), reference=reference)
    yield "queue, deep page", sql(queue_statement(decider, deep_queue, 51))
    total = one(connection, "SELECT count(*) FROM referrals")
    created_at, referral_id = one(
        connection,
        "SELECT created_at, id FROM referrals ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
        int(total * DEPTH),
    )
    yield "list, first page", sql(list_statement(auditor, ListFilters(), after=None, limit=51))
    deep = Keyset(created_at=created_at, id=referral_id)
    yield "list, deep page", sql(list_statement(auditor, ListFilters(), after=deep, limit=51))
    yield from _audit(connection, referral_id, decider.id)


def _audit(
    connection: psycopg.Connection[Any], referral_id: uuid.UUID, actor_id: uuid.UUID
) -> Iterator[tuple[str, str]]:
    upto = int(one(connection, "SELECT max(seq) FROM audit_events"))
    middle = one(connection, "SELECT at FROM audit_events WHERE seq >= %s LIMIT 1", upto // 2)
    timeline = (
        select(AuditEvent)
        .where(AuditEvent.referral_id == referral_id, AuditEvent.track.in_(["victim", "access"]))
        .order_by(AuditEvent.seq)
    )
    yield "timeline", sql(timeline)
    filters = {
        "no filter": EventFilters(),
        "referral_id": EventFilters(referral_id=referral_id),
        "actor_id": EventFilters(actor_id=actor_id),
        "organisation": EventFilters(organisation=UNIT),
        "action": EventFilters(action="referral.viewed"),
        "track": EventFilters(track=Track.IMMIGRATION),
        "since/until (1 h)": EventFilters(since=middle, until=middle + timedelta(hours=1)),
    }
    for name, chosen in filters.items():
        yield f"audit by {name}", sql(page_query(chosen, after=0, upto=upto).limit(51))
        deep = int(upto * DEPTH)
        yield (
            f"audit by {name}, deep page",
            sql(page_query(chosen, after=deep, upto=upto).limit(51)),
        )


def main(url: str) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        connection.execute("SET plan_cache_mode = force_custom_plan")
        for what, statement in list(statements(connection)):
            plan = connection.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}").fetchall()
            print(f"### {what}\n\n```")
            print("\n".join(row[0] for row in plan))
            print("```\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/nrm_bench_1m")
