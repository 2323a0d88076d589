"""Where a referral is decided (DESIGN §3): adults by the All-Wales decision unit; a child by
the child decision panel of their local authority where it runs one, else the All-Wales unit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.identity.models import Organisation
from app.identity.roles import Sector

ALL_WALES_DECISION_UNIT = "all-wales-decision-unit"


async def deciding_unit(
    session: AsyncSession, *, is_child: bool, local_authority: str
) -> Organisation:
    """The one organisation that decides this referral."""
    if is_child:
        panel = await session.scalar(
            select(Organisation)
            .where(
                Organisation.sector == Sector.DECISION_UNIT.value,
                Organisation.local_authority == local_authority,
            )
            .order_by(Organisation.code)
            .limit(1)
        )
        if panel is not None:
            return panel
    unit = await session.scalar(
        select(Organisation).where(Organisation.code == ALL_WALES_DECISION_UNIT)
    )
    if unit is None:  # reference data missing: an operator error, not the client's
        raise RuntimeError("reference data not loaded: run `nrm db upgrade`")
    return unit


def routing_rule(unit_code: str, *, is_child: bool) -> str:
    """Which rule routed a referral to this unit, as its `referral.routed` event names it."""
    if not is_child:
        return "adult"
    if unit_code == ALL_WALES_DECISION_UNIT:
        return "child_without_a_local_panel"
    return "child_decision_panel"
