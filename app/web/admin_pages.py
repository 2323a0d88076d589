"""`/admin`: the administrators' page of organisations and users, and a user's own page with
the forms that change their roles or deactivate and reactivate them (WEB.md "Pages").

Every change goes through `identity.service.update_user`, as `PATCH /users/{id}` does: the
same rules (roles held alone, the auditor apart from the deciders, the last active
administrator kept) and the same `user.updated` event. The user's e-mail (blank removes it)
and language (`en` or `cy`) change there too, as `PATCH /users/{id}` changes them. A refused
form is shown again with the API's message and what was chosen or typed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from app import labels
from app.errors import AppError, FieldError, NotFound
from app.http import RequestNow
from app.i18n import core
from app.i18n.core_noop import N_
from app.identity import service as identity
from app.identity.models import User
from app.identity.permissions import Permission
from app.identity.roles import Role
from app.identity.schemas import UserUpdate
from app.web.forms import FormErrors, FormValues
from app.web.pages import Page, PageRoute, checked_form, signed_in

router = APIRouter(route_class=PageRoute)
Admin = Annotated[Page, Depends(signed_in(Permission.MANAGE_USERS))]
PAGE_SIZE = 50
ROLES_PLAIN = {"roles": N_("Select at least one role")}
CHOOSE_ACTIVE = N_("Choose whether the account is active.")
CHOOSE_LANGUAGE = N_("Choose English or Welsh.")
DONE = {
    "organisation": N_("The organisation has been added."),
    "created": N_("The account has been created."),
    "roles": N_("The roles have been saved."),
    "deactivated": N_("The account has been deactivated: the user can no longer sign in."),
    "reactivated": N_("The account has been reactivated: the user can sign in again."),
    "email": N_("The e-mail address has been saved."),
    "no-email": N_("The e-mail address has been removed: the user gets no notifications."),
    "language": N_("The language has been saved."),
}


def role_codes(user: User) -> list[str]:
    """The user's roles in the order of the vocabulary."""
    return [r.value for r in Role if r in user.roles]


@router.get("/admin")
async def admin(
    page: Admin,
    users_after: str | None = None,
    organisations_after: str | None = None,
    done: str | None = None,
) -> Response:
    return await render(
        page, users_after=users_after, organisations_after=organisations_after, done=done
    )


async def render(
    page: Page,
    *,
    users_after: str | None = None,
    organisations_after: str | None = None,
    done: str | None = None,
) -> Response:
    """The organisations and the users, each in pages of `PAGE_SIZE` (an administrator's home)."""
    organisations = await identity.list_organisations(
        page.session, after=organisations_after, limit=PAGE_SIZE + 1
    )
    users = await identity.list_users(page.session, after=users_after, limit=PAGE_SIZE + 1)
    authorities = {
        a.ons_code: labels.local_name(a, page.language)
        for a in await identity.list_local_authorities(page.session)
    }
    shown_organisations, shown_users = organisations[:PAGE_SIZE], users[:PAGE_SIZE]
    return page.render(
        "admin.html",
        organisations=[
            (o, labels.local_name(o, page.language), authorities.get(o.local_authority or ""))
            for o in shown_organisations
        ],
        users=[
            (u, labels.local_name(u.organisation, page.language), role_codes(u))
            for u in shown_users
        ],
        next_organisations=(
            shown_organisations[-1].code if len(organisations) > PAGE_SIZE else None
        ),
        next_users=shown_users[-1].username if len(users) > PAGE_SIZE else None,
        users_paged=bool(users_after),
        organisations_paged=bool(organisations_after),
        done=core.gettext(DONE[done]) if done in DONE else None,
    )


async def _user(page: Page, user_id: uuid.UUID) -> User:
    user = await identity.load_user(page.session, user_id)
    if user is None:
        raise NotFound("There is no user with this id.")
    return user


@router.get("/admin/users/{user_id}")
async def user_page(page: Admin, user_id: uuid.UUID, done: str | None = None) -> Response:
    user = await _user(page, user_id)
    values = saved_values(user)
    message = core.gettext(DONE[done]) if done in DONE else None
    return show_user(page, user, values, FormErrors(), done=message)


