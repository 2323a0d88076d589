"""`nrm seed demo` files referrals in several states, through the real services, once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit.models import AuditEvent
from app.demo import seed
from app.referrals.models import Referral
from tests.conftest import fresh_engine
from tests.databases import settings_for


@pytest.mark.committing
class TestDemoReferrals:
    async def test_reach_several_states_with_their_events_and_a_second_run_adds_none(
        self, throwaway: str
    ) -> None:
        settings = settings_for(throwaway)
        assert (await seed(settings)).endswith("8 referrals filed")
        assert (await seed(settings)).endswith("0 referrals filed")
        engine = fresh_engine(throwaway)
        try:
            async with engine.connect() as connection:
                rows = (
                    await connection.execute(
                        select(Referral.status, Referral.is_child, Referral.id)
                    )
                ).all()
                submitted = (
                    (
                        await connection.execute(
                            select(AuditEvent.referral_id).where(
                                AuditEvent.action == "referral.submitted"
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
        finally:
            await engine.dispose()
        assert Counter(r.status for r in rows) == {
            "awaiting_rg": 3,
            "recovery_period": 1,
            "rg_negative": 1,
            "cg_positive": 1,
            "suspended": 1,
            "withdrawn": 1,
        }
        assert any(r.is_child for r in rows)
        assert sorted(map(str, submitted)) == sorted(str(r.id) for r in rows)

    async def test_a_child_is_routed_to_the_cardiff_panel(self, throwaway: str) -> None:
        await seed(settings_for(throwaway))
        engine = fresh_engine(throwaway)
        try:
            async with AsyncSession(bind=engine) as session:
                child = await session.scalar(
                    select(Referral)
                    .where(Referral.is_child.is_(True))
                    .options(selectinload(Referral.routed_to))
                )
                assert child is not None
                assert child.routed_to.code == "cardiff-child-decision-panel"
        finally:
            await engine.dispose()
