"""`/referrals/new`: the referral form, filed through the intake service as `POST /referrals`.

One `<form>` holds every field of the API (WEB.md "Forms"). Submitting it files the referral at
once and goes (303) to its page. The form's hidden `idempotency_key` makes a double click file
one referral: the second submission waits for the first and answers as it did (the same
`app.idempotency` records as the API's `Idempotency-Key`). An adult who does not consent is sent
to the duty-to-notify form, with the reason; any other refusal shows the form again (422) with
everything typed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from app import idempotency, labels
from app.errors import AppError, ConsentRequired, IdempotencyKeyReused
from app.http import RequestNow
from app.i18n.core import gettext
from app.i18n.core_noop import N_
from app.identity import service as identity
from app.identity.permissions import Permission
from app.intake import service as intake
from app.intake.schemas import ReferralCreate
from app.web import referral_fields
from app.web.forms import FormErrors, FormValues
from app.web.pages import Page, PageRoute, checked_form, once, signed_in

router = APIRouter(route_class=PageRoute)
FirstResponder = Annotated[Page, Depends(signed_in(Permission.FILE_REFERRAL))]
ENDPOINT = "/referrals/new"
SENT_BEFORE = N_(
    "This form was sent before with other answers. Check your answers and send it again."
)


@router.get("/referrals/new")
async def new_referral(page: FirstResponder) -> Response:
    return await show_new(page)


async def show_new(page: Page, template: str = "referral_form.html", **context: Any) -> Response:
    """A new, empty form with a key of its own: on its page, or on a page that holds it (a
    first responder's home page, `template` with its own `context`)."""
    values = FormValues({"potential_victim.correspondence_language": page.language})
    errors = referral_fields.errors()
    return await show(page, values, errors, str(uuid.uuid4()), template=template, **context)


async def show(
    page: Page,
    values: FormValues,
    errors: FormErrors,
    key: str,
    status_code: int = 200,
    *,
    template: str = "referral_form.html",
    **context: Any,
) -> Response:
    """The form in `template` (which includes `_referral_form.html`), with what was typed."""
    authorities = await identity.list_local_authorities(page.session)
    return page.render(
        template,
        status_code=status_code,
        **context,
        values=values,
        errors=errors,
        idempotency_key=key,
        countries=labels.countries(page.language),
        languages=labels.languages(page.language),
        local_authorities=sorted(
            ((a.ons_code, labels.local_name(a, page.language)) for a in authorities),
            key=lambda pair: pair[1],
        ),
    )


@router.post("/referrals/new")
async def file_referral(request: Request, page: FirstResponder, now: RequestNow) -> Response:
    values = FormValues.of(await checked_form(request, page))
    errors = referral_fields.errors()
    body = referral_fields.referral_body(values, errors)
    key = values.get("idempotency_key") or str(uuid.uuid4())
    try:
        form = ReferralCreate.model_validate(body)
    except ValidationError as exc:
        errors.add_validation(exc)
    if errors:
        return await show(page, values, errors, key, 422)
    try:
        location = await _file_once(page, form, key, body, now=now)
    except ConsentRequired as exc:
        if referral_fields.YES_NO.get(values.get("consent.given")) is False:
            return page.redirect(_duty_to_notify_url(values))
        errors.add("consent.given", gettext(referral_fields.REQUIRED["consent.given"]))
        del exc
        return await show(page, values, errors, key, 422)
    except IdempotencyKeyReused:
        errors.add("", gettext(SENT_BEFORE))
        return await show(page, values, errors, str(uuid.uuid4()), 422)
    except AppError as exc:
        if exc.status != 422:
            raise
        errors.add_problem(exc)
        return await show(page, values, errors, key, 422)
    return page.redirect(location)


async def _file_once(
    page: Page, form: ReferralCreate, key: str, body: dict[str, object], *, now: datetime
) -> str:
    """File the referral once per key; the address of its page (the first one's, on a retry)."""

    async def filed() -> idempotency.StoredResponse:
        referral = await intake.file_referral(
            page.session, page.settings, page.actor, form, now=now
        )
        location = f"/referrals/{referral.id}?filed=1"
        return idempotency.StoredResponse(303, None, {"Location": location})

    answer = await once(page, ENDPOINT, key, body, now=now, create=filed)
    return str(answer.headers["Location"])


def _duty_to_notify_url(values: FormValues) -> str:
    """The duty-to-notify form, with the reason and what it may hold of the referral form:
    gender, nationality and the exploitation, never anything that names the person."""
    params: list[tuple[str, str]] = [("reason", "no-consent")]
    for name in (
        "potential_victim.gender",
        "potential_victim.nationality",
        "exploitation.location",
        "exploitation.local_authority",
    ):
        if values.get(name):
            params.append(
                (
                    name.rsplit(".", 1)[-1] if name.startswith("potential") else name,
                    values.get(name),
                )
            )
    params += [("exploitation.types", t) for t in values.all("exploitation.types")]
    return "/duty-to-notify/new?" + urlencode(params)
