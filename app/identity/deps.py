"""Who is calling: the bearer token → the current user, re-read on every request; the role gate.

`Requires(permission)` is the one role check every route uses (403). The user, their roles and
organisation are loaded from the database each time, so a deactivated user's tokens stop
working at once and a role change takes effect on the next request.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.requests import Request

from app.audit.service import ActorRef
from app.errors import Forbidden, NotAuthenticated
from app.http import DbSession
from app.identity.models import User
from app.identity.permissions import Permission, holds
from app.identity.roles import Role, effective_roles
from app.identity.security import user_id_from_token

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user as the rest of the service sees them."""

    id: uuid.UUID
    username: str
    display_name: str
    organisation_id: uuid.UUID
    organisation_code: str
    sector: str
    roles: frozenset[Role]

    @property
    def acting_roles(self) -> frozenset[Role]:
        """The roles with their implications (a senior decision maker is a decision maker)."""
        return effective_roles(self.roles)

    def has(self, role: Role) -> bool:
        return role in self.acting_roles

    def audit_ref(self) -> ActorRef:
        return ActorRef(self.id, self.organisation_code, tuple(sorted(self.roles)))


async def load_principal(session: AsyncSession, request: Request, token: str | None) -> Principal:
    """The active user a token names, or 401."""
    if not token:
        raise NotAuthenticated("a bearer token is required")
    user_id = user_id_from_token(request.app.state.settings, token)
    if user_id is None:
        raise NotAuthenticated("the token is invalid or has expired")
    user = await session.scalar(
        select(User)
        .where(User.id == user_id)
        .options(selectinload(User.organisation), selectinload(User.role_rows))
    )
    if user is None or not user.is_active:
        raise NotAuthenticated("the token is invalid or has expired")
    return Principal(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        organisation_id=user.organisation_id,
        organisation_code=user.organisation.code,
        sector=user.organisation.sector,
        roles=user.roles,
    )


async def get_principal(
    request: Request, session: DbSession, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """The current user (401 without a valid token)."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is None:
        cached = await load_principal(session, request, token)
        request.state.principal = cached
    return cached


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def check_permission(principal: Principal, permission: Permission) -> Principal:
    """The first gate: 403 when none of the user's roles holds the permission."""
    if not holds(principal.roles, permission):
        raise Forbidden(f"your roles do not allow {permission.value}")
    return principal


def requires(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency returning the current user once they hold `permission`."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        return check_permission(principal, permission)

    dependency.nrm_permission = permission  # type: ignore[attr-defined]
    return dependency


def Requires(permission: Permission) -> Any:  # noqa: N802 - reads as a declaration
    """`actor: Annotated[Principal, Requires(Permission.X)]` in a route's signature."""
    return Depends(requires(permission))
