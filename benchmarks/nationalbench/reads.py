"""The reads of `benchmarks/national.py` on a database filled by `nrm seed scale`: what to ask
for, and the deep cursors.

`survey` reads from the database what the requests need: its size, a sample of referrals
routed to the All-Wales decision unit (the unit every generated referral is routed to, so the
busiest), the generated decider (an actor with many events), an hour in the middle of the
trail, the span of the statistics, and deep cursors. A deep cursor is made, not walked to:
the service signs its cursors with a key derived from `NRM_SECRET_KEY` for the list's path
(`app.http.encode_cursor`), and the benchmark starts the service with a secret of its own, so
it signs the keyset values of the row `depth` of the way down the list (found in SQL) exactly
as the service would have after following `next_cursor` that many pages.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

import psycopg

from app.http import cursor_key, encode_cursor
from app.referrals.workflow import Stage
from app.reports.schemas import REFERRAL_BREAKDOWNS, Breakdown
from app.settings import Settings

API = "/api/v1"
UNIT = "all-wales-decision-unit"
DECIDER, AUDITOR = "demo-decision-maker", "demo-auditor"
SAMPLE = 200  # referrals read in turn


@dataclass
class Scale:
    """What the reads of one database need (see `survey`)."""

    url: str
    referrals: int
    events: int
    referral_ids: list[str]
    actor_id: str
    window: tuple[str, str]
    period: tuple[date, date]
    deep: dict[str, str] = field(default_factory=dict)  # list path -> a signed deep cursor


def _one(connection: psycopg.Connection[Any], query: str, *args: Any) -> Any:
    row = connection.execute(query, args).fetchone()
    return row[0] if row else None


def survey(url: str, secret: str, depth: float) -> Scale:
    """Read the database at `url` (libpq form) for the reads, and sign the deep cursors."""
    with psycopg.connect(url) as connection:
        one = partial(_one, connection)
        referrals = one("SELECT count(*) FROM referrals")
        ids = connection.execute(
            "SELECT r.id FROM referrals r JOIN organisations o ON o.id = r.routed_to_id "
            "WHERE o.code = %s ORDER BY random() LIMIT %s",
            (UNIT, SAMPLE),
        ).fetchall()
        actor = one(
            "SELECT id FROM users WHERE username IN ('scale-decider', %s) ORDER BY username "
            "DESC LIMIT 1",
            DECIDER,
        )
        middle = one(
            "SELECT at FROM audit_events WHERE seq >= "
            "(SELECT (min(seq) + max(seq)) / 2 FROM audit_events) ORDER BY seq LIMIT 1"
        )
        span = connection.execute("SELECT min(created_on), max(created_on) FROM referrals")
        first, last = span.fetchone() or (date.today(), date.today())
        scale = Scale(
            url=url,
            referrals=referrals,
            events=one("SELECT count(*) FROM audit_events"),
            referral_ids=[str(row[0]) for row in ids],
            actor_id=str(actor),
            window=(middle.isoformat(), (middle + timedelta(hours=1)).isoformat()),
            period=(first, last),
        )
        scale.deep = _deep_cursors(connection, secret, depth, referrals)
    return scale


def _deep_cursors(
    connection: psycopg.Connection[Any], secret: str, depth: float, referrals: int
) -> dict[str, str]:
    """A cursor `depth` of the way down each list, signed as the service signs it."""
    one = partial(_one, connection)
    key = cursor_key(Settings(secret_key=secret))
    row = connection.execute(
        "SELECT created_at, id FROM referrals ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
        (max(0, int(depth * referrals) - 1),),
    ).fetchone()
    assert row is not None, "no referrals"
    bounds = connection.execute("SELECT min(seq), max(seq) FROM audit_events").fetchone()
    low, high = bounds or (0, 0)
    due = one(
        "SELECT percentile_disc(%s) WITHIN GROUP (ORDER BY d) FROM ("
        "SELECT rg_due AS d FROM referrals WHERE status = 'awaiting_rg' UNION ALL "
        "SELECT recovery_period_ends FROM referrals WHERE status = 'recovery_period') AS due",
        depth,
    )
    values = {
        f"{API}/referrals": {"created_at": row[0].isoformat(), "id": str(row[1])},
        f"{API}/audit/events": {"seq": int(low + depth * (high - low))},
        f"{API}/queue": {"due": (due or date.max).isoformat(), "reference": ""},
    }
    return {path: encode_cursor(v, key=key, scope=path) for path, v in values.items()}


def _get(path: str, **query: str) -> dict[str, str]:
    return {"method": "GET", "path": f"{path}?{urllib.parse.urlencode(query)}" if query else path}


def latency_reads(scale: Scale) -> dict[str, tuple[str, list[dict[str, str]]]]:
    """Each read of the p99 figure: its name → (who reads, the requests taken in turn)."""
    ids, since_until = scale.referral_ids, dict(zip(("since", "until"), scale.window, strict=True))
    events = f"{API}/audit/events"
    return {
        "queue, first page": (DECIDER, [_get(f"{API}/queue")]),
        "referral": (DECIDER, [_get(f"{API}/referrals/{i}") for i in ids]),
        "timeline": (DECIDER, [_get(f"{API}/referrals/{i}/timeline") for i in ids]),
        "list, first page": (AUDITOR, [_get(f"{API}/referrals")]),
        "audit, no filter": (AUDITOR, [_get(events)]),
        "audit by referral_id": (AUDITOR, [_get(events, referral_id=i) for i in ids]),
        "audit by actor_id": (AUDITOR, [_get(events, actor_id=scale.actor_id)]),
        "audit by organisation": (AUDITOR, [_get(events, organisation=UNIT)]),
        "audit by action": (AUDITOR, [_get(events, action="decision.reviewed")]),
        "audit by track": (AUDITOR, [_get(events, track="immigration")]),
        "audit by since/until (1 h)": (AUDITOR, [_get(events, **since_until)]),
    }


def deep_reads(scale: Scale) -> dict[str, tuple[str, str, list[dict[str, str]]]]:
    """Each list's deep page: its name → (its first page's name, who, the request)."""
    cursor = scale.deep
    events = f"{API}/audit/events"
    return {
        "queue, deep page": (
            "queue, first page",
            DECIDER,
            [_get(f"{API}/queue", cursor=cursor[f"{API}/queue"])],
        ),
        "list, deep page": (
            "list, first page",
            AUDITOR,
            [_get(f"{API}/referrals", cursor=cursor[f"{API}/referrals"])],
        ),
        "audit, no filter, deep page": (
            "audit, no filter",
            AUDITOR,
            [_get(events, cursor=cursor[events])],
        ),
        "audit by action, deep page": (
            "audit by action",
            AUDITOR,
            [_get(events, action="decision.reviewed", cursor=cursor[events])],
        ),
    }


def statistics_tables(scale: Scale) -> dict[str, str]:
    """Every statistics table over the data's whole span: its name → its path."""
    first, last = (d.isoformat() for d in scale.period)
    tables = {
        f"referrals by {by.value}": _get(
            f"{API}/statistics/referrals", by=by.value, **{"from": first, "to": last}
        )["path"]
        for by in sorted(REFERRAL_BREAKDOWNS)
    }
    for name in ("decisions", "disparities"):
        for stage in Stage:
            for by in Breakdown:
                query = {"by": by.value, "stage": stage.value, "from": first, "to": last}
                tables[f"{name} {stage.value} by {by.value}"] = _get(
                    f"{API}/statistics/{name}", **query
                )["path"]
    return tables
