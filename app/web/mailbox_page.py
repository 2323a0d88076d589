"""`/admin/organisations/{code}/email`: an organisation's shared mailbox, set or removed.

The form calls what `PATCH /organisations/{code}` calls (`identity.contact.update_organisation`):
the same address rule and the same `organisation.updated` event (whether an address is set,
never the address). A blank box removes the mailbox; a refused address is shown again, as
typed, with the API's message (422).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from app import labels
from app.errors import NotFound
from app.http import RequestNow
from app.i18n.core import gettext
from app.i18n.core_noop import N_
from app.identity import contact
from app.identity import service as identity
from app.identity.models import Organisation
from app.identity.permissions import Permission
from app.identity.schemas import OrganisationUpdate
from app.web.forms import FormErrors, FormValues
from app.web.pages import Page, PageRoute, checked_form, signed_in

router = APIRouter(route_class=PageRoute)
OrganisationAdmin = Annotated[Page, Depends(signed_in(Permission.MANAGE_ORGANISATIONS))]
DONE = {
    "email": N_("The shared mailbox has been saved."),
    "no-email": N_("The shared mailbox has been removed."),
}


async def _organisation(page: Page, code: str) -> Organisation:
    organisation = await identity.organisation_by_code(page.session, code)
    if organisation is None:
        raise NotFound("There is no organisation with this code.")
    return organisation


@router.get("/admin/organisations/{code}/email")
async def mailbox(page: OrganisationAdmin, code: str, done: str | None = None) -> Response:
    organisation = await _organisation(page, code)
    values = FormValues({"email": organisation.email or ""})
    message = gettext(DONE[done]) if done in DONE else None
    return _show(page, organisation, values, FormErrors(), done=message)


def _show(
    page: Page,
    organisation: Organisation,
    values: FormValues,
    errors: FormErrors,
    *,
    status_code: int = 200,
    done: str | None = None,
) -> Response:
    return page.render(
        "admin_mailbox.html",
        status_code=status_code,
        organisation=organisation,
        name=labels.local_name(organisation, page.language),
        values=values,
        errors=errors,
        done=done,
    )


@router.post("/admin/organisations/{code}/email")
async def save_mailbox(
    request: Request, page: OrganisationAdmin, code: str, now: RequestNow
) -> Response:
    """`PATCH /organisations/{code}` with `email`: the address typed, or `null` when blank."""
    values = FormValues.of(await checked_form(request, page))
    email = values.get("email").strip() or None
    try:
        body = OrganisationUpdate.model_validate({"email": email})
    except ValidationError as exc:
        errors = FormErrors()
        errors.add_validation(exc)
        return _show(page, await _organisation(page, code), values, errors, status_code=422)
    await contact.update_organisation(page.session, page.actor, code, body, now=now)
    where = f"/admin/organisations/{code}/email"
    return page.redirect(where + ("?done=email" if email else "?done=no-email"))
