"""Routes of identity: sign-in, `/me`, organisations and users (API.md "Auth and identity")."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, StrictStr
from starlette.requests import Request
from starlette.responses import Response

from app.errors import InvalidCredentials, TooManyRequests
from app.http import AppSettings, DbSession, Paging, RequestNow
from app.identity import contact, service
from app.identity.deps import CurrentPrincipal, CurrentUser, Requires
from app.identity.models import User
from app.identity.permissions import Permission
from app.identity.principal import Principal
from app.identity.schemas import (
    MeUpdate,
    OrganisationCreate,
    OrganisationRead,
    OrganisationRef,
    OrganisationUpdate,
    TokenResponse,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.identity.security import issue_token
from app.openapi import problems
from app.problems import problem_response
from app.routing import api_router
from app.schemas import Page

router = api_router(tags=["identity"])

Admin = Annotated[Principal, Requires(Permission.MANAGE_USERS)]
OrganisationAdmin = Annotated[Principal, Requires(Permission.MANAGE_ORGANISATIONS)]
AnyUser = Annotated[Principal, Requires(Permission.READ_ORGANISATIONS)]


def present_user(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        organisation=OrganisationRef.model_validate(user.organisation),
        roles=sorted(user.roles),
        active=user.is_active,
        language=user.language,
        email=user.email,
    )


def too_many_attempts(seconds: int) -> TooManyRequests:
    """The 429 of a throttled sign-in, saying when to try again."""
    minutes = -(-seconds // 60)
    when = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return TooManyRequests(
        f"Too many failed sign-in attempts: try again in {when}.",
        headers={"Retry-After": str(seconds)},
    )


@router.post("/auth/token", response_model=TokenResponse, responses=problems(401, 429))
async def token(
    request: Request,
    response: Response,
    session: DbSession,
    settings: AppSettings,
    now: RequestNow,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenResponse | Response:
    """Sign in with a username and password (OAuth2 password grant, form fields) and get a
    bearer token. A wrong username or password is 401, the same for both; repeated failures
    are 429 with `Retry-After`."""
    # The TCP peer; behind a proxy, uvicorn's --proxy-headers/--forwarded-allow-ips decide it.
    address = request.client.host if request.client else None
    user = await service.authenticate(
        session, settings, form.username, form.password, address=address, now=now
    )
    # A refusal's event must commit: answer, do not raise past the transaction.
    if isinstance(user, service.Throttled):
        return problem_response(too_many_attempts(user.retry_after_seconds), request)
    if user is None:
        wrong = InvalidCredentials("The username or the password is wrong.")
        return problem_response(wrong, request)
    issued = issue_token(settings, user.id, generation=user.token_generation)
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)


@router.get("/me")
async def me(user: CurrentUser) -> UserRead:
    """The signed-in user: their name, organisation and roles."""
    # The row the bearer token was checked against in this request: no second read.
    return present_user(user)


@router.patch("/me")
async def update_me(
    session: DbSession,
    user: CurrentUser,
    principal: CurrentPrincipal,
    body: MeUpdate,
    now: RequestNow,
) -> UserRead:
    """Change the signed-in user's own preferences: `language` (`en` or `cy`), the language
    of the web pages after signing in and of their notifications, and `email`, where their
    notifications go (`null` removes it)."""
    await contact.update_me(session, principal, user, body, now=now)
    return present_user(user)


class OrganisationsAfter(BaseModel):
    """A page of organisations starts after this code."""

    code: StrictStr


@router.get("/organisations")
async def organisations(
    session: DbSession, _user: AnyUser, paging: Paging
) -> Page[OrganisationRead]:
    """A page of the organisations, in order of code, with their sector and, for a child
    decision panel, its local authority."""
    after = paging.after(OrganisationsAfter)
    rows = await service.list_organisations(
        session, after=after.code if after else None, limit=paging.limit + 1
    )
    more = len(rows) > paging.limit
    rows = rows[: paging.limit]
    cursor = paging.next_cursor({"code": rows[-1].code}) if more else None
    return Page(items=[OrganisationRead.model_validate(o) for o in rows], next_cursor=cursor)


@router.post("/organisations", status_code=201, responses=problems(409))
async def create_organisation(
    session: DbSession, actor: OrganisationAdmin, body: OrganisationCreate, now: RequestNow
) -> OrganisationRead:
    """Add an organisation (administrators only); a code already in use is 409."""
    organisation = await service.create_organisation(session, actor, body, now=now)
    return OrganisationRead.model_validate(organisation)


@router.patch("/organisations/{code}", responses=problems(404))
async def update_organisation(
    session: DbSession,
    actor: OrganisationAdmin,
    code: str,
    body: OrganisationUpdate,
    now: RequestNow,
) -> OrganisationRead:
    """Set the organisation's shared `email` (a team mailbox told of its referrals' news), or
    remove it with `null` (administrators only)."""
    organisation = await contact.update_organisation(session, actor, code, body, now=now)
    return OrganisationRead.model_validate(organisation)


@router.post("/users", status_code=201, responses=problems(409))
async def create_user(
    session: DbSession, settings: AppSettings, actor: Admin, body: UserCreate, now: RequestNow
) -> UserRead:
    """Create a user of an organisation with their roles (administrators only). A taken
    username is 409; a weak password or a role that must be held alone beside others is 422.
    The answer never holds the password or its hash."""
    return present_user(await service.create_user(session, settings, actor, body, now=now))


@router.patch("/users/{user_id}", responses=problems(409))
async def update_user(
    session: DbSession, actor: Admin, user_id: uuid.UUID, body: UserUpdate, now: RequestNow
) -> UserRead:
    """Deactivate or reactivate a user, or change their roles, `email` (`null` removes it) or
    `language` (administrators only). A
    deactivated user's tokens stop working at once and stay refused after reactivation; the
    last active administrator cannot be deactivated or demoted (409)."""
    return present_user(await service.update_user(session, actor, user_id, body, now=now))
