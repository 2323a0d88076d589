"""Pages of the person: the start page and home, sign-in, sign-out and their account (`/me`).

Sign-in uses the one credential check of `/auth/token` (`identity.service.authenticate`: the
same throttles, the same audit events) and starts a server-side session; sign-out deletes it.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from app import labels
from app.http import RequestNow
from app.i18n import core
from app.i18n.core_noop import N_
from app.identity import contact
from app.identity import service as identity
from app.identity.roles import Role
from app.identity.router import too_many_attempts
from app.identity.schemas import MeUpdate
from app.referrals import queue
from app.web import admin_pages, audit_page, extensions, kept, queue_page, referral_pages, sessions
from app.web.forms import FormErrors, FormValues
from app.web.pages import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    AnyPage,
    Page,
    PageRoute,
    checked_form,
    checked_sign_in_form,
    set_cookie,
    sign_in_token,
    signed_in,
)

router = APIRouter(route_class=PageRoute)
SignedIn = Annotated[Page, Depends(signed_in())]
WRONG = N_("The username or the password is wrong.")
ENTER_USERNAME = N_("Enter your username")
ENTER_PASSWORD = N_("Enter your password")
CHOOSE = N_("Choose English or Welsh.")
SAVED = {
    "1": N_("Your language preference is saved."),
    "email": N_("Your e-mail address is saved."),
    "no-email": N_("Your e-mail address is removed: you will get no notifications."),
}
ROLE_NAMES = {Role(code): message for code, message in labels.ROLES.items()}


@router.get("/")
async def home(page: Annotated[Page, AnyPage], now: RequestNow) -> Response:
    """The start page; signed in, the person's main task (WEB.md "Pages"): the queue for
    deciders and panel members, organisations and users for an administrator, the audit page
    for auditors; a registered section's page for the roles it is home to (the immigration
    officer's look-up)."""
    if page.principal is None:
        return page.render("start.html")
    if page.principal.has(Role.ADMIN):
        return await admin_pages.render(page)
    if page.principal.has(Role.AUDITOR):
        return await audit_page.render(page, now)
    if (section_home := extensions.home_of(page.principal)) is not None:
        return await section_home(page)
    if queue.actions_for(page.principal) and not page.principal.has(Role.FIRST_RESPONDER):
        return await queue_page.render(page, now)
    return await referral_pages.home(page)


