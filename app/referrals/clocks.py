"""The referral's clocks and what a transition does to them: the one place that starts, stops
or moves a deadline after filing (DESIGN §4, API.md "Deadlines" and "Suspension").

Owns the vocabulary a row of the transition table uses for its clock effect (`ClockEffect`)
and `apply`, the one function that carries it out on a referral's dates. Filing sets the first
`rg_due` (`app.intake`); everything after is a row of `app.referrals.workflow.TRANSITIONS`.

Pure: no SQLAlchemy, no FastAPI, no clock (the caller passes today's date in Wales). It does not
import `workflow` (which imports it); the one status it needs is named by its value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from app.days import add_working_days, working_days_between

AWAITING_RG = "awaiting_rg"
"""`workflow.Status.AWAITING_RG`: the only status `rg_due` times (a test keeps them equal)."""


class Clock(StrEnum):
    """The referral's clocks: its deadlines, and the day a suspension began."""

    RG_DUE = "rg_due"
    RECOVERY_PERIOD_ENDS = "recovery_period_ends"
    PANEL_REVIEW_DUE = "panel_review_due"
    SUSPENDED_ON = "suspended_on"


class Effect(StrEnum):
    """What a transition does to one clock."""

    START = "start"
    """Counted afresh from today (`rg_due` only when the referral then awaits its RG decision;
    `suspended_on` becomes today, and the status left is remembered)."""
    STOP = "stop"
    """Cleared: what it timed is awaited no more."""
    MOVE = "move"
    """Moved on by the time the referral was suspended: calendar days for the recovery period,
    working days for the other deadlines (API.md "Suspension")."""


@dataclass(frozen=True)
class ClockEffect:
    """What one transition does to each clock; None leaves a clock as it is. `review_due` names
    the clock the pending proposal's review is due with, when that clock runs."""

    rg_due: Effect | None = None
    recovery_period_ends: Effect | None = None
    panel_review_due: Effect | None = None
    suspended_on: Effect | None = None
    review_due: Clock | None = None


NO_CLOCK = ClockEffect()


@dataclass(frozen=True)
class Clocks:
    """A referral's dates that transitions change, and its pending proposal's `review_due`."""

    rg_due: date | None
    recovery_period_ends: date | None
    panel_review_due: date | None
    suspended_on: date | None
    review_due: date | None = None


@dataclass(frozen=True)
class Periods:
    """How long each clock runs (settings: `NRM_RG_DUE_WORKING_DAYS` and the like)."""

    rg_due_working_days: int
    recovery_period_days: int
    panel_review_working_days: int


def _one(
    effect: Effect | None, current: date | None, *, start: date | None, moved: date | None
) -> date | None:
    if effect is Effect.START:
        return start
    if effect is Effect.STOP:
        return None
    if effect is Effect.MOVE:
        return moved
    return current


def _plus(day: date | None, step: timedelta) -> date | None:
    return None if day is None else day + step


def _working_days_on(day: date | None, days: int) -> date | None:
    return None if day is None else add_working_days(day, days)


def apply(
    effect: ClockEffect, clocks: Clocks, *, target: str, today: date, periods: Periods
) -> Clocks:
    """The clocks after a transition to `target` with `effect`, taken `today` (in Wales)."""
    since = clocks.suspended_on or today  # a move counts the days suspended, since then
    suspended = working_days_between(since, today)
    # rg_due times the RG decision only: it starts afresh only if the referral then awaits it.
    rg_start = add_working_days(today, periods.rg_due_working_days)
    after = Clocks(
        rg_due=_one(
            effect.rg_due,
            clocks.rg_due,
            start=rg_start if target == AWAITING_RG else clocks.rg_due,
            moved=_working_days_on(clocks.rg_due, suspended),
        ),
        recovery_period_ends=_one(
            effect.recovery_period_ends,
            clocks.recovery_period_ends,
            start=today + timedelta(days=periods.recovery_period_days),
            moved=_plus(clocks.recovery_period_ends, timedelta(days=(today - since).days)),
        ),
        panel_review_due=_one(
            effect.panel_review_due,
            clocks.panel_review_due,
            start=add_working_days(today, periods.panel_review_working_days),
            moved=_working_days_on(clocks.panel_review_due, suspended),
        ),
        suspended_on=_one(effect.suspended_on, clocks.suspended_on, start=today, moved=since),
        review_due=clocks.review_due,
    )
    followed = getattr(after, effect.review_due.value) if effect.review_due else None
    return after if followed is None else replace(after, review_due=followed)
