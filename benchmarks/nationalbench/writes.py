"""The write figures of `benchmarks/national.py` on one database: filing against the bare
insert (and, on PostgreSQL, against pgbench), /healthz against a bare app's, and filing at
twice the rate the service sustained."""

from __future__ import annotations

import json
from datetime import date, timedelta

from nationalbench import figures, servers
from nationalbench.figures import Result
from nationalbench.runs import Run, bearer, closed, get, load, say

RESPONDER = "demo-first-responder"


def filing_form() -> str:
    """A referral as a first responder files it: an adult who consents, with immigration."""
    recorded = (date.today() - timedelta(days=7)).isoformat()
    form = {
        "potential_victim": {
            "given_name": "Ana", "family_name": "Popescu", "other_names": [],
            "date_of_birth": "1999-04-02", "estimated_age": None, "gender": "female",
            "nationality": "RO", "languages": ["ro"], "interpreter_needed": True,
            "correspondence_language": "en",
        },
        "consent": {"given": True, "recorded_on": recorded},
        "exploitation": {
            "types": ["sexual", "labour"], "location": "uk", "local_authority": "W06000015",
            "began_on": "2025-06-01", "ongoing": False, "exploited_as_child": False,
        },
        "indicators": ["withheld_documents", "debt_bondage"],
        "account": "What the first responder saw and was told. " * 10,
        "immigration": {"status": "visa_overstayer", "home_office_reference": "HO-123456"},
    }  # fmt: skip
    return json.dumps(form)


def bare_writes(run: Run, url: str) -> tuple[Result, Result]:
    """The bare app's /healthz and insert, at the run's concurrency."""
    form = {"method": "POST", "path": "/referrals", "body": filing_form()}
    bare = servers.start_bare(url, run.args.workers, run.settings, run.logs)
    try:
        health = load("bare app, GET /healthz", closed(run, bare.port, [get("/healthz")]))
        insert = load("bare app, POST /referrals (one row)", closed(run, bare.port, [form]))
    finally:
        bare.stop()
    return health, insert


def service_writes(run: Run, url: str) -> tuple[Result, Result, Result | None]:
    """The service's /healthz and filing, then filing offered at twice the rate it sustained."""
    form = {"method": "POST", "path": "/api/v1/referrals", "body": filing_form()}
    service = servers.start_service(url, run.args.workers, run.settings, run.logs)
    try:
        health = load("service, GET /healthz", closed(run, service.port, [get("/healthz")]))
        auth = bearer(service.port, RESPONDER)
        filing = load(
            "service, POST /api/v1/referrals (Idempotency-Key)",
            closed(run, service.port, [form], headers=auth, idempotency=True),
        )
        over = None
        if run.args.overload_seconds:
            job = closed(
                run, service.port, [form], headers=auth, idempotency=True,
                rate=2 * filing["rps"], seconds=run.args.overload_seconds,
                max_connections=run.args.overload_connections,
            )  # fmt: skip
            over = load(f"service, filing offered at {job.rate:,.1f}/s (open loop)", job)
    finally:
        service.stop()
    return health, filing, over


def writes(run: Run, url: str, backend: str, pgbench_tps: float | None) -> None:
    """Every write figure on the database at `url` (migrated and given the demo users here)."""
    say(f"\n### Writes on {backend}\n")
    servers.prepare(url)
    bare_health, bare_insert = bare_writes(run, url)
    health, filing, over = service_writes(run, url)
    clients = run.args.clients
    run.rows.extend(figures.throughput(backend, filing, bare_insert, pgbench_tps, clients))
    run.rows.append(figures.healthz(health, bare_health, clients, backend))
    if over is not None:
        run.rows.append(figures.overload(over, filing["rps"], clients, backend))
