"""Who is calling: the bearer token → the current user, re-read on every request; the role gate.

`Requires(permission)` is the one role check every route uses (403). The user, their roles and
organisation are loaded from the database on every request (once, in one statement, kept on
`request.state` for the request's other dependencies and its route), so a deactivated user's
tokens stop working at once, and stay refused after a reactivation (a token carries the user's
token generation, bumped on deactivation); a role change takes effect on the next request.

A user whose stored roles break the rule of roles held alone (a row older than the rule) acts
only with `roles.usable_roles(...)`: never with both sides of the wall (docs/separation.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from starlette.requests import Request

from app.errors import Forbidden, NotAuthenticated
from app.http import DbSession, get_app_settings
from app.identity.models import User
from app.identity.permissions import Permission, holds, refusal
from app.identity.principal import Principal
from app.identity.roles import usable_roles
from app.identity.security import read_token

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def load_signed_in_user(session: AsyncSession, request: Request, token: str | None) -> User:
    """The active user a token of their current generation names, with their organisation and
    roles, in one statement; or 401."""
    if not token:
        raise NotAuthenticated("Sign in first: this request needs a bearer token.")
    claims = read_token(get_app_settings(request), token)
    expired = NotAuthenticated("Your sign-in is not valid or has expired: sign in again.")
    if claims is None:
        raise expired
    result = await session.execute(
        select(User)
        .where(User.id == claims.user_id)
        .options(joinedload(User.organisation, innerjoin=True), joinedload(User.role_rows))
    )
    user = result.unique().scalar_one_or_none()
    if user is None or not user.is_active or claims.generation != user.token_generation:
        raise expired
    return user


def principal_of(user: User) -> Principal:
    """The user as the rest of the service sees them (their usable roles only)."""
    roles = usable_roles(user.roles)
    return Principal(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        organisation_id=user.organisation_id,
        organisation_code=user.organisation.code,
        sector=user.organisation.sector,
        roles=roles,
        roles_withheld=roles != user.roles,
    )


async def load_principal(session: AsyncSession, request: Request, token: str | None) -> Principal:
    """The active user a token of their current generation names, or 401."""
    return principal_of(await load_signed_in_user(session, request, token))


async def get_signed_in_user(
    request: Request, session: DbSession, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The current user's row (401 without a valid token), read once per request: every
    dependency and route that asks again gets the same row, with no further statement."""
    cached: User | None = getattr(request.state, "user", None)
    if cached is None:
        cached = await load_signed_in_user(session, request, token)
        request.state.user = cached
    return cached


CurrentUser = Annotated[User, Depends(get_signed_in_user)]
"""The signed-in user's row, with their organisation and stored roles loaded (`/me`)."""


async def get_principal(request: Request, user: CurrentUser) -> Principal:
    """The current user (401 without a valid token), built once per request."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is None:
        cached = principal_of(user)
        request.state.principal = cached
    return cached


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def check_permission(principal: Principal, permission: Permission) -> Principal:
    """The first gate: 403 when none of the user's roles holds the permission."""
    if holds(principal.roles, permission):
        return principal
    if principal.roles_withheld:
        raise Forbidden(
            "Your account holds roles that may not be held together, so it may not do this. "
            "Ask an administrator to correct your roles."
        )
    raise Forbidden(refusal(permission))


def requires(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency returning the current user once they hold `permission`."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        return check_permission(principal, permission)

    dependency.nrm_permission = permission  # type: ignore[attr-defined]
    return dependency


def Requires(permission: Permission) -> Any:  # noqa: N802 - reads as a declaration
    """`actor: Annotated[Principal, Requires(Permission.X)]` in a route's signature."""
    return Depends(requires(permission))
