"""`/referrals/{id}`: a referral as its reader may see it, and the forms of the commands they
may make on it now (WEB.md "Pages"): for a first responder, a note, a reconsideration request
and withdrawal, each where the workflow's table allows it.

A read is a `referral.viewed` event like the API's. Each command's form carries the referral's
version, which the command compares as `If-Match` (notes take none, as in the API); a refusal
shows the page again with the referral as it now stands, the reason, and the typed text kept.
Each form carries a hidden `idempotency_key` too, new at every render (one per form): the
command runs once per key (`pages.once`), so a form sent twice answers the second time as the
first (the same 303) and changes nothing more. A refusal is not remembered: its claim of the
key rolls back with it, and the form, corrected, may be sent again with the same key.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from app import idempotency, labels
from app.days import wales_date
from app.errors import AppError, IdempotencyKeyReused, PreconditionFailed
from app.http import RequestNow
from app.i18n.core import gettext
from app.i18n.core_noop import N_
from app.identity.permissions import Permission
from app.referrals import access, case_commands, decision_commands, presenters, queries
from app.referrals.command_schemas import NoteCreate, ReconsiderationCreate, WithdrawRequest
from app.referrals.command_steps import CommandResult, permitted
from app.referrals.schemas import ReferralRead
from app.web import kept, timeline_page
from app.web.case_view import case_forms
from app.web.decision_view import decision_forms
from app.web.forms import FormErrors, FormValues
from app.web.pages import Page, PageRoute, checked_form, once, signed_in
from app.web.referral_fields import YES_NO
from app.web.routing_view import routing_forms

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Page, Depends(signed_in(Permission.READ_REFERRAL))]
NoteWriter = Annotated[Page, Depends(signed_in(Permission.ADD_NOTE))]
Requester = Annotated[Page, Depends(signed_in(Permission.REQUEST_RECONSIDERATION))]
Withdrawer = Annotated[Page, Depends(signed_in(Permission.WITHDRAW))]
CHANGED = N_(
    "Someone changed this referral while you were writing: it now shows their change. Read it, "
    "then send your form again. What you wrote is kept below."
)
KEPT_BACK = N_(
    "You signed in again: what you typed before your session ended is back in the form. It "
    "has not been sent: check it, then send it."
)
STATUS_NOW = N_("Its status is now: %(status)s.")
SENT_BEFORE = N_(
    "This form was sent before with other answers. Check your answers and send it again."
)
DONE = {
    "filed": N_("Referral filed"),
    "note": N_("Your note is added"),
    "reconsideration": N_("Your request for reconsideration is sent"),
    "withdrawn": N_("The referral is withdrawn"),
    "decided": N_("Your decision is recorded"),
    "reviewed": N_("Your review is recorded"),
    "reconsidered": N_("Your decision on the request is recorded"),
    "suspended": N_("The referral is suspended"),
    "resumed": N_("The referral is resumed"),
    "assigned": N_("The referral is assigned"),
    "age": N_("The age assessment is recorded"),
}
MOVED = "/queue?done=rerouted"
# A form's name → its fields whose controls have another key on the page (CommandForm.control).
KEYS: dict[str, dict[str, str]] = {}
Run = Callable[..., Awaitable[CommandResult[Any]]]


@router.get("/referrals/{referral_id}")
async def show_referral(
    page: Reader, referral_id: uuid.UUID, now: RequestNow, filed: int = 0, done: str = ""
) -> Response:
    referral = await queries.load(page.session, page.actor, referral_id)
    typed = None
    if page.web_session is not None and page.web_session.kept_form:
        typed = kept.take(page.settings, page.web_session, f"/referrals/{referral_id}")
    if typed is not None:  # typed before the session ended: back in the form, not sent
        fields = typed.fields
        values = FormValues(fields, {name: [value] for name, value in fields.items()})
        values = values.keyed(KEYS.get(typed.command, {}))
        errors = FormErrors()
        if typed.version != str(referral.version):
            errors.add("", _changed(referral))
        return await _render(page, referral, now, values=values, errors=errors, notice=KEPT_BACK)
    done_key = "filed" if filed else done
    return await _render(page, referral, now, notice=DONE.get(done_key), success=True)


async def _render(
    page: Page,
    referral: Any,
    now: datetime,
    *,
    values: FormValues | None = None,
    errors: FormErrors | None = None,
    notice: str | None = None,
    success: bool = False,
    status_code: int = 200,
    sent: str = "",
    key: str = "",
) -> Response:
    """The referral's page; every render is a read of its personal data, audited as the API's.
    Each form gets a new idempotency key, but the form just sent keeps its own (`key`)."""
    view = presenters.for_viewer(referral, page.actor, page.settings.secret_key)
    kind = "full" if isinstance(view, ReferralRead) else "pseudonymised"
    await access.record_view(page.session, page.actor, referral, view=kind, now=now)
    errors, values = errors or FormErrors(), values or FormValues()
    allowed = {c.value for c in permitted(referral, page.actor)}
    today = wales_date(now)
    return page.render(
        "referral.html",
        status_code=status_code,
        referral=view,
        full=isinstance(view, ReferralRead),
        referrer_name=labels.local_name(referral.referring_organisation, page.language),
        routed_name=labels.local_name(referral.routed_to, page.language),
        allowed=allowed,
        today=today,
        values=values,
        errors=errors,
        notice=gettext(notice) if notice else None,
        success=success,
        sent=sent,
        timeline_url=timeline_page.url_for(page.actor, referral),
        form_key=lambda name: key if key and name == sent else str(uuid.uuid4()),
        **decision_forms(referral, allowed, today, values, sent),
        **await case_forms(page.session, referral, page.actor, allowed, sent),
        **await routing_forms(page.session, referral, allowed, sent, language=page.language),
    )


@dataclass(frozen=True)
class CommandForm:
    """One command's form: the command (with the signature of every door), its body's schema
    and fields, where to go when it is done, and how the form's controls read as the body."""

    run: Run
    schema: type[BaseModel]
    fields: tuple[str, ...]
    done: str
    versioned: bool = True
    omit_blank: frozenset[str] = frozenset()  # blank is missing (or None), not ""
    booleans: frozenset[str] = frozenset()  # radios "true"/"false"; none chosen is missing
    plain: Mapping[str, str] = field(default_factory=dict)  # a missing answer's plain request
    name: str = ""  # the form on the page, shown again with what was typed after a refusal
    prefix: str = ""  # of its controls' names, when another form on the page has the same field
    # A form whose controls are not one per field (a date's three boxes): reads the body, adding
    # what cannot be read to the errors; `controls` names the control of a field it renames.
    read: Callable[[FormValues, FormErrors], dict[str, Any]] | None = None
    controls: Mapping[str, str] = field(default_factory=dict)
    anchors: Mapping[str, str] = field(default_factory=dict)
    moves: bool = False  # it may route the referral away from the person's unit

    def __post_init__(self) -> None:
        keys = {f: self.control(f) for f in (*self.fields, *self.controls) if f}
        if renamed := {f: key for f, key in keys.items() if key != f}:
            KEYS[self.name] = renamed

    def control(self, name: str) -> str:
        """The key on the page of a field's control: its id, the value it shows and where its
        error is shown (the body's path → its key). The control's name is the field's own."""
        return self.controls.get(name, self.prefix + name)

    def body(self, values: FormValues, errors: FormErrors) -> dict[str, Any]:
        if self.read is not None:
            return self.read(values, errors)
        data: dict[str, Any] = {}
        for name in self.fields:
            value = values.get(self.control(name))
            if value == "" and name in self.omit_blank | self.booleans:
                continue
            data[name] = YES_NO.get(value, value) if name in self.booleans else value
        return data


