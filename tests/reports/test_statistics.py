"""GET /statistics/referrals, /statistics/decisions, /statistics/disparities (API.md "Statistics").

One world per backend, built through the real endpoints and committed: referrals (POST
/referrals) and duty-to-notify reports (POST /duty-to-notify) with varied fields, filed on
chosen days with the test clock, and decisions reached through the workflow's commands (RG
positive, RG negative with its second review, CG positive and negative with the panel). Each
breakdown is checked against counts this module computes itself from what it filed. The world's
app has a suppression threshold of 1 (nothing suppressed), so the raw figures can be compared;
suppression has its own tests with the default threshold (`TestSuppression`).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from app.days import add_working_days
from app.identity.roles import Role, Sector
from app.main import create_app
from tests.databases import Backend, settings_for
from tests.factories import AppUser, make_organisation, make_user
from tests.referrals.builders import referral_form, set_service_date

API = "/api/v1/statistics"
START, END = date(2025, 3, 3), date(2025, 4, 30)
BEFORE, AFTER = date(2025, 2, 10), date(2025, 5, 12)  # filings outside the period
QUERY = {"from": START.isoformat(), "to": END.isoformat()}
PANEL = "stats-cardiff-child-panel"
ALL_WALES = "all-wales-decision-unit"
FORCE = {  # the police force covering each local authority used here (reference data)
    "W06000015": "south-wales-police",
    "W06000022": "gwent-police",
    "W06000006": "north-wales-police",
    "W06000011": "south-wales-police",
}
RESPONDERS = {  # organisation code -> sector
    "south-wales-police": "police",
    "cardiff-and-vale-uhb": "health",
    "W06000022": "local_authority",
    "bawso": "charity",
}
REFERRAL_KEYS = (
    "sector",
    "organisation",
    "exploitation_type",
    "age_group",
    "gender",
    "nationality",
    "local_authority",
    "police_force",
)


@dataclass
class Filed:
    """A referral as this module filed it, and what it expects of it."""

    day: date
    organisation: str
    gender: str
    nationality: str | None
    local_authority: str
    types: tuple[str, ...]
    age_group: str
    unit: str
    immigration: str | None
    id: str = ""
    version: int = 0

    def keys(self, by: str) -> list[str]:
        """The groups this referral counts in (several for exploitation types)."""
        values: dict[str, list[str]] = {
            "sector": [RESPONDERS[self.organisation]],
            "organisation": [self.organisation],
            "exploitation_type": list(self.types),
            "age_group": [self.age_group],
            "gender": [self.gender],
            "nationality": [self.nationality or "unknown"],
            "local_authority": [self.local_authority],
            "police_force": [FORCE[self.local_authority]],
            "decision_unit": [self.unit],
            "immigration_status": [self.immigration or "not_recorded"],
        }
        return values[by]


@dataclass
class Reported:
    """A duty-to-notify report as filed."""

    day: date
    organisation: str
    gender: str
    nationality: str | None
    local_authority: str
    types: tuple[str, ...]

    def keys(self, by: str) -> list[str]:
        values: dict[str, list[str]] = {
            "sector": [RESPONDERS[self.organisation]],
            "organisation": [self.organisation],
            "exploitation_type": list(self.types),
            "age_group": ["adult"],  # docs/statistics.md: reports are about adults
            "gender": [self.gender],
            "nationality": [self.nationality or "unknown"],
            "local_authority": [self.local_authority],
            "police_force": [FORCE[self.local_authority]],
        }
        return values[by]


@dataclass
class Decided:
    """An effective decision as planned: its stage, outcome, day and working days taken."""

    referral: Filed
    stage: str
    outcome: str
    day: date
    working_days: int
    met: bool | None


@dataclass
class World:
    app: FastAPI
    client: httpx.AsyncClient
    users: dict[str, AppUser]
    referrals: list[Filed] = field(default_factory=list)
    reports: list[Reported] = field(default_factory=list)
    decisions: list[Decided] = field(default_factory=list)
    url: str = ""

    async def get(self, path: str, user: str = "auditor", **params: str) -> httpx.Response:
        query = {**QUERY, **params}
        return await self.client.get(
            f"{API}/{path}", params=query, headers=self.users[user].headers
        )


# --- The plan -----------------------------------------------------------------------------

GENDERS = ("female", "male", "male", "other", "unknown")
NATIONALITIES = ("GB", "AL", "VN", "RO", None, "AL", "GB")
PLACES = tuple(FORCE)
TYPES = (
    ("sexual",),
    ("labour",),
    ("criminal", "labour"),
    ("domestic_servitude",),
    ("sexual", "labour", "criminal"),
)
AGES = (
    "adult",
    "child",
    "estimated_adult",
    "unknown",
    "adult_exploited_as_child",
    "estimated_child",
)
IMMIGRATION = (None, "asylum_seeker", "visa_overstayer", "british_or_irish_citizen")


def _age_fields(kind: str) -> tuple[dict[str, Any], str, bool]:
    """The form's age fields for a kind of person, the age group at exploitation expected,
    and whether the person is a child now (which decides routing)."""
    return {
        "adult": ({"date_of_birth": "1990-05-01", "estimated_age": None}, "adult", False),
        "child": ({"date_of_birth": "2012-01-01", "estimated_age": None}, "child", True),
        "estimated_adult": ({"date_of_birth": None, "estimated_age": 30}, "adult", False),
        "unknown": ({"date_of_birth": None, "estimated_age": None}, "unknown", True),
        "adult_exploited_as_child": (
            {"date_of_birth": "1995-02-01", "estimated_age": None},
            "child",
            False,
        ),
        "estimated_child": ({"date_of_birth": None, "estimated_age": 15}, "child", True),
    }[kind]


def _filing_days() -> list[date]:
    """One referral before the period, three a working day for 36, one after."""
    days = [d for d in (START + timedelta(n) for n in range(20)) if d.weekday() < 5]
    return [BEFORE, *(days[n // 3] for n in range(36)), AFTER]


def plan_referrals() -> list[tuple[Filed, dict[str, Any]]]:
    planned = []
    for i, day in enumerate(_filing_days()):
        kind = AGES[i % len(AGES)]
        age, group, child_now = _age_fields(kind)
        place = PLACES[(i // 2) % len(PLACES)]
        filed = Filed(
            day=day,
            organisation=list(RESPONDERS)[i % len(RESPONDERS)],
            gender=GENDERS[i % len(GENDERS)],
            nationality=NATIONALITIES[i % len(NATIONALITIES)],
            local_authority=place,
            types=TYPES[i % len(TYPES)],
            age_group=group,
            # DESIGN §3: a child in Cardiff goes to Cardiff's child panel, anyone else to the unit
            unit=PANEL if child_now and place == "W06000015" else ALL_WALES,
            immigration=IMMIGRATION[i % len(IMMIGRATION)],
        )
        planned.append(
            (filed, _form(filed, age, exploited_as_child=kind == "adult_exploited_as_child"))
        )
    return planned


def _form(filed: Filed, age: dict[str, Any], *, exploited_as_child: bool) -> dict[str, Any]:
    form = referral_form(
        potential_victim={"gender": filed.gender, "nationality": filed.nationality, **age},
        consent={"given": True, "recorded_on": "2025-01-02"},
        exploitation={
            "types": list(filed.types),
            "local_authority": filed.local_authority,
            "began_on": "2024-06-01",
            "exploited_as_child": exploited_as_child or None,
        },
    )
    form.pop("immigration")
    if filed.immigration:
        form["immigration"] = {"status": filed.immigration}
    return form


def plan_reports() -> list[Reported]:
    days = [BEFORE, *(START + timedelta(3 * n) for n in range(14)), AFTER]
    return [
        Reported(
            day=day,
            organisation=list(RESPONDERS)[(i + 1) % len(RESPONDERS)],
            gender=GENDERS[(i + 2) % len(GENDERS)],
            nationality=NATIONALITIES[(i + 3) % len(NATIONALITIES)],
            local_authority=PLACES[(i + 1) % len(PLACES)],
            types=TYPES[(i + 2) % len(TYPES)],
        )
        for i, day in enumerate(days)
    ]


def plan_decisions(referrals: list[Filed]) -> list[Decided]:
    """RG for most referrals (k working days after filing), CG for some of the positives."""
    decided = []
    for i, filed in enumerate(referrals):
        if i % 5 == 4:
            continue  # still awaiting its RG decision
        k = i % 8  # 0-7 working days: met up to 5 (the RG deadline), missed after
        outcome = "negative" if i % 3 == 0 else "positive"
        rg = Decided(
            filed, "reasonable_grounds", outcome, add_working_days(filed.day, k), k, k <= 5
        )
        decided.append(rg)
        if outcome == "positive" and i % 2 == 0:
            j = 22 + i % 7  # after the 30-day recovery period
            cg_outcome = "negative" if i % 4 == 0 else "positive"
            day = add_working_days(rg.day, j)
            decided.append(Decided(filed, "conclusive_grounds", cg_outcome, day, j, None))
    return decided


# --- Building the world -------------------------------------------------------------------


async def _users(app: FastAPI) -> dict[str, AppUser]:
    factory = app.state.sessionmaker
    async with factory() as s:
        await make_organisation(
            s, code=PANEL, sector=Sector.DECISION_UNIT, local_authority="W06000015"
        )
        users = {
            f"responder:{code}": await make_user(app, s, Role.FIRST_RESPONDER, organisation=code)
            for code in RESPONDERS
        }
        for unit in (ALL_WALES, PANEL):
            users[f"dm:{unit}"] = await make_user(app, s, Role.DECISION_MAKER, organisation=unit)
            for n in (1, 2):
                users[f"senior{n}:{unit}"] = await make_user(
                    app, s, Role.SENIOR_DECISION_MAKER, organisation=unit
                )
            users[f"panel:{unit}"] = await make_user(app, s, Role.PANEL_MEMBER, organisation=unit)
        users["auditor"] = await make_user(app, s, Role.AUDITOR, organisation=ALL_WALES)
        for role in Role:
            users[f"role:{role.value}"] = await make_user(app, s, role, organisation=ALL_WALES)
    return users


async def _command(world: World, user: str, filed: Filed, path: str, body: dict[str, Any]) -> Any:
    response = await world.client.post(
        f"/api/v1/referrals/{filed.id}/{path}",
        json=body,
        headers={**world.users[user].headers, "If-Match": f'"{filed.version}"'},
    )
    assert response.is_success, f"{path}: {response.status_code} {response.text}"
    filed.version = int(response.headers["ETag"].strip('"'))
    return response.json()


async def _decide(world: World, decision: Decided) -> None:
    unit, filed = decision.referral.unit, decision.referral
    body = {"stage": decision.stage, "outcome": decision.outcome, "reasons": "Reasons."}
    if decision.stage == "conclusive_grounds":
        body["early_decision_reason"] = "Asked for an early decision."
    decider = f"senior1:{unit}" if decision.outcome == "negative" else f"dm:{unit}"
    made = await _command(world, decider, filed, "decisions", body)
    if decision.outcome == "negative":  # the second review or the panel agrees
        reviewer = f"senior2:{unit}" if decision.stage == "reasonable_grounds" else f"panel:{unit}"
        await _command(
            world,
            reviewer,
            filed,
            f"decisions/{made['id']}/review",
            {"agree": True, "comments": "Agreed."},
        )


async def _file(world: World, filed: Filed, form: dict[str, Any]) -> None:
    user = world.users[f"responder:{filed.organisation}"]
    response = await world.client.post("/api/v1/referrals", json=form, headers=user.headers)
    assert response.status_code == 201, response.text
    filed.id, filed.version = response.json()["id"], response.json()["version"]
    world.referrals.append(filed)


async def _report(world: World, report: Reported) -> None:
    user = world.users[f"responder:{report.organisation}"]
    body = {
        "gender": report.gender,
        "nationality": report.nationality,
        "exploitation": {
            "types": list(report.types),
            "location": "uk",
            "local_authority": report.local_authority,
        },
    }
    response = await world.client.post("/api/v1/duty-to-notify", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    world.reports.append(report)


async def build_world(world: World) -> None:
    """Everything happens in date order, with the test clock moved to each day."""
    referrals = plan_referrals()
    events: list[tuple[date, int, Callable[[], Any]]] = []
    for filed, form in referrals:
        events.append((filed.day, 0, lambda f=filed, b=form: _file(world, f, b)))
    for report in plan_reports():
        events.append((report.day, 1, lambda r=report: _report(world, r)))
    for decision in plan_decisions([f for f, _ in referrals]):
        world.decisions.append(decision)
        events.append((decision.day, 2, lambda d=decision: _decide(world, d)))
    clock = world.users["auditor"]
    await set_service_date(world.client, clock, BEFORE)
    current = BEFORE
    for day, _order, action in sorted(events, key=lambda e: (e[0], e[1])):
        if day != current:
            await set_service_date(world.client, clock, day)
            current = day
        await action()
    await set_service_date(world.client, clock, AFTER + timedelta(days=30))


@pytest.fixture(scope="module")
async def world(backend: Backend) -> AsyncIterator[World]:
    url = backend.copy("nrm_stats")
    app = create_app(settings_for(url, suppression_threshold=1))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            world = World(app, client, await _users(app), url=url)
            await build_world(world)
            yield world
    finally:
        await app.state.engine.dispose()
        backend.drop(url)


# --- Expected figures, computed here from what was filed ---------------------------------


def in_period(day: date) -> bool:
    return START <= day <= END


def expected_referrals(
    world: World, by: str, unit: str | None = None
) -> dict[str, tuple[int, int]]:
    referrals: Counter[str] = Counter()
    reports: Counter[str] = Counter()
    for filed in world.referrals:
        if in_period(filed.day) and unit in (None, filed.unit):
            referrals.update(filed.keys(by))
    for report in world.reports:
        if in_period(report.day) and unit is None:
            reports.update(report.keys(by))
    return {g: (referrals[g], reports[g]) for g in referrals | reports}


def expected_decisions(
    world: World, by: str, stage: str, unit: str | None = None
) -> dict[str | None, dict[str, Any]]:
    buckets: dict[str | None, list[Decided]] = defaultdict(list)
    for decision in world.decisions:
        if (
            decision.stage == stage
            and in_period(decision.day)
            and unit in (None, decision.referral.unit)
        ):
            for key in decision.referral.keys(by):
                buckets[key].append(decision)
            buckets[None].append(decision)
    return {key: _figures(decisions, stage) for key, decisions in buckets.items()}


def _figures(decisions: list[Decided], stage: str) -> dict[str, Any]:
    days = np.array([d.working_days for d in decisions], dtype=float)
    rg = stage == "reasonable_grounds"
    return {
        "count": len(decisions),
        "positive": sum(d.outcome == "positive" for d in decisions),
        "negative": sum(d.outcome == "negative" for d in decisions),
        "median_working_days": float(np.percentile(days, 50, method="linear")),
        "p90_working_days": float(np.percentile(days, 90, method="linear")),
        "met": sum(d.met is True for d in decisions) if rg else None,
        "missed": sum(d.met is False for d in decisions) if rg else None,
    }


def by_group(rows: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    return {row["group"]: row for row in rows}


def in_period_referrals(world: World) -> list[Filed]:
    return [f for f in world.referrals if in_period(f.day)]


def assert_decision_rows(
    rows: list[dict[str, Any]], expected: dict[str | None, dict[str, Any]]
) -> None:
    got = by_group(rows)
    assert set(got) == set(expected)
    for group, figures in expected.items():
        row = got[group]
        for name in ("count", "positive", "negative", "met", "missed"):
            assert row[name] == figures[name], (group, name)
        for name in ("median_working_days", "p90_working_days"):
            assert row[name] == pytest.approx(figures[name]), (group, name)
        assert row["suppressed"] is False


pytestmark = pytest.mark.xdist_group("reports-statistics")


class TestReferralBreakdowns:
    @pytest.mark.parametrize("by", REFERRAL_KEYS)
    async def test_counts_referrals_and_reports_of_the_period_per_group(
        self, world: World, by: str
    ) -> None:
        response = await world.get("referrals", by=by)

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["from"], body["to"], body["by"]) == (START.isoformat(), END.isoformat(), by)
        *groups, total = body["rows"]
        assert {g["group"]: (g["count"], g["duty_to_notify"]) for g in groups} == (
            expected_referrals(world, by)
        )
        assert [g["group"] for g in groups] == sorted(g["group"] for g in groups)
        assert total == {
            "group": None,
            "label": "Total",
            "suppressed": False,
            "count": len(in_period_referrals(world)),
            "duty_to_notify": sum(in_period(r.day) for r in world.reports),
        }

    async def test_counts_a_referral_once_in_each_of_its_types(self, world: World) -> None:
        rows = (await world.get("referrals", by="exploitation_type")).json()["rows"]

        filed = in_period_referrals(world)
        assert sum(r["count"] for r in rows[:-1]) == sum(len(f.types) for f in filed)
        assert rows[-1]["count"] == len(filed) < sum(len(f.types) for f in filed)

    async def test_leaves_out_what_was_filed_outside_the_period(self, world: World) -> None:
        everything = {"from": BEFORE.isoformat(), "to": AFTER.isoformat()}
        rows = (await world.get("referrals", by="gender", **everything)).json()["rows"]

        assert rows[-1]["count"] == len(world.referrals) > len(in_period_referrals(world))
        assert rows[-1]["duty_to_notify"] == len(world.reports)

    async def test_names_each_group(self, world: World) -> None:
        labels = {}
        for by in ("organisation", "local_authority", "police_force", "nationality", "sector"):
            rows = (await world.get("referrals", by=by)).json()["rows"]
            labels.update({(by, r["group"]): r["label"] for r in rows})

        assert labels[("organisation", "south-wales-police")] == "South Wales Police"
        assert labels[("local_authority", "W06000015")] == "Cardiff"
        assert labels[("police_force", "gwent-police")] == "Gwent Police"
        assert labels[("nationality", "AL")] == "Albania"
        assert labels[("nationality", "unknown")] == "Unknown"
        assert labels[("sector", "local_authority")] == "Local authority"
        assert labels[("sector", None)] == "Total"

    async def test_defaults_to_the_year_to_date_on_the_service_clock(self, world: World) -> None:
        response = await world.client.get(
            f"{API}/referrals", params={"by": "gender"}, headers=world.users["auditor"].headers
        )

        body = response.json()
        today = AFTER + timedelta(days=30)  # where the world left the test clock
        assert (body["from"], body["to"]) == ("2025-01-01", today.isoformat())
        assert body["rows"][-1]["count"] == len(world.referrals)

    async def test_refuses_a_period_that_ends_before_it_starts(self, world: World) -> None:
        response = await world.get(
            "referrals", by="gender", **{"from": "2025-04-02", "to": "2025-04-01"}
        )

        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "from"

    @pytest.mark.parametrize("by", ["decision_unit", "immigration_status", "ethnicity", ""])
    async def test_refuses_a_breakdown_it_does_not_offer(self, world: World, by: str) -> None:
        response = await world.get("referrals", by=by)

        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")

    async def test_refuses_a_request_without_a_breakdown(self, world: World) -> None:
        response = await world.client.get(
            f"{API}/referrals", params=QUERY, headers=world.users["auditor"].headers
        )

        assert response.status_code == 422


DECISION_KEYS = (*REFERRAL_KEYS, "decision_unit")
STAGES = ("reasonable_grounds", "conclusive_grounds")


class TestDecisionBreakdowns:
    @pytest.mark.parametrize("stage", STAGES)
    @pytest.mark.parametrize("by", DECISION_KEYS)
    async def test_counts_outcomes_time_and_deadlines_per_group(
        self, world: World, by: str, stage: str
    ) -> None:
        response = await world.get("decisions", by=by, stage=stage)

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["by"], body["stage"]) == (by, stage)
        assert body["rows"][-1]["group"] is None
        assert_decision_rows(body["rows"], expected_decisions(world, by, stage))

    async def test_breaks_down_by_immigration_status_through_the_compartment(
        self, world: World
    ) -> None:
        response = await world.get("decisions", by="immigration_status")

        rows = response.json()["rows"]
        expected = expected_decisions(world, "immigration_status", "reasonable_grounds")
        assert {r["group"]: r["count"] for r in rows} == {
            k: v["count"] for k, v in expected.items()
        }
        for row in rows:  # the compartment's aggregate does not count deadlines
            assert (row["met"], row["missed"]) == (None, None)
            assert row["median_working_days"] == pytest.approx(
                expected[row["group"]]["median_working_days"]
            )

    async def test_defaults_to_reasonable_grounds(self, world: World) -> None:
        body = (await world.get("decisions", by="gender")).json()

        assert body["stage"] == "reasonable_grounds"
        assert (
            body["rows"][-1]["count"]
            == expected_decisions(world, "gender", "reasonable_grounds")[None]["count"]
        )

    async def test_refuses_an_unknown_stage(self, world: World) -> None:
        response = await world.get("decisions", by="gender", stage="final")

        assert response.status_code == 422


class TestDisparities:
    @pytest.mark.parametrize("by", ["nationality", "sector", "decision_unit", "immigration_status"])
    async def test_gives_each_group_its_rate_interval_and_test(self, world: World, by: str) -> None:
        from scipy import stats

        response = await world.get("disparities", by=by)

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["test"] in {"chi-square", "fisher-exact", "none"}
        assert (body["alpha"], body["adjustment"]) == (0.05, "holm")
        expected = expected_decisions(world, by, "reasonable_grounds")
        for row in body["rows"]:
            figures = expected[row["group"]]
            assert (row["count"], row["positive"]) == (figures["count"], figures["positive"])
            assert row["rate"] == pytest.approx(figures["positive"] / figures["count"])
            wilson = stats.binomtest(figures["positive"], figures["count"]).proportion_ci(
                confidence_level=0.95, method="wilson"
            )
            assert (row["ci_low"], row["ci_high"]) == pytest.approx((wilson.low, wilson.high))
            if row["group"] is not None and row["p_value"] is not None:
                assert row["p_adjusted"] >= row["p_value"]
                assert row["flagged"] is (row["p_adjusted"] < 0.05)


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _as_csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TestCsv:
    @pytest.mark.parametrize(
        ("path", "by"),
        [
            ("referrals", "exploitation_type"),
            ("decisions", "nationality"),
            ("disparities", "sector"),
        ],
    )
    async def test_has_the_columns_and_values_of_the_json(
        self, world: World, path: str, by: str
    ) -> None:
        as_json = (await world.get(path, by=by)).json()["rows"]
        response = await world.get(path, by=by, format="csv")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        header = next(csv.reader(io.StringIO(response.text)))
        assert header == list(as_json[0])
        assert _csv_rows(response.text) == [
            {k: _as_csv(v) for k, v in row.items()} for row in as_json
        ]


PATHS = ("referrals", "decisions", "disparities", "report")
OTHER_ROLES = [r for r in Role if r not in (Role.AUDITOR, Role.SENIOR_DECISION_MAKER)]


class TestAccess:
    @pytest.mark.parametrize("role", OTHER_ROLES)
    async def test_refuses_every_role_but_auditors_and_senior_decision_makers(
        self, world: World, role: Role
    ) -> None:
        for path in PATHS:
            response = await world.get(path, user=f"role:{role.value}", by="gender")

            assert response.status_code == 403, (path, response.text)
            assert response.json()["type"].endswith("/forbidden")

    async def test_refuses_a_caller_without_a_token(self, world: World) -> None:
        for path in PATHS:
            response = await world.client.get(f"{API}/{path}", params={"by": "gender"})

            assert response.status_code == 401

    @pytest.mark.parametrize("path", ["decisions", "disparities"])
    async def test_refuses_a_senior_decision_maker_by_immigration_status(
        self, world: World, path: str
    ) -> None:
        response = await world.get(path, user=f"senior1:{ALL_WALES}", by="immigration_status")

        assert response.status_code == 403
        assert response.json()["type"].endswith("/forbidden")

    async def test_refuses_a_senior_decision_maker_the_report(self, world: World) -> None:
        response = await world.get("report", user=f"senior1:{ALL_WALES}")

        assert response.status_code == 403

    @pytest.mark.parametrize("unit", [PANEL, ALL_WALES])
    async def test_shows_a_senior_decision_maker_only_their_units_referrals(
        self, world: World, unit: str
    ) -> None:
        rows = (await world.get("referrals", user=f"senior1:{unit}", by="gender")).json()["rows"]

        expected = expected_referrals(world, "gender", unit=unit)
        assert {r["group"]: (r["count"], r["duty_to_notify"]) for r in rows[:-1]} == expected
        assert rows[-1]["count"] == sum(f.unit == unit for f in in_period_referrals(world))
        assert 0 < rows[-1]["count"] < len(in_period_referrals(world))

    @pytest.mark.parametrize("unit", [PANEL, ALL_WALES])
    async def test_shows_a_senior_decision_maker_only_their_units_decisions(
        self, world: World, unit: str
    ) -> None:
        for path in ("decisions", "disparities"):
            body = (await world.get(path, user=f"senior1:{unit}", by="decision_unit")).json()

            expected = expected_decisions(world, "decision_unit", "reasonable_grounds", unit=unit)
            assert set(expected) == {unit, None}
            assert_decision_rows(
                [{k: r[k] for k in r if k in DECISION_FIELDS} for r in body["rows"]], expected
            )


DECISION_FIELDS = (
    "group",
    "count",
    "positive",
    "negative",
    "median_working_days",
    "p90_working_days",
    "met",
    "missed",
    "suppressed",
)


class RowCounter:
    """Counts the rows the database hands back, statement by statement, on an engine."""

    def __init__(self) -> None:
        self.rows = 0
        self.statements = 0

    def __call__(self, _conn: Any, cursor: Any, *_args: Any) -> None:
        # SQLAlchemy's async adaptors fetch a result's rows into `_rows` during execute: what
        # sits there is exactly what crossed from the database to Python.
        self.rows += len(getattr(cursor, "_rows", ()) or ())
        self.statements += 1


class TestOneAggregation:
    @pytest.mark.parametrize(
        ("path", "by", "groups"),
        [
            ("referrals", "gender", 4),
            ("referrals", "exploitation_type", 4),
            ("decisions", "nationality", 5),
            ("disparities", "sector", 4),
        ],
    )
    async def test_fetches_one_row_per_group_and_one_for_the_totals(
        self, world: World, path: str, by: str, groups: int
    ) -> None:
        counter = RowCounter()
        engine = world.app.state.engine.sync_engine
        event.listen(engine, "after_cursor_execute", counter)
        try:
            response = await world.get(path, by=by)
        finally:
            event.remove(engine, "after_cursor_execute", counter)

        assert len(response.json()["rows"]) == groups + 1
        # The sign-in and the test clock read a handful of rows; the table reads groups + 1.
        bound = groups + 1 + 6
        assert groups + 1 <= counter.rows <= bound
        assert bound < len(in_period_referrals(world))  # pulling rows to count them would fail


class TestPercentiles:
    async def test_equal_postgresqls_percentile_cont_over_the_stored_days(
        self, world: World, backend: Backend
    ) -> None:
        if backend.name != "postgresql":
            pytest.skip("percentile_cont is PostgreSQL's")
        from sqlalchemy import text

        async with world.app.state.sessionmaker() as session:
            expected = {
                row.unit: (row.median, row.p90)
                for row in await session.execute(
                    text(
                        "SELECT o.code AS unit,"
                        " percentile_cont(0.5) WITHIN GROUP (ORDER BY d.working_days) AS median,"
                        " percentile_cont(0.9) WITHIN GROUP (ORDER BY d.working_days) AS p90"
                        " FROM decisions d JOIN organisations o ON o.id = d.unit_id"
                        " WHERE d.stage = 'reasonable_grounds' AND d.status = 'effective'"
                        " AND d.decided_on BETWEEN :start AND :end GROUP BY o.code"
                    ),
                    {"start": START, "end": END},
                )
            }
        rows = (await world.get("decisions", by="decision_unit")).json()["rows"]

        assert len(expected) == 2
        for row in rows[:-1]:
            got = (row["median_working_days"], row["p90_working_days"])
            assert got == pytest.approx(expected[row["group"]])
