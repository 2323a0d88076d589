"""Every word of the statistics report, a catalogue message (the report is in the request's
language, as the pages are). Where the statistics page already says the same thing, the
report uses its message. Pure: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

from app import labels
from app.i18n.core_noop import N_
from app.referrals.workflow import Stage

TITLE = N_("Wales NRM: referrals, decisions and disparities")
PERIOD = N_("Period %(start)s to %(end)s (inclusive, dates in Wales).")
SUPPRESSION = N_(
    "Counts from 1 to %(below)s are suppressed (shown as \u201c\u2013\u201d), and where a "
    "total would give a lone suppressed count back, the next smallest count is suppressed too. "
    "A referral with "
    "several exploitation types counts once in each. Definitions of every figure are in "
    "%(document)s."
)
REFERRALS_OVER_TIME = N_("Referrals over time")
OUTCOMES = N_("Outcomes per stage")
TIME_TO_DECISION = N_("Time to decision")
TIME_NOTE = N_(
    "Working days from the start of the stage (submission for reasonable grounds, the positive "
    "reasonable grounds decision for conclusive grounds) to the decision, as stored on each "
    "decision: median and 90th percentile."
)
DISPARITIES = N_("Disparities")
DISPARITY_NOTE = N_(
    "Positive-decision rate of each group with its Wilson 95%% interval; each group is tested "
    "against all others (chi-square, or Fisher\u2019s exact where expected counts are below 5), "
    "and p-values are adjusted for the number of groups compared (Holm). Flagged rows differ at "
    "the %(alpha)s level after adjustment."
)
BY_DECISION_UNIT = N_("%(stage)s, by decision unit")
BY = N_("%(stage)s, by %(by)s")
TESTED = N_("Across all the groups together, the test (%(test)s) gives p = %(p)s.")
UNTESTED = N_("There are too few decisions to test whether the groups differ.")
DATA = N_("Data: %(file)s")
YES, NO = N_("Yes"), N_("No")
COLUMNS = {
    "duty_to_notify": N_("Duty to notify reports"),
    "positive": N_("Positive"),
    "negative": N_("Negative"),
    "median_working_days": N_("Median working days"),
    "p90_working_days": N_("90th percentile of working days"),
    "met": N_("Deadline met"),
    "missed": N_("Deadline missed"),
    "rate": N_("Rate"),
    "ci_low": N_("Interval from"),
    "ci_high": N_("Interval to"),
    "p_value": N_("p-value"),
    "p_adjusted": N_("Adjusted p-value"),
    "flagged": N_("Flagged"),
}
"""The tables' column headings; `count` is the referrals' or the decisions'."""
REFERRALS, DECISIONS, MONTH = N_("Referrals"), N_("Decisions"), N_("Month")

# The charts
PER_MONTH = N_("Per month")
SUPPRESSED_MARK = N_("x: suppressed (1 to %(below)s)")
SUPPRESSED = N_("suppressed")
POSITIVE_AND_NEGATIVE = N_("%(positive)s positive, %(negative)s negative")
IN_EFFECT = N_("Decisions in effect")
MEDIAN = N_("Median")
PERCENTILE_90 = N_("90th percentile")
WORKING_DAYS = N_("Working days")
NO_RATE = N_("No group has a published rate.")
RATE_AXIS = N_("Positive-decision rate (95% Wilson interval); dashed: all groups")


def stage_name(stage: Stage) -> str:
    """A decision stage's name in the current language (the pages' own)."""
    return labels.label("stage", stage.value)
