"""Demo data for trying the service out: `nrm seed demo` (idempotent).

Demo organisations (a child decision panel for Cardiff, an immigration liaison, an oversight
office), one user per role with the documented demo password, and, through the referrals
feature, referrals in several states. Never run it against a production database.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import real_now
from app.db import create_engine, create_sessionmaker, transaction
from app.identity import service as identity
from app.identity.models import User
from app.identity.roles import Role, Sector
from app.identity.schemas import OrganisationCreate, UserCreate
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
    # The referrals feature fills this in (issue: referrals and the workflow).
    del session, settings
    return 0
