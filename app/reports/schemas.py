"""The statistics vocabulary and response shapes (API.md "Statistics").

Owns the names a client may ask for (`by`, `format`, `stage`), the age groups, and the JSON
documents of `/statistics/referrals`, `/statistics/decisions` and `/statistics/disparities`,
whose CSV has the same columns as their rows. Must not query or compute anything: rows arrive
already counted and suppressed from `app.reports.service`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.referrals.workflow import Stage


class Breakdown(StrEnum):
    """What a table's rows are (`by`): the Home Office's published breakdowns."""

    SECTOR = "sector"  # the referring organisation's sector
    ORGANISATION = "organisation"  # the referring organisation (its code)
    EXPLOITATION_TYPE = "exploitation_type"  # a referral counts once in each of its types
    AGE_GROUP = "age_group"  # adult, child or unknown at exploitation (AgeGroup)
    GENDER = "gender"
    NATIONALITY = "nationality"  # ISO 3166-1 alpha-2, `unknown` when not recorded
    LOCAL_AUTHORITY = "local_authority"  # ONS code of where the exploitation was reported
    POLICE_FORCE = "police_force"  # the force covering that local authority (its code)
    DECISION_UNIT = "decision_unit"  # the unit that made the decision (decisions only)
    IMMIGRATION_STATUS = "immigration_status"  # via the compartment's aggregate (decisions only)


REFERRAL_BREAKDOWNS = frozenset(Breakdown) - {Breakdown.DECISION_UNIT, Breakdown.IMMIGRATION_STATUS}
"""API.md: referrals are not broken down by deciding unit or immigration status."""


class AgeGroup(StrEnum):
    """Age group at exploitation (docs/statistics.md gives the rule)."""

    ADULT = "adult"
    CHILD = "child"
    UNKNOWN = "unknown"  # neither a date of birth nor an estimated age was recorded


class OutputFormat(StrEnum):
    """`format`: a JSON document, or its rows as CSV with the same columns."""

    JSON = "json"
    CSV = "csv"


class _Document(BaseModel):
    """A statistics document: its period (inclusive Welsh dates) and breakdown."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    by: Breakdown


class ReferralRow(BaseModel):
    """Referrals filed and duty-to-notify reports made in the period, in one group."""

    group: str | None  # None on the totals row, the last
    label: str | None
    count: int | None  # None when suppressed
    duty_to_notify: int | None
    suppressed: bool


class ReferralStatistics(_Document):
    rows: list[ReferralRow]


class DecisionRow(BaseModel):
    """Decisions in effect of one stage, decided in the period, in one group."""

    group: str | None
    label: str | None
    count: int | None
    positive: int | None
    negative: int | None
    median_working_days: float | None
    p90_working_days: float | None
    met: int | None  # None for conclusive grounds, which has no deadline
    missed: int | None
    suppressed: bool


class DecisionStatistics(_Document):
    stage: Stage
    rows: list[DecisionRow]


class DisparityRow(BaseModel):
    """A group's positive-decision rate, its Wilson interval and its test against the rest."""

    group: str | None
    label: str | None
    count: int | None
    positive: int | None
    negative: int | None
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None  # Holm-adjusted across the groups compared
    flagged: bool | None  # p_adjusted below alpha; None when the row is suppressed
    median_working_days: float | None
    p90_working_days: float | None
    met: int | None
    missed: int | None
    suppressed: bool


class DisparityStatistics(_Document):
    stage: Stage
    test: str  # the test of independence used for the whole table
    p_value: float | None  # that test's p-value over every group
    alpha: float
    adjustment: str
    rows: list[DisparityRow]
