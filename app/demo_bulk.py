"""A larger demo: `nrm seed demo --referrals N` files N generated referrals, so that statistics
show more than suppressed cells.

Through the real services only (intake, then the workflow's commands, by `app.demo.DemoSteps`),
so every referral has its deadlines, decisions and audit events. The referrals spread over
responders of police forces, health boards, charities and local authorities, over
nationalities, genders, ages, local authorities and immigration statuses, and over every
status. The mix is fixed by N (a seeded generator), so a demo can be reproduced. Each batch of
referrals is a transaction of its own, so a long run keeps what it has filed.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import real_now, service_now
from app.days import wales_date
from app.db import transaction
from app.demo import DemoCast, DemoSteps, DemoUser, create_demo_users, principal
from app.identity.models import LocalAuthority
from app.identity.principal import Principal
from app.identity.roles import Role
from app.progress import Advance
from app.referrals.workflow import Outcome, Stage
from app.settings import Settings

BATCH = 50
CARDIFF = "W06000015"  # the demo's child decision panel serves Cardiff's children
RESPONDING = (
    "south-wales-police",
    "gwent-police",
    "dyfed-powys-police",
    "north-wales-police",
    "cardiff-and-vale-uhb",
    "swansea-bay-uhb",
    "betsi-cadwaladr-uhb",
    "bawso",
    "salvation-army",
    "migrant-help",
    CARDIFF,
    "W06000011",
)
RESPONDERS: tuple[DemoUser, ...] = tuple(
    (f"demo-responder-{code.lower()}", code, (Role.FIRST_RESPONDER,)) for code in RESPONDING
)
# (value, weight): a plausible mix, not real figures.
NATIONALITIES = (
    ("GB", 20), ("AL", 14), ("VN", 12), ("RO", 9), ("ER", 6), ("SD", 6), ("CN", 5),
    ("PL", 5), ("NG", 4), ("IN", 4), ("UA", 3), ("IR", 3), (None, 3),
)  # fmt: skip
GENDERS = (("male", 52), ("female", 43), ("other", 2), ("unknown", 3))
EXPLOITATION = (("labour", 40), ("criminal", 30), ("sexual", 20), ("domestic_servitude", 10))
IMMIGRATION = (
    ("asylum_seeker", 25), ("no_leave", 15), ("visa_overstayer", 12), ("visa_holder", 10),
    ("refugee_or_protection", 8), ("pre_settled", 6), ("settled", 4), ("unknown", 20),
)  # fmt: skip
OUTCOMES = (
    ("awaiting_rg", 20), ("recovery_period", 25), ("rg_negative", 12), ("cg_positive", 18),
    ("cg_negative", 8), ("suspended", 5), ("withdrawn", 12),
)  # fmt: skip
GIVEN = (
    "Ana", "Arben", "Bao", "Dafydd", "Elira", "Fatima", "Gareth", "Hana", "Ioana", "Jin", "Kai",
    "Lina", "Mihai", "Nia", "Omar", "Petra", "Rhys", "Sara", "Tomasz", "Yonas",
)  # fmt: skip
FAMILY = (
    "Ahmed", "Bytyqi", "Chen", "Davies", "Evans", "Hoxha", "Ionescu", "Jones", "Kowalski", "Le",
    "Mensah", "Nguyen", "Okafor", "Popescu", "Rees", "Tesfaye", "Williams",
)  # fmt: skip
EARLY = "The person asked for an early decision (demo)."


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


@dataclass(frozen=True)
class Unit:
    """Who decides and reviews at one deciding unit."""

    cast: DemoCast  # its maker proposes, its reviewer gives the second review
    panel: Principal  # reviews conclusive-grounds proposals


async def file_referrals(
    factory: async_sessionmaker[AsyncSession], settings: Settings, count: int, advance: Advance
) -> int:
    """File `count` generated referrals, each taken to a status of `OUTCOMES`; returns `count`."""
    rng = random.Random(count)  # noqa: S311 - demo data, reproducible, not a secret
    async with transaction(factory) as session:
        await create_demo_users(session, settings, RESPONDERS, now=real_now())
        places = list((await session.scalars(select(LocalAuthority.ons_code))).all())
        clock = await service_now(session, settings) - timedelta(seconds=6 * count + 60)
    for first in range(0, count, BATCH):
        async with transaction(factory) as session:
            units = await _units(session)
            responders = [await principal(session, name) for name, _, _ in RESPONDERS]
            steps = DemoSteps(session, settings, units["adult"].cast, start=clock)
            for _ in range(first, min(first + BATCH, count)):
                await _one(steps, units, rng, responder=rng.choice(responders), places=places)
                advance()
            clock = steps.now
    return count


async def _units(session: AsyncSession) -> dict[str, Unit]:
    responder = await principal(session, "demo-first-responder")

    async def unit(maker: str, reviewer: str, panel: str) -> Unit:
        cast = DemoCast(
            responder=responder,
            health=responder,
            maker=await principal(session, maker),
            reviewer=await principal(session, reviewer),
        )
        return Unit(cast=cast, panel=await principal(session, panel))

    return {
        "adult": await unit("demo-decision-maker", "demo-senior-reviewer", "demo-panel-member"),
        "child": await unit(
            "demo-child-panel-decider", "demo-child-panel-reviewer", "demo-child-panel-member"
        ),
    }


async def _one(
    steps: DemoSteps,
    units: dict[str, Unit],
    rng: random.Random,
    *,
    responder: Principal,
    places: list[str],
) -> None:
    """File one generated referral and take it to a status drawn from `OUTCOMES`."""
    child = rng.random() < 0.2
    # Half the children in Cardiff, so that its child decision panel has work to show.
    place = CARDIFF if child and rng.random() < 0.5 else rng.choice(places)
    form = _form(rng, wales_date(steps.now), place=place, child=child)
    referral = await steps.file(responder, form)
    unit = units["child" if child and place == CARDIFF else "adult"]
    await _take_to(steps, unit, referral, _pick(rng, OUTCOMES), responder=responder)


async def _take_to(
    steps: DemoSteps, unit: Unit, referral: uuid.UUID, status: str, *, responder: Principal
) -> None:
    cast = unit.cast
    if status == "suspended":
        await steps.suspend(referral, by=cast.maker)
    elif status == "withdrawn":
        await steps.withdraw(referral, by=responder)
    elif status == "rg_negative":
        decision = await steps.decide(
            referral, Stage.REASONABLE_GROUNDS, Outcome.NEGATIVE, by=cast.maker
        )
        await steps.confirm(referral, decision, by=cast.reviewer)
    elif status != "awaiting_rg":
        await steps.decide(referral, Stage.REASONABLE_GROUNDS, Outcome.POSITIVE, by=cast.maker)
        if status in {"cg_positive", "cg_negative"}:
            outcome = Outcome.POSITIVE if status == "cg_positive" else Outcome.NEGATIVE
            stage = Stage.CONCLUSIVE_GROUNDS
            decision = await steps.decide(referral, stage, outcome, early=EARLY, by=cast.maker)
            if outcome is Outcome.NEGATIVE:
                await steps.confirm(referral, decision, by=unit.panel)


def _form(rng: random.Random, today: date, *, place: str, child: bool) -> dict[str, Any]:
    """A generated referral form (fictional people)."""
    nationality = _pick(rng, NATIONALITIES)
    age = rng.randint(13, 17) if child else rng.randint(18, 65)
    born = today - timedelta(days=365 * age + rng.randint(1, 300))
    status = "british_or_irish_citizen" if nationality == "GB" else _pick(rng, IMMIGRATION)
    form: dict[str, Any] = {
        "potential_victim": {
            "given_name": rng.choice(GIVEN),
            "family_name": rng.choice(FAMILY),
            "date_of_birth": born.isoformat(),
            "gender": _pick(rng, GENDERS),
            "nationality": nationality,
            "languages": ["en"],
            "interpreter_needed": nationality not in {"GB", None},
        },
        "consent": {"given": True, "recorded_on": today.isoformat()},
        "exploitation": {
            "types": [_pick(rng, EXPLOITATION)],
            "location": "uk",
            "local_authority": place,
            "began_on": (today - timedelta(days=rng.randint(30, 700))).isoformat(),
            "ongoing": rng.random() < 0.3,
        },
        "indicators": rng.sample(["threats", "withheld_documents", "debt_bondage", "isolation"], 2),
        "account": "A generated demo referral: no real person.",
        "immigration": {"status": status},
    }
    if child:
        del form["consent"]
    return form
