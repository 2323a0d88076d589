"""`outcomes_by_status`, the one aggregate that puts immigration status beside outcomes: its
counts and percentiles against figures computed here independently (in Python, from the rows
the test made), its filters, and its suppression of small cells (DESIGN §5, §7).

Rows are inserted directly, not through the commands: the query reads stored working days and
dates, and the test needs many decisions with chosen values on chosen dates.
"""

from __future__ import annotations

import random
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.identity.models import Organisation
from app.identity.roles import Role, Sector
from app.immigration.models import ImmigrationRecord, ImmigrationStatus
from app.immigration.queries import GROUPS, NOT_RECORDED, StatusOutcome, outcomes_by_status
from app.referrals.models import Decision, Referral
from tests.databases import Backend
from tests.factories import make_organisation, make_user

FROM, TO = date(2026, 1, 1), date(2026, 6, 30)
RG, CG = "reasonable_grounds", "conclusive_grounds"


@dataclass(frozen=True)
class Made:
    """A decision as the test made it, with its referral's immigration status (or none)."""

    group: str
    stage: str
    outcome: str
    status: str
    working_days: int
    decided_on: date
    unit_id: uuid.UUID


@dataclass
class World:
    db: AsyncSession
    user_id: uuid.UUID
    unit_id: uuid.UUID
    other_unit_id: uuid.UUID
    made: list[Made]


@pytest.fixture
async def world(app: FastAPI, db: AsyncSession) -> World:
    unit = await db.scalar(
        select(Organisation).where(Organisation.code == "all-wales-decision-unit")
    )
    assert unit is not None
    other = await make_organisation(db, sector=Sector.DECISION_UNIT, local_authority="W06000015")
    user = await make_user(app, db, Role.DECISION_MAKER)
    return World(db, user.id, unit.id, other.id, [])


async def referral_with(world: World, group: str) -> uuid.UUID:
    """A bare referral row, with an immigration record unless `group` is not_recorded."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    referral = Referral(
        reference=f"T-{uuid.uuid4().hex[:12]}",
        status="awaiting_rg",
        version=1,
        created_at=now,
        created_on=now.date(),
        is_child=False,
        referring_organisation_id=world.unit_id,
        submitted_by_id=world.user_id,
        routed_to_id=world.unit_id,
        other_names=[],
        gender="female",
        languages=[],
        interpreter_needed=False,
        correspondence_language="en",
        exploitation_location="uk",
        local_authority="W06000015",
        indicators=[],
        account="-",
    )
    world.db.add(referral)
    await world.db.flush()
    if group != NOT_RECORDED:
        world.db.add(
            ImmigrationRecord(
                referral_id=referral.id,
                status=group,
                home_office_reference=None,
                created_at=now,
                updated_at=now,
            )
        )
    return referral.id


async def decide(
    world: World,
    referral_id: uuid.UUID,
    group: str,
    *,
    stage: str = RG,
    outcome: str = "positive",
    status: str = "effective",
    working_days: int = 3,
    decided_on: date = date(2026, 3, 2),
    unit_id: uuid.UUID | None = None,
) -> None:
    unit = unit_id or world.unit_id
    world.db.add(
        Decision(
            referral_id=referral_id,
            stage=stage,
            outcome=outcome,
            status=status,
            reasons="-",
            decided_by_id=world.user_id,
            decided_at=datetime.combine(decided_on, time(12), UTC),
            decided_on=decided_on,
            unit_id=unit,
            guidance_version="v1",
            working_days=working_days,
        )
    )
    world.made.append(Made(group, stage, outcome, status, working_days, decided_on, unit))
    await world.db.flush()


def linear_percentile(values: Sequence[int], fraction: float) -> float:
    """PostgreSQL's percentile_cont, computed the textbook way."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    if fraction == 0.5:
        return float(statistics.median(ordered))
    return statistics.quantiles(ordered, n=10, method="inclusive")[round(fraction * 10) - 1]


