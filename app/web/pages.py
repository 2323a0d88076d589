"""What every page shares: its language, the signed-in person, rendering, CSRF, and the route
class that turns refusals into pages.

`Page` is resolved once per request: the language (WEB.md's order: `?lang`, the `nrm_lang`
cookie, the user's `language`, `Accept-Language`, English), the session cookie's user, the
session's CSRF token. `signed_in(permission)` is a page's gate: not signed in → 303 to
`/sign-in?next=…`; the role may never do this → 403 (the API's one role check). A changing
form goes through `checked_form`: a CSRF token that is not the session's, or an `Origin` that is
not the service's, is 403 before anything is read or changed.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import Depends
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app import idempotency
from app.errors import AppError, Forbidden, NotFound
from app.http import DbSession, get_app_settings
from app.i18n import core
from app.identity.deps import check_permission, principal_of
from app.identity.models import User
from app.identity.permissions import Permission, holds
from app.identity.principal import Principal
from app.identity.roles import Role
from app.referrals.queue import actions_for
from app.settings import Environment, Settings
from app.web import extensions, kept, rendering, sessions
from app.web.forms import FormErrors
from app.web.language_links import switch_language_url
from app.web.models import WebSession

SESSION_COOKIE = "nrm_session"
LANGUAGE_COOKIE = "nrm_lang"
SIGN_IN_COOKIE = "nrm_sign_in"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class SignInRequired(Exception):
    """Not signed in: the page answers 303 to the sign-in form, with the way back."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class CsrfRefused(Forbidden):
    """A changing form without the session's CSRF token, or from another origin."""


def language_of(request: Request, user: User | None) -> str:
    """WEB.md's order: `?lang`, the cookie, the user's choice, `Accept-Language`, English."""
    for candidate in (
        request.query_params.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        user.language if user else None,
    ):
        if candidate in core.LANGUAGES:
            return str(candidate)
    return core.negotiate(request.headers.get("accept-language")) or core.ENGLISH


@dataclass
class Page:
    """One page request: who asks, in which language, and how to answer."""

    request: Request
    session: AsyncSession
    settings: Settings
    language: str
    user: User | None = None
    web_session: WebSession | None = None
    principal: Principal | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    address: str | None = None
    """The page's own GET address (path and query), for a page shown in answer to a form sent
    elsewhere; unset, `page_address` finds it from the request."""

    @property
    def actor(self) -> Principal:
        assert self.principal is not None, "a signed_in page has a principal"
        return self.principal

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """The page; a form's `errors` also count for the title's "Error:" (`error_count`)."""
        core.current_language.set(self.language)
        if "errors" in context and "error_count" not in context:
            context["error_count"] = len(context["errors"] or ())
        html = rendering.render(template, {**self.base_context(), **context})
        response = HTMLResponse(html, status_code=status_code)
        self.finish(response)
        return response

    def redirect(self, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        self.finish(response)
        return response

    def finish(self, response: Response) -> None:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Language"] = self.language
        if self.request.query_params.get("lang") in core.LANGUAGES:
            # WEB.md: the language link sets the cookie, never the user's saved preference.
            set_cookie(
                response, self.settings, LANGUAGE_COOKIE, self.language, LANGUAGE_COOKIE_SECONDS
            )
        for name, value in self.cookies.items():
            set_cookie(response, self.settings, name, value, None)

    def base_context(self) -> dict[str, Any]:
        other = core.WELSH if self.language == core.ENGLISH else core.ENGLISH
        return {
            "lang": self.language,
            "other_language": other,
            "other_language_url": switch_language_url(self.request, other, self.address),
            "user": self.user,
            "principal": self.principal,
            "csrf_token": self.web_session.csrf_token if self.web_session else None,
            "path": self.request.url.path,
            "is_first_responder": bool(self.principal and self.principal.has(Role.FIRST_RESPONDER)),
            "reads_queue": bool(self.principal and actions_for(self.principal)),
            "is_admin": bool(self.principal and self.principal.has(Role.ADMIN)),
            "reads_referrals": bool(
                self.principal and holds(self.principal.roles, Permission.READ_REFERRAL)
            ),
            "sections": extensions.navigation_for(self.principal, self.request.url.path),
            "is_auditor": bool(self.principal and self.principal.has(Role.AUDITOR)),
            "reads_statistics": bool(
                self.principal and holds(self.principal.roles, Permission.READ_STATISTICS)
            ),
        }


def set_cookie(
    response: Response,
    settings: Settings,
    name: str,
    value: str,
    max_age: int | None,
    path: str = "/",
) -> None:
    """A cookie as WEB.md wants every one: `HttpOnly`, `SameSite=Lax`, `Secure` in production."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="lax",
        secure=settings.env is Environment.PRODUCTION,
    )


async def get_page(request: Request, session: DbSession) -> Page:
    """The request's page: its language and, when a live session cookie came, its user."""
    settings = get_app_settings(request)
    found = await sessions.find(session, request.cookies.get(SESSION_COOKIE), settings)
    web_session, user = found if found else (None, None)
    page = Page(
        request=request,
        session=session,
        settings=settings,
        language=language_of(request, user),
        user=user,
        web_session=web_session,
        principal=principal_of(user) if user else None,
    )
    request.state.language = page.language
    core.current_language.set(page.language)
    return page


AnyPage = Depends(get_page)


def signed_in(permission: Permission | None = None) -> Callable[..., Awaitable[Page]]:
    """A page's gate: 303 to sign-in when nobody is signed in, 403 without the permission."""

    async def dependency(request: Request, page: Page = AnyPage) -> Page:
        if page.principal is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(target)
        if permission is not None:
            check_permission(page.principal, permission)
        return page

    return dependency


EXPIRED = (
    "This form has expired or was not sent from this service, so nothing was changed. "
    "Go back, reload the page and try again."
)


async def _form_with_token(
    request: Request, expected: str | None, *, tokenless: bool = False
) -> FormData:
    origin = request.headers.get("origin")
    if origin is not None and origin != own_origin(request):
        raise CsrfRefused("This form was sent from another site, so nothing was changed.")
    form = await request.form()
    sent = form.get("csrf_token")
    if tokenless and sent is None:
        return form
    if expected is None or not sessions.csrf_matches(expected, str(sent) if sent else None):
        raise CsrfRefused(EXPIRED)
    return form


async def checked_form(request: Request, page: Page) -> FormData:
    """The form of a changing request, once its CSRF token (the session's) and its origin
    (the service's) are right; 403 otherwise, before anything is read or changed."""
    return await _form_with_token(
        request, page.web_session.csrf_token if page.web_session else None
    )


async def checked_sign_in_form(request: Request) -> FormData:
    """The sign-in form, whose CSRF token is the sign-in cookie's (there is no session yet).

    A sign-in sent without the token (a client that posts `username` and `password` alone, as
    the form's fields are named, whether or not it kept the cookie of an earlier look at the
    form) is taken as `/auth/token` takes it: what guards it is the `Origin` check, which a
    browser sends with every cross-site POST, and the throttle. A token that is sent must match
    its cookie."""
    return await _form_with_token(request, request.cookies.get(SIGN_IN_COOKIE), tokenless=True)


async def once(
    page: Page,
    endpoint: str,
    key: str,
    body: dict[str, object],
    *,
    now: datetime,
    create: Callable[[], Awaitable[idempotency.StoredResponse]],
) -> idempotency.StoredResponse:
    """A form that changes something, run once per its hidden key (`idempotency.run_once`, as
    the API's `Idempotency-Key`): a form sent twice answers the second time as the first. It
    runs in a savepoint of its own, so a refusal that `create` raises rolls back the key's
    claim with it and the form, corrected, may be sent again with the same key; the same key
    with other answers raises `IdempotencyKeyReused`."""
    async with page.session.begin_nested():
        return await idempotency.run_once(
            page.session,
            user_id=page.actor.id,
            endpoint=endpoint,
            key=key,
            request_hash=idempotency.body_hash(json.dumps(body, default=str).encode()),
            now=now,
            ttl=timedelta(hours=page.settings.idempotency_ttl_hours),
            create=create,
        )


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def sign_in_token(request: Request) -> str:
    """The sign-in form's CSRF token, before any session: kept in a cookie of its own."""
    return request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)


