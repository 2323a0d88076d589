"""Start-up checks of identity data: users whose stored roles break the rule of roles held alone.

Since revision 0006 no one can create or change a user to hold `admin` or `immigration_officer`
beside another role, but a row written before may. Such a user acts only with
`roles.usable_roles(...)` (never with both sides of the wall); this check names each one in the
log at start-up, so an operator corrects their roles. It never refuses to start, and a database
that cannot be read yet (not migrated) is logged, not raised.
"""

from __future__ import annotations

from collections import defaultdict

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.identity.models import User, UserRole
from app.identity.roles import SOLITARY_ROLES, Role, combination_problem, usable_roles

log = structlog.get_logger("app.identity.checks")


async def users_with_forbidden_roles(session: AsyncSession) -> dict[str, list[str]]:
    """Username → sorted roles, for every user whose roles may not be held together."""
    holders = select(UserRole.user_id).where(
        UserRole.role.in_([r.value for r in SOLITARY_ROLES | {Role.AUDITOR}])
    )
    rows = await session.execute(
        select(User.username, UserRole.role)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.id.in_(holders))
    )
    roles: dict[str, set[Role]] = defaultdict(set)
    for username, role in rows:
        roles[username].add(Role(role))
    return {
        name: sorted(r.value for r in held)
        for name, held in sorted(roles.items())
        if combination_problem(held) is not None
    }


async def report_forbidden_role_combinations(factory: async_sessionmaker[AsyncSession]) -> int:
    """Log one error line per offending user; returns how many there are (-1: not checked)."""
    try:
        async with factory() as session:
            found = await users_with_forbidden_roles(session)
    except SQLAlchemyError as exc:
        log.warning("role_combination_check_skipped", error=type(exc).__name__)
        return -1
    for username, roles in found.items():
        log.error(
            "user_holds_roles_that_may_not_be_combined",
            username=username,
            roles=roles,
            acting_as=sorted(usable_roles(frozenset(Role(r) for r in roles))),
            fix="PATCH /api/v1/users/{id} with the roles this person should keep",
        )
    return len(found)