def expected(
    made: Sequence[Made], *, stage: str, unit_id: uuid.UUID | None = None
) -> dict[str | None, tuple[int, int, int, float | None, float | None]]:
    counted = [
        m
        for m in made
        if m.stage == stage
        and m.status == "effective"
        and FROM <= m.decided_on <= TO
        and (unit_id is None or m.unit_id == unit_id)
    ]
    figures: dict[str | None, tuple[int, int, int, float | None, float | None]] = {}
    for group in (*GROUPS, None):
        mine = [m for m in counted if group is None or m.group == group]
        days = [m.working_days for m in mine]
        figures[group] = (
            len(mine),
            sum(m.outcome == "positive" for m in mine),
            sum(m.outcome == "negative" for m in mine),
            linear_percentile(days, 0.5) if days else None,
            linear_percentile(days, 0.9) if days else None,
        )
    return figures


def as_figures(rows: Sequence[StatusOutcome]) -> dict[str | None, tuple[object, ...]]:
    """The rows as `expected` gives them; percentiles compared with a float tolerance."""
    return {
        r.status: (
            r.decisions,
            r.positive,
            r.negative,
            None if r.median_working_days is None else pytest.approx(r.median_working_days),
            None if r.p90_working_days is None else pytest.approx(r.p90_working_days),
        )
        for r in rows
    }


