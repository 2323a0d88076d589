"""`/duty-to-notify/new`: the anonymous duty-to-notify report, filed as `POST /duty-to-notify`.

It takes gender, nationality and the exploitation only (MSA 2015 s52), never a name. A first
responder arrives here from the referral form when an adult does not consent (`?reason=
no-consent`), with those answers carried over; a hidden idempotency key makes a double click
file one report.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from app import idempotency, labels
from app.errors import AppError, IdempotencyKeyReused
from app.http import RequestNow
from app.i18n.core import gettext
from app.i18n.core_noop import N_
from app.identity import service as identity
from app.identity.permissions import Permission
from app.intake import service as intake
from app.intake.schemas import DutyToNotifyCreate
from app.web.forms import FormErrors, FormValues
from app.web.pages import Page, PageRoute, checked_form, once, signed_in

router = APIRouter(route_class=PageRoute)
Notifier = Annotated[Page, Depends(signed_in(Permission.FILE_DUTY_TO_NOTIFY))]
ENDPOINT = "/duty-to-notify/new"
FIELDS = ("gender", "nationality", "exploitation.location", "exploitation.local_authority")
REQUIRED = {
    "gender": N_("Select the person's gender"),
    "exploitation.types": N_("Select at least one type of exploitation"),
    "exploitation.location": N_("Select where the exploitation happened"),
    "exploitation.local_authority": N_("Select the local authority where the person is now"),
}
SENT_BEFORE = N_(
    "This form was sent before with other answers. Check your answers and send it again."
)


@router.get("/duty-to-notify/new")
async def new_report(page: Notifier) -> Response:
    query = page.request.query_params
    values = FormValues(
        {name: query.get(name, "") for name in FIELDS},
        {"exploitation.types": query.getlist("exploitation.types")},
    )
    no_consent = query.get("reason") == "no-consent"
    return await show(
        page, values, FormErrors(plain=REQUIRED), str(uuid.uuid4()), no_consent=no_consent
    )


async def show(
    page: Page,
    values: FormValues,
    errors: FormErrors,
    key: str,
    status_code: int = 200,
    *,
    no_consent: bool = False,
) -> Response:
    authorities = await identity.list_local_authorities(page.session)
    named = [(a.ons_code, labels.local_name(a, page.language)) for a in authorities]
    return page.render(
        "duty_to_notify.html",
        status_code=status_code,
        values=values,
        errors=errors,
        idempotency_key=key,
        no_consent=no_consent or values.get("reason") == "no-consent",
        countries=labels.countries(page.language),
        local_authorities=sorted(named, key=lambda pair: pair[1]),
    )


def report_body(values: FormValues) -> dict[str, object]:
    exploitation: dict[str, object] = {"types": [t for t in values.all("exploitation.types") if t]}
    for name in ("location", "local_authority"):
        if values.get(f"exploitation.{name}"):
            exploitation[name] = values.get(f"exploitation.{name}")
    body: dict[str, object] = {
        "nationality": values.get("nationality") or None,
        "exploitation": exploitation,
    }
    if values.get("gender"):
        body["gender"] = values.get("gender")
    return body


@router.post("/duty-to-notify/new")
async def file_report(request: Request, page: Notifier, now: RequestNow) -> Response:
    values = FormValues.of(await checked_form(request, page))
    errors = FormErrors(plain=REQUIRED)
    body = report_body(values)
    key = values.get("idempotency_key") or str(uuid.uuid4())
    try:
        form = DutyToNotifyCreate.model_validate(body)
    except ValidationError as exc:
        errors.add_validation(exc)
        return await show(page, values, errors, key, 422)
    try:
        reference = await _file_once(page, form, key, body, now=now)
    except IdempotencyKeyReused:
        errors.add("", gettext(SENT_BEFORE))
        return await show(page, values, errors, str(uuid.uuid4()), 422)
    except AppError as exc:
        if exc.status != 422:
            raise
        errors.add_problem(exc)
        return await show(page, values, errors, key, 422)
    return page.redirect("/duty-to-notify/filed?" + urlencode({"reference": reference}))


async def _file_once(
    page: Page, form: DutyToNotifyCreate, key: str, body: dict[str, object], *, now: datetime
) -> str:
    """File the report once per key; its reference (the first one's, on a retry)."""

    async def filed() -> idempotency.StoredResponse:
        report = await intake.file_duty_to_notify(page.session, page.actor, form, now=now)
        return idempotency.StoredResponse(303, {"reference": report.reference}, {})

    answer = await once(page, ENDPOINT, key, body, now=now, create=filed)
    return str(answer.body["reference"])


@router.get("/duty-to-notify/filed")
async def filed(page: Notifier, reference: str = "") -> Response:
    return page.render("duty_to_notify_filed.html", reference=reference[:40])
