"""What the referral page needs to offer the age assessment and reroute forms (WEB.md "Pages"):
whether the age form asks for consent (only when none is on file: a person found to be an adult
must have consented, `case_commands.record_age`), and the decision units the referral may be
sent to, by their names in the page's language.

Each is asked only when `command_steps.permitted` offers the command, or when its form was
just refused and is shown again with what was typed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import labels
from app.identity.models import Organisation
from app.identity.roles import Sector
from app.referrals.models import Referral


async def routing_forms(
    session: AsyncSession, referral: Referral, allowed: set[str], sent: str, *, language: str
) -> dict[str, Any]:
    """The forms' context: `units` is None when the reroute form is not offered."""
    age = "record_age" in allowed or sent == "age"
    context: dict[str, Any] = {"age_form": age, "age_consent": age and not referral.consent_given}
    if "reroute" not in allowed and sent != "reroute":
        return {**context, "units": None}
    found = await session.scalars(
        select(Organisation).where(
            Organisation.sector == Sector.DECISION_UNIT.value,
            Organisation.id != referral.routed_to_id,
        )
    )
    units = [(u.code, labels.local_name(u, language)) for u in found]
    return {**context, "units": sorted(units, key=lambda unit: unit[1])}
