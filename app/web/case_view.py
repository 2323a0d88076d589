"""What the referral page needs to offer the assignment form (WEB.md "Pages"): the active
decision makers of the unit it is routed to, the reader first among them as "you".

Asked only when `command_steps.permitted` offers `assign`, or when the assignment form was
just refused and is shown again with the choice that was made.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.identity.principal import Principal
from app.identity.service import decision_makers_of
from app.referrals.models import Referral


async def case_forms(
    session: AsyncSession, referral: Referral, principal: Principal, allowed: set[str], sent: str
) -> dict[str, Any]:
    """The assignment form's context: `assignees` is None when the form is not offered."""
    if "assign" not in allowed and sent != "assign":
        return {"assignees": None}
    users = await decision_makers_of(session, referral.routed_to_id)
    users.sort(key=lambda u: u.id != principal.id)  # the reader first; stable otherwise
    return {"assignees": [(str(u.id), u.display_name, u.id == principal.id) for u in users]}