async def run_command(
    request: Request, page: Page, referral_id: uuid.UUID, now: datetime, form: CommandForm
) -> Response:
    """Parse the form into the command's body, run it as the API does (once per the form's
    key), go back to the page."""
    values = FormValues.of(await checked_form(request, page)).keyed(KEYS.get(form.name, {}))
    errors = FormErrors(plain=form.plain, anchors=form.anchors)
    version = values.get("version")
    key = values.get("idempotency_key") or str(uuid.uuid4())
    again = partial(_again, page, referral_id, now, values, errors, sent=form.name, key=key)
    try:
        body = form.schema.model_validate(form.body(values, errors))
    except ValidationError as exc:
        errors.add_validation(exc, rename=form.control)
        return await again(422)
    if errors:  # what the form's own reading found (a date that is not one)
        return await again(422)

    posted: dict[str, object] = {"version": version, "body": body.model_dump(mode="json")}
    run = partial(_command, page, form, referral_id, body, version, now)
    try:
        answer = await once(
            page, f"/referrals/{referral_id}/{form.done}", key, posted, now=now, create=run
        )
    except IdempotencyKeyReused:
        errors.add("", gettext(SENT_BEFORE))
        return await again(422, key="")
    except AppError as exc:
        if exc.status == 404 or (exc.status == 403 and not exc.slug.startswith("separation")):
            raise
        stale = isinstance(exc, PreconditionFailed)
        if not stale:
            errors.add_problem(exc, rename=form.control)
        return await again(exc.status, stale=stale)
    return page.redirect(str(answer.headers["Location"]))


