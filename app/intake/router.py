"""POST /referrals and POST /duty-to-notify, both idempotent with `Idempotency-Key`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header
from starlette.requests import Request
from starlette.responses import JSONResponse

from app import idempotency
from app.http import DbSession, RequestNow, etag, get_app_settings
from app.identity.deps import Requires
from app.identity.permissions import Permission
from app.identity.principal import Principal
from app.intake import service
from app.intake.schemas import (
    DutyToNotifyCreate,
    DutyToNotifyExploitationRead,
    DutyToNotifyRead,
    ReferralCreate,
)
from app.openapi import problems
from app.referrals import presenters
from app.referrals.schemas import ReferralRead
from app.routing import api_router

router = api_router(tags=["intake"])

FirstResponder = Annotated[Principal, Requires(Permission.FILE_REFERRAL)]
Notifier = Annotated[Principal, Requires(Permission.FILE_DUTY_TO_NOTIFY)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
Created = tuple[dict[str, Any], dict[str, str]]
# 409: a retry while the first request with the same Idempotency-Key is still running.
_IN_FLIGHT = problems(409)


async def respond_once(
    request: Request,
    session: DbSession,
    actor: Principal,
    key: str | None,
    now: RequestNow,
    create: Callable[[], Awaitable[Created]],
) -> JSONResponse:
    """Run `create` once per idempotency key; replay the first response to retries."""
    if key is None:
        body, headers = await create()
        return JSONResponse(body, status_code=201, headers=headers)

    async def created() -> idempotency.StoredResponse:
        body, headers = await create()
        return idempotency.StoredResponse(201, body, headers)

    answer = await idempotency.run_once(
        session,
        user_id=actor.id,
        endpoint=request.url.path,
        key=key,
        request_hash=idempotency.body_hash(await request.body()),
        now=now,
        ttl=timedelta(hours=get_app_settings(request).idempotency_ttl_hours),
        create=created,
    )
    return JSONResponse(answer.body, status_code=answer.status_code, headers=answer.headers)


@router.post("/referrals", status_code=201, response_model=ReferralRead, responses=_IN_FLIGHT)
async def file_referral(
    request: Request,
    session: DbSession,
    actor: FirstResponder,
    body: ReferralCreate,
    now: RequestNow,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """File a referral as a first responder. It is routed at once: an adult's to the All-Wales
    decision unit, a child's to their local authority's child decision panel where it runs
    one. An adult must consent (422 otherwise: file a duty-to-notify report instead); the
    `immigration` part goes to the immigration compartment and never appears in the referral.
    A retry with the same `Idempotency-Key` and body returns the first answer."""

    async def create() -> Created:
        settings = get_app_settings(request)
        referral = await service.file_referral(session, settings, actor, body, now=now)
        headers = {"Location": f"/api/v1/referrals/{referral.id}", "ETag": etag(referral.version)}
        return presenters.full(referral).model_dump(mode="json"), headers

    return await respond_once(request, session, actor, idempotency_key, now, create)


@router.post(
    "/duty-to-notify", status_code=201, response_model=DutyToNotifyRead, responses=_IN_FLIGHT
)
async def file_duty_to_notify(
    request: Request,
    session: DbSession,
    actor: Notifier,
    body: DutyToNotifyCreate,
    now: RequestNow,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """File an anonymous duty-to-notify report for an adult who does not consent to a
    referral: gender, nationality and the exploitation only, never a name or anything else
    that identifies the person. Idempotent with `Idempotency-Key`, as a referral is."""

    async def create() -> Created:
        report = await service.file_duty_to_notify(session, actor, body, now=now)
        read = DutyToNotifyRead(
            id=report.id,
            reference=report.reference,
            created_at=report.created_at,
            organisation=actor.organisation_code,
            gender=report.gender,
            nationality=report.nationality,
            exploitation=DutyToNotifyExploitationRead(
                types=report.exploitation_types,
                location=report.exploitation_location,
                local_authority=report.local_authority,
            ),
        )
        # JSON, because a retry with the same Idempotency-Key replays exactly these bytes.
        return read.model_dump(mode="json"), {"Location": f"/api/v1/duty-to-notify/{report.id}"}

    return await respond_once(request, session, actor, idempotency_key, now, create)
