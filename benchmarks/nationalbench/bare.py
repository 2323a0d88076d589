"""The bare endpoint of `benchmarks/national.py`: the reference a filing is compared with.

A minimal Starlette app (no FastAPI, no middleware) over the service's own engine
(`app.db.create_engine` with the statement time limit, as `app.main.create_app` makes it).
`POST /referrals` takes the same JSON form as `POST /api/v1/referrals` and inserts the row a
filing inserts into `referrals` (every column, from the same fields) in one transaction, then
answers 201 with its id. Nothing else: no token, no validation, no reference counter, no
exploitation types, immigration record, audit events, idempotency claim or representation.
`GET /healthz` answers without the database: the HTTP stack's own ceiling.

Served by uvicorn (`--factory nationalbench.bare:create`, with `benchmarks/` as `--app-dir`)
with `NRM_DATABASE_URL` naming the database; the submitter is `demo-first-responder` and the
deciding unit `all-wales-decision-unit`, looked up once per worker.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.db import create_engine
from app.identity.models import Organisation, User
from app.referrals.models import Referral
from app.settings import get_settings

SUBMITTER = "demo-first-responder"
UNIT = "all-wales-decision-unit"


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def referral_row(form: dict[str, Any], ids: dict[str, uuid.UUID]) -> dict[str, Any]:
    """The `referrals` row of a filing of `form`, unchecked (the deadline is a week on)."""
    victim, exploitation = form["potential_victim"], form["exploitation"]
    consent = form.get("consent") or {}
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4(),
        "reference": f"BARE-{uuid.uuid4().hex[:24]}",
        "status": "awaiting_rg",
        "version": 1,
        "created_at": now,
        "created_on": now.date(),
        "is_child": False,
        **ids,
        "given_name": victim.get("given_name"),
        "family_name": victim.get("family_name"),
        "other_names": victim.get("other_names", []),
        "date_of_birth": _date(victim.get("date_of_birth")),
        "estimated_age": victim.get("estimated_age"),
        "gender": victim["gender"],
        "nationality": victim.get("nationality"),
        "languages": victim.get("languages", []),
        "interpreter_needed": victim.get("interpreter_needed", False),
        "correspondence_language": victim.get("correspondence_language", "en"),
        "consent_given": consent.get("given"),
        "consent_recorded_on": _date(consent.get("recorded_on")),
        "exploitation_location": exploitation["location"],
        "local_authority": exploitation["local_authority"],
        "exploitation_began_on": _date(exploitation.get("began_on")),
        "exploitation_ongoing": exploitation.get("ongoing"),
        "exploited_as_child": exploitation.get("exploited_as_child"),
        "indicators": form.get("indicators", []),
        "account": form["account"],
        "rg_due": now.date() + timedelta(days=7),
    }


async def _ids(engine: AsyncEngine) -> dict[str, uuid.UUID]:
    async with engine.connect() as connection:
        user = (
            await connection.execute(
                select(User.id, User.organisation_id).where(User.username == SUBMITTER)
            )
        ).one()
        unit = await connection.scalar(select(Organisation.id).where(Organisation.code == UNIT))
    assert unit is not None, f"no organisation {UNIT}"
    return {
        "referring_organisation_id": user.organisation_id,
        "submitted_by_id": user.id,
        "routed_to_id": unit,
    }


def create() -> Starlette:
    """The app, on `NRM_DATABASE_URL` with the service's engine settings."""
    settings = get_settings()
    engine = create_engine(settings, time_limit_ms=settings.statement_timeout_ms)
    ids: dict[str, uuid.UUID] = {}

    async def file(request: Request) -> JSONResponse:
        if not ids:
            ids.update(await _ids(engine))
        row = referral_row(json.loads(await request.body()), ids)
        async with engine.begin() as connection:
            await connection.execute(insert(Referral), row)
        return JSONResponse({"id": str(row["id"])}, status_code=201)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/referrals", file, methods=["POST"]), Route("/healthz", healthz)]
    )