def saved_values(user: User, typed: FormValues | None = None, control: str = "") -> FormValues:
    """The user's saved roles, e-mail and language; the refused form's `control` as typed."""
    data = {"email": user.email or "", "language": user.language or ""}
    lists = {"roles": role_codes(user), "language": [user.language or ""]}
    if typed is not None and control:
        data[control], lists[control] = typed.get(control), typed.all(control)
    return FormValues(data, lists)


def show_user(
    page: Page,
    user: User,
    values: FormValues,
    errors: FormErrors,
    *,
    status_code: int = 200,
    done: str | None = None,
) -> Response:
    return page.render(
        "admin_user.html",
        status_code=status_code,
        account=user,
        organisation_name=labels.local_name(user.organisation, page.language),
        role_codes=role_codes(user),
        values=values,
        errors=errors,
        done=done,
    )


@router.post("/admin/users/{user_id}/roles")
async def change_roles(
    request: Request, page: Admin, user_id: uuid.UUID, now: RequestNow
) -> Response:
    """`PATCH /users/{id}` with `roles`: the roles ticked."""
    values = FormValues.of(await checked_form(request, page))
    outcome = await _update(page, user_id, "roles", {"roles": values.all("roles")}, values, now)
    return outcome if isinstance(outcome, Response) else page.redirect(outcome + "?done=roles")


@router.post("/admin/users/{user_id}/active")
async def change_active(
    request: Request, page: Admin, user_id: uuid.UUID, now: RequestNow
) -> Response:
    """`PATCH /users/{id}` with `active`: deactivate (`false`) or reactivate (`true`)."""
    values = FormValues.of(await checked_form(request, page))
    active = {"true": True, "false": False}.get(values.get("active"))
    outcome = await _update(page, user_id, "active", {"active": active}, values, now)
    if isinstance(outcome, Response):
        return outcome
    return page.redirect(outcome + ("?done=reactivated" if active else "?done=deactivated"))


@router.post("/admin/users/{user_id}/email")
async def change_email(
    request: Request, page: Admin, user_id: uuid.UUID, now: RequestNow
) -> Response:
    """`PATCH /users/{id}` with `email`: the address typed, or `null` (removed) when blank."""
    values = FormValues.of(await checked_form(request, page))
    email = values.get("email").strip() or None
    outcome = await _update(page, user_id, "email", {"email": email}, values, now)
    if isinstance(outcome, Response):
        return outcome
    return page.redirect(outcome + ("?done=email" if email else "?done=no-email"))


@router.post("/admin/users/{user_id}/language")
async def change_language(
    request: Request, page: Admin, user_id: uuid.UUID, now: RequestNow
) -> Response:
    """`PATCH /users/{id}` with `language`: `en` or `cy`."""
    values = FormValues.of(await checked_form(request, page))
    language = values.get("language") or None
    outcome = await _update(page, user_id, "language", {"language": language}, values, now)
    return outcome if isinstance(outcome, Response) else page.redirect(outcome + "?done=language")


async def _update(
    page: Page,
    user_id: uuid.UUID,
    control: str,
    body: dict[str, Any],
    values: FormValues,
    now: datetime,
) -> str | Response:
    """Run the API's update; the user's page address, or the page again with the refusal
    beside the form's `control` (422 for what the rules refuse, 409 for the last admin)."""
    errors = FormErrors(plain=ROLES_PLAIN)
    status = 422
    try:
        if control in {"active", "language"} and body[control] is None:
            choose = CHOOSE_ACTIVE if control == "active" else CHOOSE_LANGUAGE
            errors.add(control, core.gettext(choose))
        else:
            update = UserUpdate.model_validate(body)
            async with page.session.begin_nested():
                await identity.update_user(page.session, page.actor, user_id, update, now=now)
            return f"/admin/users/{user_id}"
    except ValidationError as exc:
        errors.add_validation(exc)
    except AppError as exc:
        if exc.status not in {409, 422}:
            raise
        status = exc.status
        for item in exc.errors or [FieldError(control, exc.detail)]:
            errors.add(control, core.translate(item.message))
    user = await _user(page, user_id)  # as saved, after the refused change rolled back
    # The refused form keeps what was typed or chosen; the others show what is saved.
    return show_user(page, user, saved_values(user, values, control), errors, status_code=status)
