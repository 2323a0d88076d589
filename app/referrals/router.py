"""Reading referrals (API.md "Referrals"): GET /referrals/{id}, GET /referrals and
GET /referrals/{id}/outcome.

Each route checks the role (403), reads through the visibility filter in `queries` (404), presents
for the kind of viewer and sets the referral's ETag. Every read of a referral's personal data
writes one `referral.viewed` event on the access track in the request's transaction, so a read
whose event cannot be stored sends nothing (DESIGN §6). Nothing here changes a referral: the
workflow commands live in `workflow_router` and `commands`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from app.audit.actions import Action
from app.http import DbSession, Paging, RequestNow, etag, get_app_settings
from app.identity.deps import Requires
from app.identity.permissions import Permission
from app.identity.principal import Principal
from app.identity.roles import Role
from app.referrals import access, presenters, queries
from app.referrals.schemas import (
    AuditorReferralRead,
    OutcomeRead,
    ReferralRead,
    ReferralSummary,
)
from app.referrals.workflow import Status
from app.routing import api_router
from app.schemas import Page

router = api_router(tags=["referrals"])

Reader = Annotated[Principal, Requires(Permission.READ_REFERRAL)]
OutcomeReader = Annotated[Principal, Requires(Permission.READ_OUTCOME)]


@router.get("/referrals/{referral_id}", response_model=ReferralRead | AuditorReferralRead)
async def read_referral(
    request: Request,
    response: Response,
    session: DbSession,
    viewer: Reader,
    referral_id: uuid.UUID,
    now: RequestNow,
) -> ReferralRead | AuditorReferralRead:
    """The referral as this viewer may see it: in full for the referrer's first responders
    and the routed unit, pseudonymised for auditors; 404 when not visible."""
    referral = await queries.load(session, viewer, referral_id)
    view = presenters.for_viewer(referral, viewer, get_app_settings(request).secret_key)
    kind = "full" if isinstance(view, ReferralRead) else "pseudonymised"
    await access.record_view(session, viewer, referral, view=kind, now=now)
    response.headers["ETag"] = etag(referral.version)
    return view


@router.get("/referrals", response_model=Page[ReferralSummary])
async def list_referrals(
    session: DbSession,
    viewer: Reader,
    paging: Paging,
    status: Annotated[Status | None, Query()] = None,
    created_from: Annotated[date | None, Query()] = None,
    created_to: Annotated[date | None, Query()] = None,
) -> Page[ReferralSummary]:
    """Summaries of the referrals this user may see, **newest first**: ordered by `created_at`
    then `id`, both descending, and paged by keyset on that pair, so following `next_cursor`
    never repeats or skips a referral. `created_from`/`created_to` are inclusive Welsh dates of
    submission; `status` is one of the referral statuses."""
    # No access event: a summary holds no personal data (reference, status, dates, unit).
    filters = queries.ListFilters(status, created_from, created_to)
    after = paging.after(queries.Keyset)
    rows, next_key = await queries.list_page(
        session, viewer, filters, after=after, limit=paging.limit
    )
    return Page(
        items=[presenters.summary(r) for r in rows],
        next_cursor=paging.next_cursor(next_key.cursor_values()) if next_key else None,
    )


@router.get("/referrals/{referral_id}/outcome", response_model=OutcomeRead)
async def read_outcome(
    response: Response,
    session: DbSession,
    reader: OutcomeReader,
    referral_id: uuid.UUID,
    now: RequestNow,
) -> OutcomeRead:
    """The identification outcome only (status and the dates the decisions took effect):
    for the referrer's first responders (404 for another organisation's referral) and for
    immigration officers, for any referral. Never the narrative or the reasons."""
    referral = await queries.get_outcome_of(session, reader, referral_id)
    if reader.has(Role.IMMIGRATION_OFFICER):
        # DESIGN §5: victim status flows one way, to the immigration side; each time it does
        # is audited. The referrer reading its own referral's outcome discloses nothing new.
        action = Action.REFERRAL_OUTCOME_VIEWED
        await access.record_view(session, reader, referral, action=action, view="outcome", now=now)
    response.headers["ETag"] = etag(referral.version)
    return presenters.outcome(referral)
