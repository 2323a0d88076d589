"""The names an auditor reads: audit actions and tracks, timeline stages, statistics tables,
every one a catalogue message (WEB.md "Language"). The statistics' breakdowns, sectors and age
groups are `app.reports.names`'s, which the report shares.

Codes stay the API's (`referral.submitted`, `sector`); only what a person reads is translated.
Pure: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

from app import labels
from app.audit.actions import Action
from app.audit.models import Track
from app.i18n.core import gettext
from app.i18n.core_noop import N_

ACTIONS: dict[Action, str] = {
    Action.AUTH_LOGIN_SUCCEEDED: N_("Signed in"),
    Action.AUTH_LOGIN_FAILED: N_("Sign-in refused"),
    Action.AUTH_LOGIN_THROTTLED: N_("Sign-in refused after too many attempts"),
    Action.USER_CREATED: N_("User created"),
    Action.USER_UPDATED: N_("User changed"),
    Action.ORGANISATION_CREATED: N_("Organisation created"),
    Action.ORGANISATION_UPDATED: N_("Organisation's mailbox changed"),
    Action.REFERENCE_DATA_LOADED: N_("Reference data loaded"),
    Action.REFERRAL_SUBMITTED: N_("Referral filed"),
    Action.REFERRAL_ROUTED: N_("Referral routed to a decision unit"),
    Action.REFERRAL_VIEWED: N_("Referral read"),
    Action.REFERRAL_OUTCOME_VIEWED: N_("Outcome of a referral read"),
    Action.REFERRAL_WITHDRAWN: N_("Referral withdrawn"),
    Action.REFERRAL_SUSPENDED: N_("Referral suspended"),
    Action.REFERRAL_RESUMED: N_("Referral resumed"),
    Action.REFERRAL_ASSIGNED: N_("Referral assigned"),
    Action.REFERRAL_AGE_RECORDED: N_("Age assessment recorded"),
    Action.NOTE_ADDED: N_("Note added"),
    Action.DECISION_PROPOSED: N_("Negative decision proposed"),
    Action.DECISION_EFFECTIVE: N_("Decision took effect"),
    Action.DECISION_REVIEWED: N_("Proposed decision reviewed"),
    Action.RECONSIDERATION_REQUESTED: N_("Reconsideration requested"),
    Action.RECONSIDERATION_ACCEPTED: N_("Reconsideration accepted"),
    Action.RECONSIDERATION_DECLINED: N_("Reconsideration declined"),
    Action.DUTY_TO_NOTIFY_SUBMITTED: N_("Duty to notify report filed"),
    Action.IMMIGRATION_UPDATED: N_("Immigration record changed"),
    Action.IMMIGRATION_VIEWED: N_("Immigration record read"),
    Action.IMMIGRATION_LOOKED_UP: N_("Home Office reference looked up"),
    Action.LETTER_DOWNLOADED: N_("Decision letter downloaded"),
    Action.NOTIFICATION_SENT: N_("Notification sent"),
    Action.NOTIFICATION_FAILED: N_("Notification failed"),
}
TRACKS: dict[Track, str] = {
    Track.VICTIM: N_("Identification"),
    Track.IMMIGRATION: N_("Immigration"),
    Track.ACCESS: N_("Access to personal data and sign-ins"),
    Track.ADMIN: N_("Administration"),
}
TIMELINE_STAGES = {
    "submitted": N_("Referral filed"),
    "reasonable_grounds": N_("Reasonable grounds decision"),
    "conclusive_grounds": N_("Conclusive grounds decision"),
    "reconsideration": N_("Reconsideration"),
    "withdrawal": N_("Withdrawal"),
}
TABLES = {
    "referrals": N_("Referrals and duty to notify reports"),
    "decisions": N_("Decisions"),
}


def action_name(code: str) -> str:
    """An action's name in the page's language; a name the service does not write as is."""
    try:
        return gettext(ACTIONS[Action(code)])
    except ValueError:
        return code


def track_name(code: str) -> str:
    try:
        return gettext(TRACKS[Track(code)])
    except ValueError:
        return code


def stage_name(code: str) -> str:
    message = TIMELINE_STAGES.get(code)
    return gettext(message) if message else code


def action_choices() -> list[tuple[str, str]]:
    """(code, name) of every action, by name in the page's language."""
    found = [(a.value, gettext(ACTIONS[a])) for a in Action]
    return sorted(found, key=lambda pair: pair[1].casefold())


def track_choices() -> list[tuple[str, str]]:
    return [(t.value, gettext(TRACKS[t])) for t in Track]


def role_names(codes: list[str]) -> str:
    """An actor's roles by name, in the page's language."""
    return ", ".join(labels.label("role", code) for code in codes)
