"""The leak test (DESIGN §5): no immigration fact reaches anyone but an immigration officer.

It enumerates EVERY route of the app's OpenAPI schema and calls each as every caller (no token,
and the first responder of the referring organisation, a decision maker, a senior decision
maker and a panel member of the routed unit, an immigration officer, an auditor, an admin),
around referrals whose immigration facts hold unique canaries: a Home Office reference
`HO-CANARY-<token>-<n>` no other text can contain, and the rare status `refugee_or_protection`
(the status list is closed, so the status itself cannot be a canary string). The referrals are
first driven through the real commands into several states (awaiting RG, a pending RG and CG
proposal, RG negative with an open reconsideration, suspended…) so that decisions, reviews,
notes, the queue, the timeline and the audit trail have content.

It fails when:
* the canary reference appears in any response (body or header) other than
  `GET`/`PUT /referrals/{id}/immigration` and `GET /immigration/lookup` answered to an
  immigration officer;
* the rare status appears anywhere else, except where DESIGN §5 puts it on purpose: the
  auditor's `GET /audit/events`, inside events of the `immigration` track only, and statistics
  group labels (aggregates, suppressed when small);
* any table outside the compartment holds the canary (log-in events, audit `changes` and
  hashed bytes, idempotency records, notes…), or any audit event outside the `immigration`
  track holds the rare status;
* a route of the schema has no example in `EXAMPLES`, was not called, or was never answered
  with a 2xx by some caller: a leak test that only met 403s proves nothing.

**Adding a route?** This test fails until `EXAMPLES` in `tests/immigration/leak_examples.py`
has an entry for it, keyed by (METHOD, path as in the schema): a function building the calls
(path parameters, body, query, headers) for a caller, such that at least one caller gets a
2xx. Give it a target referral of its own there if it changes state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.db import Base
from app.immigration.models import ImmigrationRecord
from tests.factories import AppUser
from tests.immigration import leak_examples
from tests.immigration.helpers import RARE_STATUS
from tests.immigration.leak_examples import API, EXAMPLES, Call, arrange
from tests.letters.helpers import pdf_text

IMMIGRATION_ROUTES = frozenset(
    {
        ("GET", f"{API}/referrals/{{referral_id}}/immigration"),
        ("PUT", f"{API}/referrals/{{referral_id}}/immigration"),
        ("GET", f"{API}/immigration/lookup"),
    }
)
CALLERS: dict[str, str | None] = {
    "anonymous": None,
    "first_responder": "responder",
    "decision_maker": "decision_maker",
    "senior_decision_maker": "senior_two",
    "panel_member": "panel",
    "immigration_officer": "immigration",
    "auditor": "auditor",
    "admin": "admin",
}
"""Each caller and the member of the cast who plays it (all of the referring organisation or
the routed unit; `senior_two` reviews the RG proposals that `senior` makes while arranging)."""


# --- Calling and judging --------------------------------------------------------------------


def schema_routes(app: FastAPI) -> list[tuple[str, str]]:
    methods = {"get", "put", "post", "patch", "delete"}
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method in methods
    ]


async def send(
    client: httpx.AsyncClient, method: str, path: str, call: Call, user: AppUser | None
) -> list[httpx.Response]:
    """The call, and for a list every further page (a canary on page 3 is still a leak)."""
    headers = {**(user.headers if user else {}), **call.headers}
    url = path.format(**call.path)
    params = dict(call.params or {})
    response = await client.request(
        method, url, json=call.json, data=call.data, params=params, headers=headers
    )
    responses = [response]
    while method == "GET" and response.is_success and (cursor := _next_cursor(response)):
        response = await client.get(url, params={**params, "cursor": cursor}, headers=headers)
        responses.append(response)
    return responses


def _next_cursor(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    body = response.json()
    return body.get("next_cursor") if isinstance(body, dict) else None


def shown(response: httpx.Response) -> str:
    """Everything a caller receives: the body and every header (a PDF's text as a reader
    extracts it: its streams are compressed)."""
    headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    if response.headers.get("content-type") == "application/pdf":
        return f"{headers}\n{pdf_text(response.content)}"
    return f"{headers}\n{response.text}"


def status_outside_its_place(response: httpx.Response, path: str, caller: str) -> bool:
    """Whether the rare status shows where DESIGN §5 does not put it on purpose."""
    if RARE_STATUS not in shown(response):
        return False
    body = response.json() if "json" in response.headers.get("content-type", "") else None
    if caller == "auditor" and path == f"{API}/audit/events" and isinstance(body, dict):
        # The immigration track is visible to auditors, and only it may name a status.
        others = [e for e in body["items"] if e["track"] != "immigration"]
        return RARE_STATUS in json.dumps(others)
    if path.startswith(f"{API}/statistics/") and isinstance(body, dict):
        # A status may label an aggregate row, never appear in anything else.
        rows = [{k: v for k, v in r.items() if k not in {"group", "label"}} for r in body["rows"]]
        return RARE_STATUS in json.dumps({**body, "rows": rows})
    return True


@dataclass
class Findings:
    called: set[tuple[str, str]] = field(default_factory=set)
    succeeded: set[tuple[str, str]] = field(default_factory=set)
    leaks: list[str] = field(default_factory=list)
    seen_in_place: int = 0

    def judge(
        self, route: tuple[str, str], caller: str, responses: list[httpx.Response], token: str
    ) -> None:
        self.called.add(route)
        for response in responses:
            if response.is_success:
                self.succeeded.add(route)
            where = f"{route[0]} {response.request.url} as {caller} → {response.status_code}"
            allowed = route in IMMIGRATION_ROUTES and caller == "immigration_officer"
            if token in shown(response):
                if allowed:
                    self.seen_in_place += 1
                else:
                    self.leaks.append(f"Home Office reference: {where}")
            if not allowed and status_outside_its_place(response, route[1], caller):
                self.leaks.append(f"immigration status: {where}")


async def stored_outside_the_compartment(db: AsyncSession, token: str) -> list[str]:
    """Tables other than the compartment's holding the canary; events off the immigration track
    naming the rare status."""
    found: list[str] = []
    for table in Base.metadata.sorted_tables:
        if table.name == ImmigrationRecord.__tablename__:
            continue
        rows = (await db.execute(select(table))).all()
        if token in repr(rows):
            found.append(f"{table.name} holds the Home Office reference")
    events = await db.scalars(select(AuditEvent).where(AuditEvent.track != "immigration"))
    for event in events.all():
        if RARE_STATUS in json.dumps(event.changes) or RARE_STATUS in event.canonical:
            found.append(f"event {event.seq} ({event.action}, {event.track}) names the status")
    return found


class TestNoImmigrationFactLeaks:
    async def test_every_route_as_every_caller_around_canary_referrals(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        db: AsyncSession,
    ) -> None:
        routes = schema_routes(app)
        missing = sorted(set(routes) - set(EXAMPLES))
        assert not missing, f"add an example to EXAMPLES in {leak_examples.__file__}: {missing}"
        world = await arrange(app, sessions, client, db)
        findings = Findings()
        for route in routes:
            for caller, member in CALLERS.items():
                user: AppUser | None = getattr(world.cast, member) if member else None
                for call in await EXAMPLES[route](world, caller, user):
                    responses = await send(client, *route, call, user)
                    findings.judge(route, caller, responses, world.token)
        assert findings.leaks == []
        assert sorted(set(routes) - findings.called) == []
        assert sorted(set(routes) - findings.succeeded) == [], "never answered with a 2xx"
        assert await stored_outside_the_compartment(db, world.token) == []
        # The detector works: the canary was seen where it belongs.
        assert findings.seen_in_place > 0
