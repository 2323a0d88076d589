"""What a transition does to the referral's clocks, applied by the one pure function
(`app.referrals.clocks.apply`) from the table's rows. Pure: no database. How the clocks show
over HTTP is in `test_deadlines_api.py`."""

from __future__ import annotations

from datetime import date

from app.days import add_working_days, working_days_between
from app.referrals import clocks
from app.referrals.clocks import Clock, Clocks, Periods
from app.referrals.workflow import TRANSITIONS, Command, Status

PERIODS = Periods(rg_due_working_days=5, recovery_period_days=30, panel_review_working_days=10)
TODAY = date(2026, 11, 24)  # a Tuesday
BEFORE = Clocks(
    rg_due=date(2026, 11, 20),
    recovery_period_ends=date(2026, 12, 10),
    panel_review_due=date(2026, 12, 1),
    suspended_on=date(2026, 11, 17),
    review_due=date(2026, 11, 20),
)


def row(command: Command) -> clocks.ClockEffect:
    return next(t for t in TRANSITIONS if t.command == command).clock


def apply(command: Command, target: Status, before: Clocks = BEFORE) -> Clocks:
    return clocks.apply(row(command), before, target=target, today=TODAY, periods=PERIODS)


def test_the_status_rg_due_times_is_named_by_its_value() -> None:
    assert clocks.AWAITING_RG == Status.AWAITING_RG


def test_a_positive_rg_decision_starts_the_recovery_period() -> None:
    after = apply(Command.DECIDE_RG_POSITIVE, Status.RECOVERY_PERIOD)
    assert after.recovery_period_ends == date(2026, 12, 24)
    assert (after.rg_due, after.panel_review_due) == (BEFORE.rg_due, BEFORE.panel_review_due)


def test_an_rg_proposal_is_reviewed_by_rg_due() -> None:
    after = apply(Command.PROPOSE_RG_NEGATIVE, Status.AWAITING_RG, BEFORE)
    assert after.review_due == BEFORE.rg_due


def test_a_cg_proposal_starts_the_panel_deadline_and_its_review_follows() -> None:
    after = apply(Command.PROPOSE_CG_NEGATIVE, Status.RECOVERY_PERIOD)
    assert after.panel_review_due == add_working_days(TODAY, 10)
    assert after.review_due == after.panel_review_due


def test_every_review_stops_the_panel_deadline() -> None:
    reviews = (Command.CONFIRM_RG_NEGATIVE, Command.REJECT_RG_NEGATIVE, Command.PANEL_AGREE)
    for command in (*reviews, Command.PANEL_DISAGREE):
        assert apply(command, Status.RG_NEGATIVE).panel_review_due is None


def test_suspending_starts_the_suspension_today() -> None:
    before = Clocks(BEFORE.rg_due, None, None, None)
    assert apply(Command.SUSPEND, Status.SUSPENDED, before).suspended_on == TODAY


def test_resuming_to_awaiting_rg_counts_rg_due_afresh_and_moves_the_rest() -> None:
    after = apply(Command.RESUME, Status.AWAITING_RG)
    assert after.rg_due == add_working_days(TODAY, 5)
    assert after.recovery_period_ends == date(2026, 12, 17)  # 7 calendar days later
    moved = working_days_between(BEFORE.suspended_on or TODAY, TODAY)
    assert after.panel_review_due == add_working_days(date(2026, 12, 1), moved)
    assert after.review_due == after.panel_review_due
    assert after.suspended_on is None


def test_resuming_to_the_recovery_period_leaves_rg_due_alone() -> None:
    assert apply(Command.RESUME, Status.RECOVERY_PERIOD).rg_due == BEFORE.rg_due


def test_withdrawing_stops_the_panel_deadline_and_the_suspension() -> None:
    after = apply(Command.WITHDRAW, Status.WITHDRAWN)
    assert (after.panel_review_due, after.suspended_on) == (None, None)
    assert after.rg_due == BEFORE.rg_due


def test_an_accepted_reconsideration_counts_rg_due_afresh_only_back_at_rg() -> None:
    assert apply(Command.ACCEPT_RECONSIDERATION, Status.AWAITING_RG).rg_due == date(2026, 12, 1)
    assert apply(Command.ACCEPT_RECONSIDERATION, Status.RECOVERY_PERIOD).rg_due == BEFORE.rg_due


def test_commands_without_a_clock_change_nothing() -> None:
    for command in (Command.ASSIGN, Command.ADD_NOTE, Command.RECORD_AGE, Command.REROUTE):
        assert apply(command, Status.AWAITING_RG) == BEFORE


def test_a_proposal_review_follows_only_a_deadline_of_its_stage() -> None:
    named = {t.command: t.clock.review_due for t in TRANSITIONS if t.clock.review_due}
    assert named == {
        Command.PROPOSE_RG_NEGATIVE: Clock.RG_DUE,
        Command.PROPOSE_CG_NEGATIVE: Clock.PANEL_REVIEW_DUE,
        Command.RESUME: Clock.PANEL_REVIEW_DUE,
    }
