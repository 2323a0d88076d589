"""Routes of the immigration compartment (API.md "Immigration compartment"), for immigration
officers only (anyone else: 403 from the role gate, before anything is looked at).

`GET`/`PUT /referrals/{id}/immigration` read and write the record with its own ETag (created
with `If-None-Match: *`, changed with `If-Match`); `GET /immigration/lookup` finds the referral
a Home Office reference belongs to. Thin by rule: parse, call the service, present, set the
ETag. Nothing here touches the referral (DESIGN §5) or commits.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from app.http import DbSession, IfMatch, IfNoneMatch, RequestNow, etag
from app.identity.deps import Requires
from app.identity.permissions import Permission
from app.identity.principal import Principal
from app.immigration import service
from app.immigration.schemas import (
    HomeOfficeReference,
    ImmigrationRead,
    ImmigrationWrite,
    LookupRead,
)
from app.openapi import problems
from app.routing import api_router

router = api_router(tags=["immigration"])

Reader = Annotated[Principal, Requires(Permission.READ_IMMIGRATION)]
Writer = Annotated[Principal, Requires(Permission.WRITE_IMMIGRATION)]

_PATH = "/referrals/{referral_id}/immigration"


@router.get(_PATH, response_model=ImmigrationRead)
async def read_record(
    response: Response, session: DbSession, reader: Reader, referral_id: uuid.UUID, now: RequestNow
) -> ImmigrationRead:
    """The referral's immigration record and its ETag; 404 when there is no such referral or
    no record. Every read is an `immigration.viewed` event."""
    record = await service.read(session, reader.audit_ref(), referral_id, now=now)
    response.headers["ETag"] = etag(record.version)
    return ImmigrationRead.of(record)


@router.put(_PATH, response_model=ImmigrationRead)
async def write_record(
    response: Response,
    session: DbSession,
    writer: Writer,
    referral_id: uuid.UUID,
    body: ImmigrationWrite,
    now: RequestNow,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> ImmigrationRead:
    """Create the record (`If-None-Match: *`; 412 when one exists) or change it (`If-Match`
    with its ETag; 412 when stale or when there is none); 428 without either; 404 when the
    referral does not exist. Answers 200 with the record and its new ETag."""
    record = await service.put(
        session,
        writer.audit_ref(),
        referral_id,
        status=body.status,
        home_office_reference=body.home_office_reference,
        if_match=if_match,
        if_none_match=if_none_match,
        now=now,
    )
    response.headers["ETag"] = etag(record.version)
    return ImmigrationRead.of(record)


@router.get("/immigration/lookup", response_model=LookupRead, responses=problems(404))
async def look_up(
    session: DbSession,
    reader: Reader,
    home_office_reference: Annotated[HomeOfficeReference, Query()],
    now: RequestNow,
) -> LookupRead:
    """The referral holding this Home Office reference (exact match; the newest referral when
    several do), so the officer can read its outcome; 404 when none."""
    found = await service.look_up(session, reader.audit_ref(), home_office_reference, now=now)
    return LookupRead(referral_id=found.referral_id, reference=found.reference)
