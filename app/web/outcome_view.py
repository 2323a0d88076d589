"""A referral's identification outcome for a page, read as `GET /referrals/{id}/outcome` reads it.

The same gate (`referrals:read_outcome`: 403 for any other role), the same visibility (the
referrer's first responders; immigration officers for any referral; 404 otherwise), the same
presenter (status and the dates the decisions took effect: never names, the account or reasons)
and the same audit event: an immigration officer's read is a `referral.outcome_viewed` on the
access track (DESIGN §5: victim status flows one way, and each time it does is recorded).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.actions import Action
from app.identity.deps import check_permission
from app.identity.permissions import Permission
from app.identity.principal import Principal
from app.identity.roles import Role
from app.referrals import access, presenters, queries
from app.referrals.schemas import OutcomeRead


async def read_outcome(
    session: AsyncSession, reader: Principal, referral_id: uuid.UUID, *, now: datetime
) -> OutcomeRead:
    """The outcome this reader may see, its read audited as the API's."""
    check_permission(reader, Permission.READ_OUTCOME)
    referral = await queries.get_outcome_of(session, reader, referral_id)
    if reader.has(Role.IMMIGRATION_OFFICER):
        action = Action.REFERRAL_OUTCOME_VIEWED
        await access.record_view(session, reader, referral, action=action, view="outcome", now=now)
    return presenters.outcome(referral)
