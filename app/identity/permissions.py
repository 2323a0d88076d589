"""The permission vocabulary and the one table that says which roles hold each permission.

This is the first of the three gates (STYLE.md): a route declares the permission it needs with
`Requires(...)` from `app.identity.deps`, and a caller whose roles hold none of it gets 403
before anything else is looked at. Visibility (404) is the second gate, in each feature's
queries; the workflow's guards (409, and 403 for separation of duties) are the third.
"""

from __future__ import annotations

from enum import StrEnum

from app.identity.roles import Role, effective_roles


class Permission(StrEnum):
    """Something a route does; granted to roles by `ROLE_PERMISSIONS`."""

    READ_ORGANISATIONS = "organisations:read"
    MANAGE_ORGANISATIONS = "organisations:manage"
    MANAGE_USERS = "users:manage"
    FILE_REFERRAL = "referrals:file"
    FILE_DUTY_TO_NOTIFY = "duty_to_notify:file"
    READ_REFERRAL = "referrals:read"
    READ_OUTCOME = "referrals:read_outcome"
    ADD_NOTE = "referrals:add_note"
    RECORD_AGE = "referrals:record_age"
    REROUTE = "referrals:reroute"
    WITHDRAW = "referrals:withdraw"
    SUSPEND = "referrals:suspend"
    ASSIGN = "referrals:assign"
    DECIDE = "decisions:decide"
    REVIEW = "decisions:review"
    REQUEST_RECONSIDERATION = "reconsideration:request"
    DECIDE_RECONSIDERATION = "reconsideration:decide"
    READ_QUEUE = "queue:read"
    DOWNLOAD_LETTER = "letters:download"
    READ_IMMIGRATION = "immigration:read"
    WRITE_IMMIGRATION = "immigration:write"
    READ_AUDIT = "audit:read"
    READ_TIMELINE = "timeline:read"
    READ_STATISTICS = "statistics:read"
    USE_TEST_CLOCK = "test_clock:use"
    MANAGE_NOTIFICATIONS = "notifications:manage"


_ALL = frozenset(Role)
FR, DM, SDM, PM = (
    Role.FIRST_RESPONDER,
    Role.DECISION_MAKER,
    Role.SENIOR_DECISION_MAKER,
    Role.PANEL_MEMBER,
)

ROLE_PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.READ_ORGANISATIONS: _ALL,
    Permission.MANAGE_ORGANISATIONS: frozenset({Role.ADMIN}),
    Permission.MANAGE_USERS: frozenset({Role.ADMIN}),
    Permission.FILE_REFERRAL: frozenset({FR}),
    Permission.FILE_DUTY_TO_NOTIFY: frozenset({FR}),
    Permission.READ_REFERRAL: frozenset({FR, DM, PM, Role.AUDITOR}),
    Permission.READ_OUTCOME: frozenset({FR, Role.IMMIGRATION_OFFICER}),
    Permission.ADD_NOTE: frozenset({FR, DM}),
    Permission.RECORD_AGE: frozenset({DM}),
    Permission.REROUTE: frozenset({SDM}),
    Permission.WITHDRAW: frozenset({FR, DM}),
    Permission.SUSPEND: frozenset({DM}),
    Permission.ASSIGN: frozenset({DM}),
    Permission.DECIDE: frozenset({DM}),
    Permission.REVIEW: frozenset({SDM, PM}),
    Permission.REQUEST_RECONSIDERATION: frozenset({FR}),
    Permission.DECIDE_RECONSIDERATION: frozenset({DM}),
    Permission.READ_QUEUE: frozenset({DM, PM}),
    # CASEWORK: the referrer's first responders pass letters on; the deciding unit may too.
    Permission.DOWNLOAD_LETTER: frozenset({FR, DM, PM}),
    Permission.READ_IMMIGRATION: frozenset({Role.IMMIGRATION_OFFICER}),
    Permission.WRITE_IMMIGRATION: frozenset({Role.IMMIGRATION_OFFICER}),
    Permission.READ_AUDIT: frozenset({Role.AUDITOR}),
    Permission.READ_TIMELINE: frozenset({Role.AUDITOR, DM}),
    Permission.READ_STATISTICS: frozenset({Role.AUDITOR, SDM}),
    Permission.USE_TEST_CLOCK: _ALL,
    Permission.MANAGE_NOTIFICATIONS: frozenset({Role.ADMIN}),
}


DESCRIPTIONS: dict[Permission, str] = {
    Permission.READ_ORGANISATIONS: "see the list of organisations",
    Permission.MANAGE_ORGANISATIONS: "add organisations",
    Permission.MANAGE_USERS: "create or change user accounts",
    Permission.FILE_REFERRAL: "file a referral",
    Permission.FILE_DUTY_TO_NOTIFY: "file a duty to notify report",
    Permission.READ_REFERRAL: "read referrals",
    Permission.READ_OUTCOME: "see the outcome of a referral",
    Permission.ADD_NOTE: "add a note to a referral",
    Permission.RECORD_AGE: "record the age of a potential victim",
    Permission.REROUTE: "send a referral to another decision unit",
    Permission.WITHDRAW: "withdraw a referral",
    Permission.SUSPEND: "suspend or resume a referral",
    Permission.ASSIGN: "assign a referral to a decision maker",
    Permission.DECIDE: "make or propose a decision on a referral",
    Permission.REVIEW: "review a proposed decision",
    Permission.REQUEST_RECONSIDERATION: "ask for a decision to be reconsidered",
    Permission.DECIDE_RECONSIDERATION: "decide a request for reconsideration",
    Permission.READ_QUEUE: "see the queue of work",
    Permission.DOWNLOAD_LETTER: "download a decision letter",
    Permission.READ_IMMIGRATION: "see immigration records",
    Permission.WRITE_IMMIGRATION: "record immigration status",
    Permission.READ_AUDIT: "read the audit trail",
    Permission.READ_TIMELINE: "see the timeline of a referral",
    Permission.READ_STATISTICS: "see statistics",
    Permission.USE_TEST_CLOCK: "use the test clock",
    Permission.MANAGE_NOTIFICATIONS: "watch and retry notifications",
}
"""What each permission lets a person do, in words, for the 403 a caller without it gets."""


def refusal(permission: Permission) -> str:
    """The sentence a caller without the permission reads."""
    return f"Your roles do not allow you to {DESCRIPTIONS[permission]}."


def holds(roles: frozenset[Role], permission: Permission) -> bool:
    """Whether a user with these roles holds the permission (seniors act as decision makers)."""
    return bool(effective_roles(roles) & ROLE_PERMISSIONS[permission])
