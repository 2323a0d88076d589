"""Recording a read of a referral's personal data (DESIGN §6), for every door that shows one:
the API's `GET /referrals/{id}` and the referral's web page write the same event.

Never commits; the event rides in the request's transaction, so a read whose event cannot be
stored sends nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import Track
from app.identity.principal import Principal
from app.referrals.models import Referral


async def record_view(
    session: AsyncSession,
    viewer: Principal,
    referral: Referral,
    *,
    action: Action = Action.REFERRAL_VIEWED,
    view: str,
    now: datetime,
) -> None:
    """One access event naming the view that was disclosed (`full`, `pseudonymised`,
    `outcome`), never a copy of the data."""
    await audit.record(
        session,
        viewer.audit_ref(),
        action=action,
        track=Track.ACCESS,
        now=now,
        referral_id=referral.id,
        changes={"view": {"after": view}},
    )
