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
    """The kind of organisation (DESIGN §3); `decision_unit` decides referrals."""

    POLICE = "police"
    HEALTH = "health"
    LOCAL_AUTHORITY = "local_authority"
    CHARITY = "charity"
    HOME_OFFICE = "home_office"
    DECISION_UNIT = "decision_unit"


def effective_roles(roles: frozenset[Role] | set[Role]) -> frozenset[Role]:
    """The roles a user acts with: a senior decision maker may do all a decision maker may."""
    if Role.SENIOR_DECISION_MAKER in roles:
        return frozenset(roles) | {Role.DECISION_MAKER}
    return frozenset(roles)