def sign_in_url(next_path: str | None) -> str:
    return "/sign-in" + (f"?next={quote(next_path, safe='/')}" if next_path else "")


class PageRoute(APIRoute):
    """A page's route: refusals become pages in the page's language, sign-in a redirect."""

    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except SignInRequired as exc:
                if request.method == "POST":  # a case form whose session ended: keep it
                    carried = await kept.carry(request, get_app_settings(request))
                    if carried is not None:
                        return _sign_in_keeping(request, carried)
                return RedirectResponse(sign_in_url(exc.path), status_code=303)
            except AppError as exc:
                return error_page(request, exc)
            except RequestValidationError:
                return error_page(request, _not_found())

        return handler


def _sign_in_keeping(request: Request, carried: kept.Carried) -> Response:
    """303 to the sign-in form, as for any page without a session, with the sealed form in
    cookies for the sign-in form alone (`app.web.kept`); a form too large for them gets the
    sign-in form at once, carrying it in a hidden field."""
    settings = get_app_settings(request)
    chunks = kept.cookie_chunks(carried.sealed)
    if chunks is not None:
        response = RedirectResponse(sign_in_url(carried.page), status_code=303)
        for n in range(kept.COOKIES):
            value, age = (chunks[n], kept.COOKIE_SECONDS) if n < len(chunks) else ("", 0)
            set_cookie(response, settings, f"{kept.COOKIE}{n}", value, age, path="/sign-in")
        return response
    language = getattr(request.state, "language", None) or language_of(request, None)
    page = Page(
        request=request,
        session=None,  # type: ignore[arg-type]  # the sign-in form reads nothing
        settings=get_app_settings(request),
        language=language,
        address=sign_in_url(carried.page),  # the page shown is the sign-in form
    )
    token = sign_in_token(request)
    page.cookies[SIGN_IN_COOKIE] = token
    return page.render(
        "sign_in.html",
        sign_in_token=token,
        next=carried.page,
        username="",
        errors=FormErrors(),
        kept=carried.sealed,
    )


def _not_found() -> AppError:
    return NotFound("no such page")


def error_page(request: Request, error: AppError) -> HTMLResponse:
    """The page of a refusal: 404, 403 and the rest, as the API answers them."""
    language = getattr(request.state, "language", None) or language_of(request, None)
    core.current_language.set(language)
    page = Page(
        request=request,
        session=None,  # type: ignore[arg-type]  # an error page reads nothing
        settings=get_app_settings(request),
        language=language,
    )
    response = page.render("error.html", status_code=error.status, error=error)
    response.headers.update(error.headers)
    return response
