"""Demo data for trying the service out: `nrm seed demo` (idempotent).

Demo organisations (a child decision panel for Cardiff, an immigration liaison, an oversight
office), one user per role with the documented demo password, and, through the referrals
feature, referrals in several states; `referrals=N` adds N generated ones (`app.demo_bulk`).
It refuses to run in production (`RefusedInProduction`): its users share a published password.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.clock import real_now, service_now
from app.days import wales_date
from app.db import create_engine, create_sessionmaker, transaction
from app.identity import service as identity
from app.identity.models import User
from app.identity.principal import Principal
from app.identity.roles import Role, Sector
from app.identity.schemas import OrganisationCreate, UserCreate
from app.intake import service as intake
from app.intake.schemas import ReferralCreate
from app.progress import Advance, progress
from app.referrals import case_commands, decision_commands
from app.referrals.command_schemas import (
    DecisionRequest,
    ReviewRequest,
    SuspendRequest,
    WithdrawRequest,
)
from app.referrals.models import Referral
from app.referrals.workflow import Outcome, Stage
from app.settings import Environment, Settings

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - documented in the README, demo only

DEMO_ORGANISATIONS = (
    OrganisationCreate(
        code="cardiff-child-decision-panel",
        name="Cardiff Child Decision Panel",
        email="child-panel@example.org",  # the team mailbox: bilingual notifications
        name_cy="Panel Penderfyniadau Plant Caerdydd",
        sector=Sector.DECISION_UNIT,
        local_authority="W06000015",
    ),
    OrganisationCreate(
        code="home-office-immigration-liaison",
        name="Home Office Immigration Liaison (Wales)",
        name_cy="Cyswllt Mewnfudo'r Swyddfa Gartref (Cymru)",
        sector=Sector.HOME_OFFICE,
    ),
    OrganisationCreate(
        code="wales-nrm-oversight",
        name="Wales NRM Oversight",
        name_cy="Goruchwylio NRM Cymru",
        sector=Sector.OVERSIGHT,  # inspects and audits; decides nothing, is routed nothing
    ),
)


class StepArgs(TypedDict):
    """What every demo step passes a command besides who, which referral and the body."""

    expected_version: str
    now: datetime
    settings: Settings


# (username, organisation, roles); the display name is the username in words.
DemoUser = tuple[str, str, tuple[Role, ...]]
DEMO_USERS: tuple[DemoUser, ...] = (
    ("demo-first-responder", "south-wales-police", (Role.FIRST_RESPONDER,)),
    ("demo-health-responder", "cardiff-and-vale-uhb", (Role.FIRST_RESPONDER,)),
    ("demo-decision-maker", "all-wales-decision-unit", (Role.DECISION_MAKER,)),
    ("demo-senior-decision-maker", "all-wales-decision-unit", (Role.SENIOR_DECISION_MAKER,)),
    ("demo-senior-reviewer", "all-wales-decision-unit", (Role.SENIOR_DECISION_MAKER,)),
    ("demo-panel-member", "all-wales-decision-unit", (Role.PANEL_MEMBER,)),
    ("demo-child-panel-decider", "cardiff-child-decision-panel", (Role.SENIOR_DECISION_MAKER,)),
    # A second senior decision maker and a panel member, so that the child panel's own second
    # review and panel review can be shown.
    ("demo-child-panel-reviewer", "cardiff-child-decision-panel", (Role.SENIOR_DECISION_MAKER,)),
    ("demo-child-panel-member", "cardiff-child-decision-panel", (Role.PANEL_MEMBER,)),
    ("demo-immigration-officer", "home-office-immigration-liaison", (Role.IMMIGRATION_OFFICER,)),
    ("demo-auditor", "wales-nrm-oversight", (Role.AUDITOR,)),
    ("demo-admin", "wales-nrm-oversight", (Role.ADMIN,)),
)


class RefusedInProduction(Exception):
    """`nrm seed demo` with `NRM_ENV=production`."""


async def seed(settings: Settings, *, referrals: int = 0) -> str:
    """Load the demo data once (a second run adds nothing), then file `referrals` generated
    referrals (each run adds that many)."""
    if settings.env is Environment.PRODUCTION:
        raise RefusedInProduction(
            "demo data are refused in production: the demo users share a published password"
        )
    from app import demo_bulk  # it builds on this module's steps

    engine = create_engine(settings)
    try:
        factory = create_sessionmaker(engine)
        with progress("seeding demo data", total=len(STORIES) + referrals) as advance:
            async with transaction(factory) as session:
                created = await _seed_identity(session, settings)
                filed = await _seed_referrals(session, settings, advance)
            if referrals:
                filed += await demo_bulk.file_referrals(factory, settings, referrals, advance)
    finally:
        await engine.dispose()
    return f"demo data: {created} users created, {filed} referrals filed"


async def _seed_identity(session: AsyncSession, settings: Settings) -> int:
    now = real_now()
    for organisation in DEMO_ORGANISATIONS:
        if await identity.organisation_by_code(session, organisation.code) is None:
            await identity.create_organisation_as_system(session, organisation, now=now)
    return await create_demo_users(session, settings, DEMO_USERS, now=now)


async def create_demo_users(
    session: AsyncSession, settings: Settings, users: tuple[DemoUser, ...], *, now: datetime
) -> int:
    """Create those of `users` that do not exist yet, with the demo password."""
    created = 0
    for username, organisation_code, roles in users:
        if await session.scalar(select(User.id).where(User.username == username)):
            continue
        body = UserCreate(
            username=username,
            display_name=username.replace("-", " ").title(),
            password=DEMO_PASSWORD,
            organisation=organisation_code,
            roles=list(roles),
            # So that `make run` shows the notifications: `.eml` files in NRM_MAIL_DIR.
            email=f"{username}@example.org",
        )
        await identity.create_user(session, settings, None, body, now=now)
        created += 1
    return created


async def _seed_referrals(session: AsyncSession, settings: Settings, advance: Advance) -> int:
    """File the demo referrals and take them to several states, once.

    Only through the real services (intake, then the workflow's commands), so their deadlines,
    decisions and audit events are exactly what the service itself would have written.
    """
    responder = await principal(session, "demo-first-responder")
    if await session.scalar(select(Referral.id).where(Referral.submitted_by_id == responder.id)):
        advance(len(STORIES))
        return 0  # already seeded: a second run adds nothing
    now = await service_now(session, settings)
    cast = DemoCast(
        responder=responder,
        health=await principal(session, "demo-health-responder"),
        maker=await principal(session, "demo-decision-maker"),
        reviewer=await principal(session, "demo-senior-reviewer"),
    )
    steps = DemoSteps(session, settings, cast, start=now - timedelta(hours=1))
    for story in STORIES:
        await story(steps)
        advance()
    return len(STORIES)


async def principal(session: AsyncSession, username: str) -> Principal:
    """A demo user as the services see a signed-in caller."""
    user = await session.scalar(
        select(User)
        .where(User.username == username)
        .options(selectinload(User.organisation), selectinload(User.role_rows))
    )
    if user is None:  # _seed_identity runs first: only a bug gets here
        raise RuntimeError(f"demo user {username} is missing")
    return Principal(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        organisation_id=user.organisation_id,
        organisation_code=user.organisation.code,
        sector=user.organisation.sector,
        roles=user.roles,
    )


# --- the demo referrals: each story files one referral and takes it to a state -----------------


@dataclass(frozen=True)
class DemoCast:
    """The demo users who act in the stories."""

    responder: Principal  # south-wales-police
    health: Principal  # cardiff-and-vale-uhb
    maker: Principal  # all-wales-decision-unit
    reviewer: Principal  # all-wales-decision-unit, senior: reviews the maker's proposals


class DemoSteps:
    """The real services, called as the stories need them, each step a second after the last
    (so a referral's decisions and events keep their order)."""

    def __init__(
        self, session: AsyncSession, settings: Settings, cast: DemoCast, *, start: datetime
    ) -> None:
        self.session, self.settings, self.cast = session, settings, cast
        self._now = start

    @property
    def now(self) -> datetime:
        """The instant of the last step."""
        return self._now

    def tick(self) -> datetime:
        self._now += timedelta(seconds=1)
        return self._now

    async def file(self, by: Principal, form: dict[str, Any]) -> uuid.UUID:
        body = ReferralCreate.model_validate(form)
        referral = await intake.file_referral(
            self.session, self.settings, by, body, now=self.tick()
        )
        return referral.id

    async def decide(
        self,
        referral_id: uuid.UUID,
        stage: Stage,
        outcome: Outcome,
        *,
        early: str | None = None,
        by: Principal | None = None,
    ) -> uuid.UUID:
        body = DecisionRequest(
            stage=stage,
            outcome=outcome,
            reasons=f"Demo {stage.value} decision: {outcome.value}, on the evidence filed.",
            early_decision_reason=early,
        )
        done = await decision_commands.decide(
            self.session, by or self.cast.maker, referral_id, body=body, **self._step()
        )
        return done.answer.id

    async def confirm(
        self, referral_id: uuid.UUID, decision_id: uuid.UUID, *, by: Principal | None = None
    ) -> None:
        """The proposal's review agrees (by the cast's senior reviewer unless `by`)."""
        body = ReviewRequest(
            agree=True, comments="Second review: the proposal stands on the evidence."
        )
        await decision_commands.review(
            self.session,
            by or self.cast.reviewer,
            referral_id,
            decision_id,
            body=body,
            **self._step(),
        )

    async def suspend(self, referral_id: uuid.UUID, *, by: Principal | None = None) -> None:
        body = SuspendRequest(reason="The person is missing; the police are searching.")
        await case_commands.suspend(
            self.session, by or self.cast.maker, referral_id, body=body, **self._step()
        )

    async def withdraw(self, referral_id: uuid.UUID, *, by: Principal | None = None) -> None:
        body = WithdrawRequest(reason="Filed twice by mistake; the other referral stands.")
        await case_commands.withdraw(
            self.session, by or self.cast.responder, referral_id, body=body, **self._step()
        )

    def _step(self) -> StepArgs:
        # "*": the demo acts on whatever version it just made, as a web page's door would not.
        return {"expected_version": "*", "now": self.tick(), "settings": self.settings}

    def form(self, given: str, family: str, **overrides: Any) -> dict[str, Any]:
        """An adult's referral, consent recorded today, with `overrides` on top."""
        return demo_form(given, family, wales_date(self._now), **overrides)


def demo_form(given: str, family: str, today: date, **overrides: Any) -> dict[str, Any]:
    """A demo referral form (fictional people); top-level `overrides` replace whole parts."""
    form: dict[str, Any] = {
        "potential_victim": {
            "given_name": given,
            "family_name": family,
            "date_of_birth": "1994-03-11",
            "gender": "female",
            "nationality": "RO",
            "languages": ["ro"],
            "interpreter_needed": True,
        },
        "consent": {"given": True, "recorded_on": today.isoformat()},
        "exploitation": {
            "types": ["labour"],
            "location": "uk",
            "local_authority": "W06000015",
            "began_on": "2025-09-01",
            "ongoing": False,
        },
        "indicators": ["withheld_documents", "debt_bondage", "excessive_hours"],
        "account": "Found working long hours at a car wash; says her passport was taken.",
    }
    form.update(overrides)
    return form


async def _awaiting_rg(steps: DemoSteps) -> None:
    form = steps.form("Mirela", "Ionescu", immigration={"status": "unknown"})
    await steps.file(steps.cast.responder, form)


async def _in_recovery_period(steps: DemoSteps) -> None:
    form = steps.form(
        "Thi",
        "Nguyen",
        immigration={"status": "asylum_seeker", "home_office_reference": "HO-DEMO-0001"},
    )
    form["potential_victim"] |= {"nationality": "VN", "languages": ["vi"], "gender": "male"}
    referral = await steps.file(steps.cast.responder, form)
    await steps.decide(referral, Stage.REASONABLE_GROUNDS, Outcome.POSITIVE)


async def _awaiting_second_review(steps: DemoSteps) -> None:
    referral = await steps.file(steps.cast.responder, steps.form("Elira", "Hoxha"))
    await steps.decide(referral, Stage.REASONABLE_GROUNDS, Outcome.NEGATIVE)


async def _rg_negative(steps: DemoSteps) -> None:
    referral = await steps.file(steps.cast.responder, steps.form("Dafydd", "Rees"))
    decision = await steps.decide(referral, Stage.REASONABLE_GROUNDS, Outcome.NEGATIVE)
    await steps.confirm(referral, decision)


async def _cg_positive(steps: DemoSteps) -> None:
    referral = await steps.file(steps.cast.responder, steps.form("Grace", "Okafor"))
    await steps.decide(referral, Stage.REASONABLE_GROUNDS, Outcome.POSITIVE)
    await steps.decide(
        referral,
        Stage.CONCLUSIVE_GROUNDS,
        Outcome.POSITIVE,
        early="The person asked for an early decision to start a compensation claim.",
    )


async def _child_at_the_cardiff_panel(steps: DemoSteps) -> None:
    # A child needs no consent and goes to Cardiff's child decision panel (DESIGN §3).
    form = steps.form(
        "Kai",
        "Morgan",
        exploitation={"types": ["criminal"], "location": "uk", "local_authority": "W06000015"},
    )
    form["potential_victim"] |= {
        "date_of_birth": "2011-05-14",
        "gender": "male",
        "nationality": "GB",
        "languages": ["en"],
        "interpreter_needed": False,
    }
    del form["consent"]
    await steps.file(steps.cast.health, form)


async def _suspended(steps: DemoSteps) -> None:
    referral = await steps.file(steps.cast.responder, steps.form("Ana", "Sandu"))
    await steps.suspend(referral)


async def _withdrawn(steps: DemoSteps) -> None:
    referral = await steps.file(steps.cast.responder, steps.form("Mirela", "Ionescu"))
    await steps.withdraw(referral)


Story = Callable[[DemoSteps], Awaitable[None]]
STORIES: tuple[Story, ...] = (
    _awaiting_rg,
    _in_recovery_period,
    _awaiting_second_review,
    _rg_negative,
    _cg_positive,
    _child_at_the_cardiff_panel,
    _suspended,
    _withdrawn,
)
