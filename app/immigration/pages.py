"""The immigration liaison's pages (WEB.md "Pages", `/immigration`), for immigration officers only.

* `GET /immigration`: the look-up by Home Office reference (a GET form). A reference that a
  referral holds shows its record page; none is a clear not-found message (404), a malformed
  one the form again with its error (422). It is the officer's home page too.
* `GET /immigration/{referral_id}`: the record page: the referral's identification outcome as
  `GET /referrals/{id}/outcome` gives it to the role (status and decision dates, nothing else
  of the referral), the immigration record, and its form: change (the record's version as
  `If-Match`, from a hidden field) or, where there is no record yet, create
  (`If-None-Match: *`).
* `POST /immigration/{referral_id}`: the form, run as `PUT /referrals/{id}/immigration`, once
  per the form's hidden `idempotency_key` (new at each render, `pages.once`): a form sent twice
  answers the second time as the first. A refusal is not remembered (its claim of the key rolls
  back with it): the form, corrected, may be sent again with the same key.

They call the compartment's own service, as its router does: the same role gate (403 for every
other role, before anything is read), the same order (422, 404, 412), the same audit events
(`immigration.looked_up`, `immigration.viewed`, `immigration.updated`, and the outcome's
`referral.outcome_viewed`). A stale version shows the page again with the record as it now
stands and what was typed kept.

They live in the compartment and are installed by `app.main` through `app.web.extensions`:
`app.web` never imports the compartment (import-linter), and nothing but the compartment and
`app.main` imports this module.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from pydantic import ValidationError
from sqlalchemy.orm.exc import StaleDataError
from starlette.requests import Request
from starlette.responses import Response

from app import idempotency, labels
from app.errors import IdempotencyKeyReused, NotFound, PreconditionFailed
from app.http import RequestNow
from app.i18n.core import gettext
from app.i18n.core_noop import N_
from app.identity.permissions import Permission
from app.identity.roles import Role
from app.immigration import service
from app.immigration.models import ImmigrationRecord
from app.immigration.schemas import HomeOfficeReference, ImmigrationWrite
from app.schemas import RequestModel
from app.web import extensions, rendering
from app.web.forms import FormErrors, FormValues
from app.web.outcome_view import read_outcome
from app.web.pages import Page, PageRoute, checked_form, once, signed_in

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Page, Depends(signed_in(Permission.READ_IMMIGRATION))]
Writer = Annotated[Page, Depends(signed_in(Permission.WRITE_IMMIGRATION))]
TEMPLATES = Path(__file__).parent / "templates"
FIELD = "home_office_reference"
ENTER_REFERENCE = N_("Enter a Home Office reference")
NO_REFERRAL = N_("No referral holds this Home Office reference. Check the reference and try again.")
PLAIN = {"status": N_("Select the person's immigration status")}
CHANGED = N_(
    "Someone changed this immigration record while you were writing: the page now shows it as "
    "it stands. Read it, then send your form again. What you typed is kept below."
)
STATUS_NOW = N_("Its immigration status is now: %(status)s.")
NONE_NOW = N_("No immigration record is recorded for this referral.")
SENT_BEFORE = N_(
    "This form was sent before with other answers. Check your answers and send it again."
)
DONE = {
    "created": N_("The immigration record is saved"),
    "changed": N_("The immigration record is changed"),
}


class LookupForm(RequestModel):
    """The look-up's one field, as `GET /immigration/lookup` takes it."""

    home_office_reference: HomeOfficeReference


async def lookup_home(page: Page) -> Response:
    """The officer's home page: the look-up form."""
    return _lookup_page(page, FormValues(), FormErrors())


def _lookup_page(
    page: Page, values: FormValues, errors: FormErrors, status_code: int = 200
) -> Response:
    return page.render(
        "immigration_lookup.html",
        status_code=status_code,
        values=values,
        errors=errors,
    )


@router.get("/immigration")
async def look_up(page: Reader, now: RequestNow) -> Response:
    """The look-up form; with a reference, the record page of the referral that holds it."""
    values = FormValues.of(page.request.query_params)
    if FIELD not in page.request.query_params:
        return _lookup_page(page, FormValues(), FormErrors())
    errors = FormErrors()
    try:
        form = LookupForm.model_validate({FIELD: values.get(FIELD)})
    except ValidationError as exc:
        if values.get(FIELD):
            errors.add_validation(exc)
        else:
            errors.add(FIELD, gettext(ENTER_REFERENCE))
        return _lookup_page(page, values, errors, 422)
    try:
        found = await service.look_up(
            page.session, page.actor.audit_ref(), form.home_office_reference, now=now
        )
    except NotFound:
        errors.add(FIELD, gettext(NO_REFERRAL))
        return _lookup_page(page, values, errors, 404)
    return await _record_page(page, found.referral_id, now)


