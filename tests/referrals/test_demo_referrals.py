"""`nrm seed demo` files referrals in several states, through the real services, once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit.models import AuditEvent
from app.db import create_sessionmaker, transaction
from app.demo import RefusedInProduction, principal, seed
from app.identity.models import Organisation, User
from app.referrals import decision_commands, queries
from app.referrals.command_schemas import DecisionRequest, ReviewRequest
from app.referrals.models import Referral
from app.referrals.workflow import Outcome, Stage, Status
from app.settings import Settings
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

    async def test_the_child_panel_gives_its_own_second_review(self, throwaway: str) -> None:
        settings = settings_for(throwaway)
        await seed(settings)
        engine = fresh_engine(throwaway)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                child = await session.scalar(select(Referral.id).where(Referral.is_child))
                assert child is not None
                decider = await principal(session, "demo-child-panel-decider")
                reviewer = await principal(session, "demo-child-panel-reviewer")
                referral = await queries.load(session, None, child)
                proposed = await decision_commands.decide(
                    session,
                    decider,
                    child,
                    expected_version="*",
                    body=DecisionRequest(
                        stage=Stage.REASONABLE_GROUNDS,
                        outcome=Outcome.NEGATIVE,
                        reasons="Demo: the account does not meet the test.",
                    ),
                    now=referral.created_at,
                    settings=settings,
                )
                reviewed = await decision_commands.review(
                    session,
                    reviewer,
                    child,
                    proposed.answer.id,
                    expected_version="*",
                    body=ReviewRequest(agree=True, comments="Second review at the panel."),
                    now=referral.created_at,
                    settings=settings,
                )
                assert reviewed.referral.status == Status.RG_NEGATIVE
                panel = await session.scalar(
                    select(User.username)
                    .join(Organisation, User.organisation_id == Organisation.id)
                    .where(Organisation.code == "cardiff-child-decision-panel")
                    .where(User.username == "demo-child-panel-member")
                )
                assert panel == "demo-child-panel-member"
        finally:
            await engine.dispose()

    async def test_the_oversight_office_decides_nothing(self, throwaway: str) -> None:
        await seed(settings_for(throwaway))
        engine = fresh_engine(throwaway)
        try:
            async with engine.connect() as connection:
                sector = await connection.scalar(
                    select(Organisation.sector).where(Organisation.code == "wales-nrm-oversight")
                )
        finally:
            await engine.dispose()
        assert sector == "oversight"


class TestDemoInProduction:
    async def test_is_refused_before_touching_the_database(self) -> None:
        settings = Settings.model_validate(
            {
                "env": "production",
                "secret_key": "s" * 32,
                "audit_signing_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                "database_url": "postgresql://nobody@127.0.0.1:9/none",
            }
        )
        with pytest.raises(RefusedInProduction, match="published password"):
            await seed(settings)
