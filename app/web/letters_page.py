"""`/referrals/{id}/letters/{letter_id}`: a decision letter's PDF from the referral page's link,
for the same people and with the same `letter.downloaded` event as the API's (the role gate
here, the rest in `app.letters.download`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.http import RequestNow
from app.identity.permissions import Permission
from app.letters import download as letters
from app.web.pages import Page, PageRoute, signed_in

router = APIRouter(route_class=PageRoute)
Downloader = Annotated[Page, Depends(signed_in(Permission.DOWNLOAD_LETTER))]


@router.get("/referrals/{referral_id}/letters/{letter_id}")
async def download_letter(
    page: Downloader, referral_id: uuid.UUID, letter_id: uuid.UUID, now: RequestNow
) -> Response:
    found = await letters.download(
        page.session, page.actor, referral_id, letter_id, now=now, settings=page.settings
    )
    response = Response(
        found.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )
    page.finish(response)
    return response
