"""The closed vocabularies of identity: roles and organisation sectors.

Pure: no SQLAlchemy, no FastAPI, so the workflow table can name roles. What each role may do is
in `app.identity.permissions`; this module only names them.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user does in the mechanism (DESIGN §2); a user may hold several."""

    FIRST_RESPONDER = "first_responder"
    DECISION_MAKER = "decision_maker"
    SENIOR_DECISION_MAKER = "senior_decision_maker"
    PANEL_MEMBER = "panel_member"
    IMMIGRATION_OFFICER = "immigration_officer"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Sector(StrEnum):
    """The kind of organisation (DESIGN §3); `decision_unit` decides referrals, `oversight`
    (inspectors and auditors) decides nothing and can never be routed a referral."""

    POLICE = "police"
    HEALTH = "health"
    LOCAL_AUTHORITY = "local_authority"
    CHARITY = "charity"
    HOME_OFFICE = "home_office"
    DECISION_UNIT = "decision_unit"
    OVERSIGHT = "oversight"


def effective_roles(roles: frozenset[Role] | set[Role]) -> frozenset[Role]:
    """The roles a user acts with: a senior decision maker may do all a decision maker may."""
    if Role.SENIOR_DECISION_MAKER in roles:
        return frozenset(roles) | {Role.DECISION_MAKER}
    return frozenset(roles)


SOLITARY_ROLES = frozenset({Role.ADMIN, Role.IMMIGRATION_OFFICER})
"""Roles a user holds alone (docs/separation.md, "Roles that are held alone"). An admin manages
accounts and must not act in cases; the immigration liaison is the only reader of the
compartment, so beside any role that reads a referral one person would see both sides."""


DECIDING_ROLES = frozenset({Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER, Role.PANEL_MEMBER})
"""Roles that decide whether a person is a victim (DESIGN §5: no immigration fact reaches them).
An auditor reads the `immigration` audit track, so `auditor` is never held beside one of them."""


def label(role: Role) -> str:
    """The role in words: `immigration officer`."""
    return role.value.replace("_", " ")


def combination_problem(roles: frozenset[Role] | set[Role]) -> str | None:
    """Why these roles may not be held together, in words; None when they may."""
    solitary = sorted(r for r in roles if r in SOLITARY_ROLES)
    if len(roles) < 2:
        return None
    if not solitary:
        return _auditor_beside_a_decider(roles)
    if len(solitary) > 1:
        return (
            f"The {' and '.join(label(r) for r in solitary)} roles must each be held alone, "
            "with no other role: give each of them to a separate account."
        )
    return (
        f"The {label(solitary[0])} role must be held alone, with no other role: give the "
        "other roles to a separate account."
    )


def _auditor_beside_a_decider(roles: frozenset[Role] | set[Role]) -> str | None:
    deciding = sorted(r for r in roles if r in DECIDING_ROLES)
    if Role.AUDITOR not in roles or not deciding:
        return None
    return (
        f"The auditor role cannot be held beside the {' or '.join(label(r) for r in deciding)} "
        "role: auditors read the immigration part of the audit trail, which must never reach "
        "the people who decide. Give the auditor role to a separate account."
    )


def usable_roles(held: frozenset[Role]) -> frozenset[Role]:
    """The roles a user acts with, given the roles stored for them.

    Roles stored before the rule above (a legacy row) may break it; such a user never acts
    with both sides: an admin acts as admin only (admins read no case), anyone else whose
    roles may not be combined acts with no role at all until an admin corrects their roles.
    """
    if combination_problem(held) is None:
        return held
    if Role.ADMIN in held:
        return frozenset({Role.ADMIN})
    return frozenset()