async def _command(
    page: Page,
    form: CommandForm,
    referral_id: uuid.UUID,
    body: BaseModel,
    version: str,
    now: datetime,
) -> idempotency.StoredResponse:
    """Run the form's command as the API does; the answer is where the page goes next."""
    done = await form.run(
        page.session,
        page.actor,
        referral_id,
        expected_version=f'"{version}"' if form.versioned else None,
        body=body,
        now=now,
        settings=page.settings,
    )
    if form.moves and done.referral.routed_to_id != page.actor.organisation_id:
        location = MOVED  # no longer their unit's to see: back to their queue
    else:
        location = f"/referrals/{referral_id}?done={form.done}"
    return idempotency.StoredResponse(303, None, {"Location": location})


def _changed(referral: Any) -> str:
    """That someone changed the referral while the person was writing, and its status now."""
    status = labels.label("status", referral.status)
    return f"{gettext(CHANGED)} {gettext(STATUS_NOW) % {'status': status}}"


async def _again(
    page: Page,
    referral_id: uuid.UUID,
    now: datetime,
    values: FormValues,
    errors: FormErrors,
    status_code: int,
    *,
    stale: bool = False,
    sent: str = "",
    key: str = "",
) -> Response:
    """The page as the referral now stands, with what was typed and why it was refused (for a
    stale version: that it changed, and its status now); the form sent keeps its key."""
    referral = await queries.load(page.session, page.actor, referral_id, fresh=True)
    if stale:
        errors.add("", _changed(referral))
    return await _render(
        page,
        referral,
        now,
        values=values,
        errors=errors,
        status_code=status_code,
        sent=sent,
        key=key,
    )


NOTE = CommandForm(
    case_commands.add_note, NoteCreate, ("text",), "note", versioned=False, name="note"
)
RECONSIDERATION_REQUEST = CommandForm(
    decision_commands.request_reconsideration,
    ReconsiderationCreate,
    ("grounds",),
    "reconsideration",
    name="request_reconsideration",
)
WITHDRAW = CommandForm(
    case_commands.withdraw, WithdrawRequest, ("reason",), "withdrawn", name="withdraw"
)


@router.post("/referrals/{referral_id}/notes")
async def add_note(
    request: Request, page: NoteWriter, referral_id: uuid.UUID, now: RequestNow
) -> Response:
    return await run_command(request, page, referral_id, now, NOTE)


@router.post("/referrals/{referral_id}/reconsideration-requests")
async def request_reconsideration(
    request: Request, page: Requester, referral_id: uuid.UUID, now: RequestNow
) -> Response:
    return await run_command(request, page, referral_id, now, RECONSIDERATION_REQUEST)


@router.post("/referrals/{referral_id}/withdraw")
async def withdraw(
    request: Request, page: Withdrawer, referral_id: uuid.UUID, now: RequestNow
) -> Response:
    return await run_command(request, page, referral_id, now, WITHDRAW)