async def random_world(world: World, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        group = rng.choice(GROUPS)
        referral_id = await referral_with(world, group)
        for _ in range(rng.randint(1, 2)):
            await decide(
                world,
                referral_id,
                group,
                stage=rng.choice((RG, CG)),
                outcome=rng.choice(("positive", "negative")),
                status=rng.choice(("effective", "effective", "effective", "proposed", "rejected")),
                working_days=rng.randint(0, 40),
                decided_on=FROM + timedelta(days=rng.randint(-20, 200)),
                unit_id=rng.choice((world.unit_id, world.other_unit_id)),
            )


class TestOutcomesByStatus:
    @pytest.mark.parametrize("seed", [1, 2])
    async def test_counts_and_percentiles_match_an_independent_computation(
        self, world: World, seed: int
    ) -> None:
        await random_world(world, seed)
        for stage in (RG, CG):
            rows = await outcomes_by_status(
                world.db, stage=stage, date_from=FROM, date_to=TO, threshold=1
            )
            assert [r.status for r in rows] == [*GROUPS, None]
            assert as_figures(rows) == expected(world.made, stage=stage)
            assert not any(r.suppressed for r in rows)

    async def test_filters_by_deciding_unit(self, world: World) -> None:
        await random_world(world, 3)
        rows = await outcomes_by_status(
            world.db, stage=RG, date_from=FROM, date_to=TO, threshold=1, unit_id=world.other_unit_id
        )
        assert as_figures(rows) == expected(world.made, stage=RG, unit_id=world.other_unit_id)

    async def test_counts_only_effective_decisions_of_the_stage_within_the_period(
        self, world: World
    ) -> None:
        referral_id = await referral_with(world, "no_leave")
        await decide(world, referral_id, "no_leave", working_days=4, decided_on=FROM)
        await decide(world, referral_id, "no_leave", working_days=6, decided_on=TO)
        await decide(world, referral_id, "no_leave", decided_on=FROM - timedelta(days=1))
        await decide(world, referral_id, "no_leave", decided_on=TO + timedelta(days=1))
        await decide(world, referral_id, "no_leave", status="proposed")
        await decide(world, referral_id, "no_leave", status="rejected")
        await decide(world, referral_id, "no_leave", stage=CG)
        rows = await outcomes_by_status(world.db, stage=RG, date_from=FROM, date_to=TO, threshold=1)
        no_leave = next(r for r in rows if r.status == "no_leave")
        assert (no_leave.decisions, no_leave.positive, no_leave.negative) == (2, 2, 0)
        assert no_leave.median_working_days == pytest.approx(5.0)
        assert no_leave.p90_working_days == pytest.approx(5.8)

    async def test_a_referral_without_a_record_counts_as_not_recorded_not_unknown(
        self, world: World
    ) -> None:
        await decide(world, await referral_with(world, NOT_RECORDED), NOT_RECORDED)
        rows = await outcomes_by_status(world.db, stage=RG, date_from=FROM, date_to=TO, threshold=1)
        by_status = {r.status: r.decisions for r in rows}
        assert by_status[NOT_RECORDED] == 1
        assert by_status[ImmigrationStatus.UNKNOWN.value] == 0


class RowCounter:
    """Counts the statements run and the rows the database hands back to Python."""

    def __init__(self) -> None:
        self.rows = 0
        self.statements = 0

    def __call__(self, _conn: Any, cursor: Any, *_args: Any) -> None:
        # The async adaptors fetch a result's rows into `_rows` during execute.
        self.rows += len(getattr(cursor, "_rows", ()) or ())
        self.statements += 1


class TestOneAggregation:
    async def test_is_one_statement_that_fetches_a_row_per_group_present_and_the_totals(
        self, app: FastAPI, world: World
    ) -> None:
        await random_world(world, 4)
        await world.db.flush()
        counter = RowCounter()
        engine = app.state.engine.sync_engine
        event.listen(engine, "after_cursor_execute", counter)
        try:
            await outcomes_by_status(world.db, stage=RG, date_from=FROM, date_to=TO, threshold=1)
        finally:
            event.remove(engine, "after_cursor_execute", counter)
        present = {m.group for m in world.made if (m.stage, m.status) == (RG, "effective")}
        assert counter.statements == 1
        assert counter.rows <= len(present) + 1 < len(world.made)

    async def test_percentiles_equal_postgresqls_percentile_cont(
        self, world: World, backend: Backend
    ) -> None:
        if backend.name != "postgresql":
            pytest.skip("percentile_cont is PostgreSQL's")
        await random_world(world, 5)
        await world.db.flush()
        rows = await outcomes_by_status(world.db, stage=CG, date_from=FROM, date_to=TO, threshold=1)
        expected = {
            row.grp: (row.median, row.p90)
            for row in await world.db.execute(
                text(
                    "SELECT coalesce(i.status, 'not_recorded') AS grp,"
                    " percentile_cont(0.5) WITHIN GROUP (ORDER BY d.working_days) AS median,"
                    " percentile_cont(0.9) WITHIN GROUP (ORDER BY d.working_days) AS p90"
                    " FROM decisions d LEFT JOIN immigration_records i"
                    " ON i.referral_id = d.referral_id"
                    " WHERE d.stage = 'conclusive_grounds' AND d.status = 'effective'"
                    " AND d.decided_on BETWEEN :start AND :end GROUP BY 1"
                ),
                {"start": FROM, "end": TO},
            )
        }
        got = {r.status: (r.median_working_days, r.p90_working_days) for r in rows if r.decisions}
        assert None in got
        del got[None]
        assert got.keys() == expected.keys()
        for group, figures in expected.items():
            assert got[group] == pytest.approx(figures)


class TestSuppression:
    async def test_hides_small_cells_and_every_figure_beside_them(self, world: World) -> None:
        for index in range(6):
            referral_id = await referral_with(world, "asylum_seeker")
            outcome = "positive" if index < 4 else "negative"
            await decide(world, referral_id, "asylum_seeker", outcome=outcome, working_days=index)
        for _ in range(2):
            await decide(world, await referral_with(world, "no_leave"), "no_leave")
        rows = await outcomes_by_status(world.db, stage=RG, date_from=FROM, date_to=TO, threshold=5)
        by_status = {r.status: r for r in rows}
        lone = by_status["no_leave"]
        assert lone.suppressed
        assert (lone.decisions, lone.positive, lone.negative) == (None, None, None)
        assert lone.median_working_days is None
        assert lone.p90_working_days is None
        # 4 positive, 2 negative: both parts are below 5, so the row's figures are withheld,
        # and its total too, else total minus the lone row would give the other row back.
        asylum = by_status["asylum_seeker"]
        assert asylum.suppressed
        assert asylum.positive is None
        assert asylum.negative is None
        assert asylum.median_working_days is None
        # A group with no decision publishes its zero: an empty cell singles out nobody.
        assert by_status["settled"].decisions == 0
        assert not by_status["settled"].suppressed
        assert by_status[None].decisions == 8

    async def test_refuses_an_unknown_stage(self, world: World) -> None:
        with pytest.raises(ValueError, match="not a valid Stage"):
            await outcomes_by_status(
                world.db, stage="immigration", date_from=FROM, date_to=TO, threshold=5
            )
