"""Demo data for trying the service out: `nrm seed demo` (idempotent).

Demo organisations (a child decision panel for Cardiff, an immigration liaison, an oversight
office), one user per role with the documented demo password, and, through the referrals
feature, referrals in several states. Never run it against a production database.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.clock import real_now, service_now
from app.db import create_engine, create_sessionmaker, transaction
from app.demo_referrals import STORIES, DemoCast, DemoSteps
from app.identity import service as identity
from app.identity.deps import Principal
from app.identity.models import User
from app.identity.roles import Role, Sector
from app.identity.schemas import OrganisationCreate, UserCreate
from app.referrals.models import Referral
from app.settings import Settings

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - documented in the README, demo only

DEMO_ORGANISATIONS = (
    OrganisationCreate(
        code="cardiff-child-decision-panel",
        name="Cardiff Child Decision Panel",
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
        sector=Sector.DECISION_UNIT,
    ),
)

# (username, display name, organisation, roles)
DEMO_USERS: tuple[tuple[str, str, str, tuple[Role, ...]], ...] = (
    ("demo-first-responder", "Demo First Responder", "south-wales-police", (Role.FIRST_RESPONDER,)),
    (
        "demo-health-responder",
        "Demo Health Responder",
        "cardiff-and-vale-uhb",
        (Role.FIRST_RESPONDER,),
    ),
    (
        "demo-decision-maker",
        "Demo Decision Maker",
        "all-wales-decision-unit",
        (Role.DECISION_MAKER,),
    ),
    (
        "demo-senior-decision-maker",
        "Demo Senior Decision Maker",
        "all-wales-decision-unit",
        (Role.SENIOR_DECISION_MAKER,),
    ),
    (
        "demo-senior-reviewer",
        "Demo Senior Reviewer",
        "all-wales-decision-unit",
        (Role.SENIOR_DECISION_MAKER,),
    ),
    ("demo-panel-member", "Demo Panel Member", "all-wales-decision-unit", (Role.PANEL_MEMBER,)),
    (
        "demo-child-panel-decider",
        "Demo Child Panel Decider",
        "cardiff-child-decision-panel",
        (Role.SENIOR_DECISION_MAKER,),
    ),
    (
        "demo-immigration-officer",
        "Demo Immigration Officer",
        "home-office-immigration-liaison",
        (Role.IMMIGRATION_OFFICER,),
    ),
    ("demo-auditor", "Demo Auditor", "wales-nrm-oversight", (Role.AUDITOR,)),
    ("demo-admin", "Demo Administrator", "wales-nrm-oversight", (Role.ADMIN,)),
)


async def seed(settings: Settings) -> str:
    """Load the demo data once; a second run adds nothing."""
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            created = await _seed_identity(session, settings)
            referrals = await _seed_referrals(session, settings)
    finally:
        await engine.dispose()
    return f"demo data: {created} users created, {referrals} referrals filed"


async def _seed_identity(session: AsyncSession, settings: Settings) -> int:
    now = real_now()
    for organisation in DEMO_ORGANISATIONS:
        if await identity.organisation_by_code(session, organisation.code) is None:
            await identity.create_organisation_as_system(session, organisation, now=now)
    created = 0
    for username, display_name, organisation_code, roles in DEMO_USERS:
        if await session.scalar(select(User.id).where(User.username == username)):
            continue
        body = UserCreate(
            username=username,
            display_name=display_name,
            password=DEMO_PASSWORD,
            organisation=organisation_code,
            roles=list(roles),
        )
        await identity.create_user(session, settings, None, body, now=now)
        created += 1
    return created


async def _seed_referrals(session: AsyncSession, settings: Settings) -> int:
    """File the demo referrals and take them to several states, once.

    Only through the real services (intake, then the workflow's commands), so their deadlines,
    decisions and audit events are exactly what the service itself would have written.
    """
    responder = await _principal(session, "demo-first-responder")
    if await session.scalar(select(Referral.id).where(Referral.submitted_by_id == responder.id)):
        return 0  # already seeded: a second run adds nothing
    now = await service_now(session, settings)
    cast = DemoCast(
        responder=responder,
        health=await _principal(session, "demo-health-responder"),
        maker=await _principal(session, "demo-decision-maker"),
        reviewer=await _principal(session, "demo-senior-reviewer"),
    )
    steps = DemoSteps(session, settings, cast, start=now - timedelta(hours=1))
    for story in STORIES:
        await story(steps)
    return len(STORIES)


async def _principal(session: AsyncSession, username: str) -> Principal:
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
