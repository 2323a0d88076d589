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
    READ_IMMIGRATION = "immigration:read"
    WRITE_IMMIGRATION = "immigration:write"
    READ_AUDIT = "audit:read"
    READ_TIMELINE = "timeline:read"
    READ_STATISTICS = "statistics:read"
    USE_TEST_CLOCK = "test_clock:use"


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
    Permission.READ_IMMIGRATION: frozenset({Role.IMMIGRATION_OFFICER}),
    Permission.WRITE_IMMIGRATION: frozenset({Role.IMMIGRATION_OFFICER}),
    Permission.READ_AUDIT: frozenset({Role.AUDITOR}),
    Permission.READ_TIMELINE: frozenset({Role.AUDITOR, DM}),
    Permission.READ_STATISTICS: frozenset({Role.AUDITOR, SDM}),
    Permission.USE_TEST_CLOCK: _ALL,
}


def holds(roles: frozenset[Role], permission: Permission) -> bool:
    """Whether a user with these roles holds the permission (seniors act as decision makers)."""
    return bool(effective_roles(roles) & ROLE_PERMISSIONS[permission])
