"""Routes of identity: sign-in, `/me`, organisations and users (API.md "Auth and identity")."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordRequestForm
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.errors import InvalidCredentials, TooManyRequests
from app.http import DbSession, Paging, RequestNow, encode_cursor
from app.identity import service
from app.identity.deps import CurrentPrincipal, Principal, Requires
from app.identity.models import User
from app.identity.permissions import Permission
from app.identity.schemas import (
    OrganisationCreate,
    OrganisationRead,
    OrganisationRef,
    TokenResponse,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.identity.security import issue_token
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
    )


@router.post("/auth/token", response_model=TokenResponse)
async def token(
    request: Request,
    session: DbSession,
    now: RequestNow,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Response:
    settings = request.app.state.settings
    user = await service.authenticate(session, settings, form.username, form.password, now=now)
    # A refusal's event must commit: answer, do not raise past the transaction.
    if isinstance(user, service.Throttled):
        retry = {"Retry-After": str(user.retry_after_seconds)}
        refusal = TooManyRequests("too many failed log-ins; try again later", headers=retry)
        return problem_response(refusal, request)
    if user is None:
        return problem_response(InvalidCredentials("invalid username or password"), request)
    issued = issue_token(settings, user.id)
    body = TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})


@router.get("/me")
async def me(session: DbSession, principal: CurrentPrincipal) -> UserRead:
    user = await service.load_user(session, principal.id)
    assert user is not None  # the principal was loaded from this row in this request
    return present_user(user)


@router.get("/organisations")
async def organisations(
    session: DbSession, _user: AnyUser, paging: Paging
) -> Page[OrganisationRead]:
    after = paging.after()
    rows = await service.list_organisations(
        session, after=str(after["code"]) if after else None, limit=paging.limit + 1
    )
    more = len(rows) > paging.limit
    rows = rows[: paging.limit]
    cursor = encode_cursor({"code": rows[-1].code}) if more else None
    return Page(items=[OrganisationRead.model_validate(o) for o in rows], next_cursor=cursor)


@router.post("/organisations", status_code=201)
async def create_organisation(
    session: DbSession, actor: OrganisationAdmin, body: OrganisationCreate, now: RequestNow
) -> OrganisationRead:
    organisation = await service.create_organisation(session, actor, body, now=now)
    return OrganisationRead.model_validate(organisation)


@router.post("/users", status_code=201)
async def create_user(
    request: Request, session: DbSession, actor: Admin, body: UserCreate, now: RequestNow
) -> UserRead:
    settings = request.app.state.settings
    return present_user(await service.create_user(session, settings, actor, body, now=now))


@router.patch("/users/{user_id}")
async def update_user(
    session: DbSession, actor: Admin, user_id: uuid.UUID, body: UserUpdate, now: RequestNow
) -> UserRead:
    return present_user(await service.update_user(session, actor, user_id, body, now=now))
