"""`/referrals/{id}/timeline`: a referral's decision timeline (WEB.md "Pages").

It calls `referrals.timeline.timeline`, the service function of the API's `GET
/referrals/{id}/timeline`, behind the same role gate (`timeline:read`: 403 for first
responders, panel members and the rest) and with the same visibility: auditors see any
referral's timeline (with the access events), decision makers only their own unit's; anyone
else is 404, as for a referral they cannot see. Nothing here writes an event, as in the API.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.identity.permissions import Permission, holds
from app.identity.principal import Principal
from app.identity.roles import Role
from app.referrals import timeline
from app.referrals.models import Referral
from app.web import numbers, oversight_words
from app.web.pages import Page, PageRoute, signed_in

router = APIRouter(route_class=PageRoute)
TimelineReader = Annotated[Page, Depends(signed_in(Permission.READ_TIMELINE))]


def url_for(principal: Principal, referral: Referral) -> str | None:
    """The timeline's address when this person may see it (the API's rule: auditors, and
    decision makers of the routed unit), for the link on the referral's page."""
    readable = holds(principal.roles, Permission.READ_TIMELINE) and timeline.may_read(
        principal, referral
    )
    return f"/referrals/{referral.id}/timeline" if readable else None


@router.get("/referrals/{referral_id}/timeline")
async def show_timeline(page: TimelineReader, referral_id: uuid.UUID) -> Response:
    """The stages that happened, with who, when, due and met, then the events."""
    read, _version = await timeline.timeline(page.session, page.actor, referral_id)
    return page.render(
        "timeline.html",
        referral_id=referral_id,
        timeline=read,
        stage_name=oversight_words.stage_name,
        action_name=oversight_words.action_name,
        track_name=oversight_words.track_name,
        role_names=oversight_words.role_names,
        auditor=page.actor.has(Role.AUDITOR),
        **numbers.GLOBALS,
    )
