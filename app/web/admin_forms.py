"""The administrators' forms that add an organisation or a user (`/admin/organisations/new`,
`/admin/users/new`), with the API's body fields as names.

Each calls what `POST /organisations` and `POST /users` call (`identity.service`), with the
same checks and the same `organisation.created` / `user.created` event. A refused form (a taken
code or username is 409, the rest 422) is shown again with everything typed but the password,
which is never sent back. The hidden `idempotency_key` makes a double click add one: the
second answers as the first (`app.idempotency`, as the referral form).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from app import idempotency, labels
from app.errors import AppError, IdempotencyKeyReused
from app.http import RequestNow
from app.i18n.core import gettext, translate
from app.i18n.core_noop import N_
from app.identity import service as identity
from app.identity.permissions import Permission
from app.identity.schemas import OrganisationCreate, UserCreate
from app.web.forms import FormErrors, FormValues
from app.web.pages import Page, PageRoute, checked_form, once, signed_in

router = APIRouter(route_class=PageRoute)
OrganisationAdmin = Annotated[Page, Depends(signed_in(Permission.MANAGE_ORGANISATIONS))]
UserAdmin = Annotated[Page, Depends(signed_in(Permission.MANAGE_USERS))]
ORGANISATION_FIELDS = ("code", "name", "name_cy", "sector", "local_authority", "email")
USER_FIELDS = ("username", "display_name", "password", "organisation", "email")
ORGANISATION_PLAIN = {
    "code": N_("Enter a code for the organisation"),
    "name": N_("Enter the organisation's name in English"),
    "sector": N_("Select the organisation's sector"),
}
USER_PLAIN = {
    "username": N_("Enter a username"),
    "display_name": N_("Enter the person's name"),
    "password": N_("Enter a password for the account"),
    "organisation": N_("Select the organisation the person works for"),
    "roles": N_("Select at least one role"),
}
SENT_BEFORE = N_(
    "This form was sent before with other answers. Check your answers and send it again."
)
# Where each service refusal without a field of its own belongs on the form.
CONFLICT_FIELD = {"duplicate-code": "code", "username-taken": "username"}
# All organisations fit one list (Wales has a few dozen); this bounds the query all the same.
ORGANISATIONS_LISTED = 1000


@router.get("/admin/organisations/new")
async def new_organisation(page: OrganisationAdmin) -> Response:
    return await show_organisation_form(page, FormValues(), FormErrors(), str(uuid.uuid4()))


async def show_organisation_form(
    page: Page, values: FormValues, errors: FormErrors, key: str, status_code: int = 200
) -> Response:
    authorities = await identity.list_local_authorities(page.session)
    return page.render(
        "admin_organisation_form.html",
        status_code=status_code,
        values=values,
        errors=errors,
        idempotency_key=key,
        sectors=labels.choices("sector"),
        local_authorities=sorted(
            ((a.ons_code, labels.local_name(a, page.language)) for a in authorities),
            key=lambda pair: pair[1],
        ),
    )


@router.post("/admin/organisations/new")
async def add_organisation(request: Request, page: OrganisationAdmin, now: RequestNow) -> Response:
    """`POST /organisations` from the form; blank optional fields are left out."""
    values = FormValues.of(await checked_form(request, page))
    body = {name: values.get(name).strip() for name in ORGANISATION_FIELDS if values.get(name)}
    key = values.get("idempotency_key") or str(uuid.uuid4())
    errors = FormErrors(plain=ORGANISATION_PLAIN)

    async def create() -> idempotency.StoredResponse:
        form = OrganisationCreate.model_validate(body)
        await identity.create_organisation(page.session, page.actor, form, now=now)
        return idempotency.StoredResponse(303, None, {"Location": "/admin?done=organisation"})

    outcome = await _once(page, "/admin/organisations/new", key, body, create, errors, now=now)
    if isinstance(outcome, str):
        return page.redirect(outcome)
    return await show_organisation_form(page, values, errors, *outcome)


@router.get("/admin/users/new")
async def new_user(page: UserAdmin) -> Response:
    return await show_user_form(page, FormValues(), FormErrors(), str(uuid.uuid4()))


async def show_user_form(
    page: Page, values: FormValues, errors: FormErrors, key: str, status_code: int = 200
) -> Response:
    organisations = await identity.list_organisations(
        page.session, after=None, limit=ORGANISATIONS_LISTED
    )
    return page.render(
        "admin_user_form.html",
        status_code=status_code,
        values=values,
        errors=errors,
        idempotency_key=key,
        roles=labels.choices("role"),
        organisations=sorted(
            ((o.code, labels.local_name(o, page.language)) for o in organisations),
            key=lambda pair: pair[1].casefold(),
        ),
    )


@router.post("/admin/users/new")
async def add_user(request: Request, page: UserAdmin, now: RequestNow) -> Response:
    """`POST /users` from the form: the roles ticked, blank fields left out."""
    form = await checked_form(request, page)
    body: dict[str, Any] = {name: str(form.get(name) or "") for name in USER_FIELDS}
    body = {name: value for name, value in body.items() if value.strip()}
    body["roles"] = [str(r) for r in form.getlist("roles")]
    # Never shown again: the password is left out of what fills the form.
    values = _without_password(FormValues.of(form))
    key = str(form.get("idempotency_key") or "") or str(uuid.uuid4())
    errors = FormErrors(plain=USER_PLAIN)

    async def create() -> idempotency.StoredResponse:
        user = await identity.create_user(
            page.session, page.settings, page.actor, UserCreate.model_validate(body), now=now
        )
        location = f"/admin/users/{user.id}?done=created"
        return idempotency.StoredResponse(303, None, {"Location": location})

    # The password is no part of the stored request's hash.
    hashed = {k: v for k, v in body.items() if k != "password"}
    outcome = await _once(page, "/admin/users/new", key, hashed, create, errors, now=now)
    if isinstance(outcome, str):
        return page.redirect(outcome)
    return await show_user_form(page, values, errors, *outcome)


def _without_password(values: FormValues) -> FormValues:
    data = {k: values.get(k) for k in (*USER_FIELDS, "idempotency_key") if k != "password"}
    return FormValues(data, {"roles": values.all("roles")})


async def _once(
    page: Page,
    endpoint: str,
    key: str,
    body: dict[str, Any],
    create: Callable[[], Awaitable[idempotency.StoredResponse]],
    errors: FormErrors,
    *,
    now: datetime,
) -> str | tuple[str, int]:
    """Run `create` once per key; where to go next, or (the key, the status) to show the form
    again with `errors` filled (the schema's 422, the service's 409 or 422)."""
    try:
        answer = await once(page, endpoint, key, body, now=now, create=create)
        return str(answer.headers["Location"])
    except ValidationError as exc:
        errors.add_validation(exc)
        return key, 422
    except IdempotencyKeyReused:
        errors.add("", gettext(SENT_BEFORE))
        return str(uuid.uuid4()), 422
    except AppError as exc:
        if exc.status not in {409, 422}:
            raise
        if not exc.errors and exc.slug in CONFLICT_FIELD:
            errors.add(CONFLICT_FIELD[exc.slug], translate(exc.detail))
        else:
            errors.add_problem(exc)
        return key, exc.status
