"""`nrm seed demo --referrals N`: a larger demo, filed through the real commands."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.demo import STORIES, seed
from app.identity.models import Organisation
from app.immigration.models import ImmigrationRecord
from app.referrals.models import Referral
from tests.conftest import fresh_engine
from tests.databases import settings_for

STATUSES = {
    "awaiting_rg",
    "recovery_period",
    "rg_negative",
    "cg_positive",
    "cg_negative",
    "suspended",
    "withdrawn",
}


@pytest.mark.committing
class TestLargeDemo:
    async def test_files_n_more_referrals_across_statuses_organisations_and_nationalities(
        self, throwaway: str
    ) -> None:
        settings = settings_for(throwaway)
        assert (await seed(settings, referrals=60)).endswith(f"{len(STORIES) + 60} referrals filed")
        engine = fresh_engine(throwaway)
        try:
            async with engine.connect() as connection:
                rows = (
                    await connection.execute(
                        select(
                            Referral.id,
                            Referral.status,
                            Referral.is_child,
                            Referral.nationality,
                            Organisation.code,
                        ).join(Organisation, Referral.referring_organisation_id == Organisation.id)
                    )
                ).all()
                submitted = await connection.scalar(
                    select(func.count()).where(AuditEvent.action == "referral.submitted")
                )
                records = await connection.scalar(select(func.count(ImmigrationRecord.id)))
                at_the_panel = await connection.scalar(
                    select(func.count(Referral.id))
                    .join(Organisation, Referral.routed_to_id == Organisation.id)
                    .where(Organisation.code == "cardiff-child-decision-panel")
                )
        finally:
            await engine.dispose()
        assert len(rows) == len(STORIES) + 60
        assert submitted == len(rows)  # every one filed through intake, with its event
        assert {r.status for r in rows} == STATUSES
        assert len({r.code for r in rows}) >= 8
        assert len({r.nationality for r in rows}) >= 8
        assert any(r.is_child for r in rows)
        assert (records or 0) >= 60
        assert (at_the_panel or 0) >= 2  # the story's child and generated ones

    async def test_a_second_run_adds_n_more_and_no_more_demo_stories(self, throwaway: str) -> None:
        settings = settings_for(throwaway)
        await seed(settings, referrals=5)
        assert (await seed(settings, referrals=5)).endswith(" 5 referrals filed")
