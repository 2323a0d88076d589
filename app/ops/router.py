"""Operations endpoints: liveness, readiness, Prometheus metrics, and the test clock.

`/healthz` never touches the database; `/readyz` does (503 when it cannot). The test clock
routes exist only when `NRM_TEST_CLOCK=1`, which production refuses; the clock stays within
`clock.MAX_OFFSET_DAYS` of the real date (422 beyond).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.responses import PlainTextResponse, Response

from app import clock
from app.errors import DatabaseUnavailable
from app.http import AppSessions, AppSettings, DbSession, ReadOnlyDbSession
from app.identity.deps import Requires
from app.identity.permissions import Permission
from app.identity.principal import Principal
from app.routing import api_router
from app.schemas import RequestModel, ResponseModel, StrictInt

router = api_router(tags=["operations"])
test_clock_router = api_router(tags=["test clock"])

TestClockUser = Annotated[Principal, Requires(Permission.USE_TEST_CLOCK)]


class StatusRead(ResponseModel):
    """A probe's answer: `ok` (alive) or `ready` (the database answers)."""

    status: str


@router.get("/healthz")
async def healthz() -> StatusRead:
    """Liveness: the process is up. It never touches the database."""
    return StatusRead(status="ok")


@router.get("/readyz")
async def readyz(sessions: AppSessions) -> StatusRead:
    """Readiness: the database answers; 503 with `Retry-After` when it does not."""
    try:
        async with asyncio.timeout(3):
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
    except (DBAPIError, OSError, TimeoutError) as exc:
        raise DatabaseUnavailable("the database does not answer") from exc
    return StatusRead(status="ready")


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics() -> Response:
    """Prometheus metrics in its text format; expose it on an internal network only."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class ClockRead(ResponseModel):
    now: datetime


class ClockAdvance(RequestModel):
    advance_days: Annotated[StrictInt, Field(ge=-clock.MAX_OFFSET_DAYS, le=clock.MAX_OFFSET_DAYS)]


@test_clock_router.get("/test-clock")
async def read_test_clock(
    session: ReadOnlyDbSession, settings: AppSettings, _u: TestClockUser
) -> ClockRead:
    """The service's clock, as every rule that reads time sees it (`NRM_TEST_CLOCK=1` only)."""
    now = await clock.service_now(session, settings)
    return ClockRead(now=now.astimezone(UTC))


@test_clock_router.post("/test-clock")
async def advance_test_clock(
    session: DbSession, settings: AppSettings, _u: TestClockUser, body: ClockAdvance
) -> ClockRead:
    """Move the service's clock by whole days for every rule that reads time, in every worker
    (`NRM_TEST_CLOCK=1` only; production refuses that setting)."""
    await clock.advance(session, body.advance_days)
    now = await clock.service_now(session, settings)
    return ClockRead(now=now.astimezone(UTC))