@router.get("/immigration/{referral_id}")
async def show_record(
    page: Reader, referral_id: uuid.UUID, now: RequestNow, done: str = ""
) -> Response:
    return await _record_page(page, referral_id, now, notice=DONE.get(done))


async def _record_page(
    page: Page,
    referral_id: uuid.UUID,
    now: datetime,
    *,
    values: FormValues | None = None,
    errors: FormErrors | None = None,
    notice: str | None = None,
    stale: bool = False,
    status_code: int = 200,
    key: str = "",
) -> Response:
    """The outcome and the record, each read audited as the API's reads are (404 when there
    is no such referral), with the form filled from the record or from what was typed, and its
    idempotency key: the one sent, or a new one."""
    outcome = await read_outcome(page.session, page.actor, referral_id, now=now)
    record = await _record_or_none(page, referral_id, now)
    errors = errors or FormErrors()
    if stale:
        now_reads = (
            gettext(STATUS_NOW) % {"status": labels.label("immigration_status", record.status)}
            if record
            else gettext(NONE_NOW)
        )
        errors.add("", f"{gettext(CHANGED)} {now_reads}")
    return page.render(
        "immigration_record.html",
        status_code=status_code,
        referral_id=referral_id,
        outcome=outcome,
        record=record,
        values=values or _values_of(record),
        errors=errors,
        notice=gettext(notice) if notice else None,
        idempotency_key=key or str(uuid.uuid4()),
    )


async def _record_or_none(
    page: Page, referral_id: uuid.UUID, now: datetime
) -> ImmigrationRecord | None:
    try:
        return await service.read(page.session, page.actor.audit_ref(), referral_id, now=now)
    except NotFound:
        return None  # the referral exists (its outcome was read): it has no record yet


def _values_of(record: ImmigrationRecord | None) -> FormValues:
    if record is None:
        return FormValues()
    return FormValues(
        {"status": record.status, FIELD: record.home_office_reference or ""},
        {"status": [record.status]},
    )


def _body(values: FormValues) -> dict[str, Any]:
    """The form as `PUT`'s body: a blank reference is none, no status chosen is missing."""
    body: dict[str, Any] = {}
    if values.get("status"):
        body["status"] = values.get("status")
    if values.get(FIELD):
        body[FIELD] = values.get(FIELD)
    return body


@router.post("/immigration/{referral_id}")
async def save_record(
    request: Request, page: Writer, referral_id: uuid.UUID, now: RequestNow
) -> Response:
    """Create the record (a form without a version: `If-None-Match: *`) or change it (its
    version as `If-Match`), as `PUT /referrals/{id}/immigration` does."""
    values = FormValues.of(await checked_form(request, page))
    errors = FormErrors(plain=PLAIN)
    key = values.get("idempotency_key") or str(uuid.uuid4())
    try:
        body = ImmigrationWrite.model_validate(_body(values))
    except ValidationError as exc:
        errors.add_validation(exc)
        return await _record_page(
            page, referral_id, now, values=values, errors=errors, status_code=422, key=key
        )
    version = values.get("version")

    posted: dict[str, object] = {"version": version, "body": body.model_dump(mode="json")}
    put = partial(_put, page, referral_id, body, version, now)
    try:
        answer = await once(page, f"/immigration/{referral_id}", key, posted, now=now, create=put)
    except (PreconditionFailed, StaleDataError):
        return await _record_page(
            page, referral_id, now, values=values, stale=True, status_code=412, key=key
        )
    except IdempotencyKeyReused:
        errors.add("", gettext(SENT_BEFORE))
        return await _record_page(
            page, referral_id, now, values=values, errors=errors, status_code=422
        )
    return page.redirect(str(answer.headers["Location"]))


async def _put(
    page: Page, referral_id: uuid.UUID, body: ImmigrationWrite, version: str, now: datetime
) -> idempotency.StoredResponse:
    """`PUT /referrals/{id}/immigration`: create without a version, change with it."""
    await service.put(
        page.session,
        page.actor.audit_ref(),
        referral_id,
        status=body.status,
        home_office_reference=body.home_office_reference,
        if_match=f'"{version}"' if version else None,
        if_none_match=None if version else "*",
        now=now,
    )
    done = "changed" if version else "created"
    return idempotency.StoredResponse(
        303, None, {"Location": f"/immigration/{referral_id}?done={done}"}
    )


SECTION = extensions.Section(
    path="/immigration",
    label=N_("Immigration records"),
    permission=Permission.READ_IMMIGRATION,
    home_of=frozenset({Role.IMMIGRATION_OFFICER}),
    home=lookup_home,
)


def install(app: FastAPI) -> None:
    """Add the pages to the app, their templates to the loader, their section to the web."""
    rendering.add_templates(TEMPLATES)
    extensions.add_section(SECTION)
    app.include_router(router, include_in_schema=False)
