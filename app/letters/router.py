"""`GET /referrals/{id}/letters/{letter_id}` (CASEWORK "Decision letters"): a decision letter as
a PDF attachment. The role gate (403) is here; visibility (404), the PDF and the
`letter.downloaded` event are `app.letters.download`'s. Thin by rule (STYLE.md).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from starlette.requests import Request
from starlette.responses import Response

from app.http import DbSession, RequestNow, get_app_settings
from app.identity.deps import Requires
from app.identity.permissions import Permission
from app.identity.principal import Principal
from app.letters import download as letters
from app.routing import api_router

router = api_router(tags=["letters"])

Downloader = Annotated[Principal, Requires(Permission.DOWNLOAD_LETTER)]


@router.get(
    "/referrals/{referral_id}/letters/{letter_id}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The letter's PDF."}},
)
async def download_letter(
    request: Request,
    session: DbSession,
    downloader: Downloader,
    referral_id: uuid.UUID,
    letter_id: uuid.UUID,
    now: RequestNow,
) -> Response:
    """A decision letter to the person, as a PDF to pass on: for the referring organisation's
    first responders and the deciding unit's decision makers and panel members (404 for a
    referral they may not see or a letter not on it). Each download is a `letter.downloaded`
    audit event."""
    settings = get_app_settings(request)
    found = await letters.download(
        session, downloader, referral_id, letter_id, now=now, settings=settings
    )
    disposition = f'attachment; filename="{found.filename}"'
    return Response(
        found.content, media_type="application/pdf", headers={"Content-Disposition": disposition}
    )