def local_path(value: str | None) -> str | None:
    """`next` when it is a path of this service (never another site: `//x`, `https://x`)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


@router.get("/sign-in")
async def sign_in_form(page: Annotated[Page, AnyPage], next: str | None = None) -> Response:
    token = sign_in_token(page.request)
    page.cookies[SIGN_IN_COOKIE] = token
    return page.render(
        "sign_in.html",
        sign_in_token=token,
        next=local_path(next),
        username="",
        errors=FormErrors(),
        kept=kept.from_cookies(page.request) or None,  # a form sent after its session ended
    )


@router.post("/sign-in")
async def sign_in(request: Request, now: RequestNow, page: Annotated[Page, AnyPage]) -> Response:
    form = await checked_sign_in_form(request)
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    # `next` comes with the form, or in the address it was posted to (`/sign-in?next=…`)
    sent_from = form.get("next") or request.query_params.get("next") or ""
    next_path = local_path(str(sent_from)) or "/"
    sealed = str(form.get("kept") or "")  # a form typed before the session ended (app.web.kept)
    if missing := _missing(username, password):  # as the API's 422, before any attempt counts
        return _sign_in_again(page, username, next_path, missing, 422, sealed)
    address = request.client.host if request.client else None
    user = await identity.authenticate(
        page.session, page.settings, username, password, address=address, now=now
    )
    if isinstance(user, identity.Throttled):
        refusal = too_many_attempts(user.retry_after_seconds)
        detail = core.translate(refusal.detail)
        return _sign_in_again(page, username, next_path, detail, 429, sealed)
    if user is None:
        return _sign_in_again(page, username, next_path, core.gettext(WRONG), 401, sealed)
    started = await sessions.start(page.session, user, page.settings)
    if sealed:
        started.row.kept_form = kept.for_user(page.settings, sealed, user.id)
    page.cookies[SESSION_COOKIE] = started.token
    if user.language and page.request.cookies.get("nrm_lang") is None:
        page.language = user.language
    response = page.redirect(next_path)
    if kept.from_cookies(page.request):  # carried on in the form above: not needed again
        for n in range(kept.COOKIES):
            set_cookie(response, page.settings, f"{kept.COOKIE}{n}", "", 0, path="/sign-in")
    return response


def _missing(username: str, password: str) -> FormErrors:
    errors = FormErrors()
    if not username.strip():
        errors.add("username", core.gettext(ENTER_USERNAME))
    if not password:
        errors.add("password", core.gettext(ENTER_PASSWORD))
    return errors


def _sign_in_again(
    page: Page,
    username: str,
    next_path: str,
    message: str | FormErrors,
    status: int,
    sealed: str = "",
) -> Response:
    """The sign-in form again: `message` is said of the username (a wrong password must not say
    which of the two was wrong), or the fields left empty."""
    errors = message if isinstance(message, FormErrors) else FormErrors()
    if not isinstance(message, FormErrors):
        errors.add("username", message)
    token = sign_in_token(page.request)
    page.cookies[SIGN_IN_COOKIE] = token
    return page.render(
        "sign_in.html",
        status_code=status,
        sign_in_token=token,
        next=None if next_path == "/" else next_path,
        username=username,
        errors=errors,
        kept=sealed or None,
    )


@router.post("/sign-out")
async def sign_out(request: Request, page: Annotated[Page, AnyPage]) -> Response:
    if page.web_session is not None:
        await checked_form(request, page)
    await sessions.end(page.session, request.cookies.get(SESSION_COOKIE))
    response = page.redirect("/sign-in")
    set_cookie(response, page.settings, SESSION_COOKIE, "", 0)  # with every cookie's attributes
    return response


@router.get("/me")
async def me(page: SignedIn, saved: str = "") -> Response:
    return _account(page, saved=core.gettext(SAVED[saved]) if saved in SAVED else None)


def _account(
    page: Page,
    *,
    saved: str | None = None,
    errors: FormErrors | None = None,
    values: FormValues | None = None,
) -> Response:
    user = page.user
    assert user is not None
    organisation = user.organisation
    name = labels.local_name(organisation, page.language)
    roles = [core.gettext(ROLE_NAMES[r]) for r in Role if r in user.roles]
    errors = errors or FormErrors()
    return page.render(
        "me.html",
        status_code=422 if errors else 200,
        organisation_name=name,
        roles=roles,
        saved=saved,
        errors=errors,
        values=values or FormValues({"email": user.email or ""}),
    )


@router.post("/me")
async def save_language(request: Request, page: SignedIn, now: RequestNow) -> Response:
    form = await checked_form(request, page)
    language = str(form.get("language") or "")
    if language not in core.LANGUAGES:
        errors = FormErrors()
        errors.add("language", core.gettext(CHOOSE))
        return _account(page, errors=errors)
    assert page.user is not None
    body = MeUpdate.model_validate({"language": language})  # as `PATCH /me`
    await contact.update_me(page.session, page.actor, page.user, body, now=now)
    return page.redirect("/me?saved=1")


@router.post("/me/email")
async def save_email(request: Request, page: SignedIn, now: RequestNow) -> Response:
    """`PATCH /me` with `email`: the address typed, or `null` (removed) when blank."""
    values = FormValues.of(await checked_form(request, page))
    email = values.get("email").strip() or None
    assert page.user is not None
    try:
        body = MeUpdate.model_validate({"email": email})
    except ValidationError as exc:
        errors = FormErrors()
        errors.add_validation(exc)
        return _account(page, errors=errors, values=values)
    await contact.update_me(page.session, page.actor, page.user, body, now=now)
    return page.redirect("/me?saved=email" if email else "/me?saved=no-email")
