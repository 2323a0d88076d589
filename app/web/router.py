"""The web service's routes, static files and error pages, installed on the app beside the API.

Pages are left out of the OpenAPI document (`include_in_schema=False`): the API is documented
there, the pages are not an interface for programs.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.errors import AppError, MethodNotAllowed, NotFound
from app.web import (
    account,
    admin_forms,
    admin_pages,
    audit_page,
    case_forms,
    decision_forms,
    duty_to_notify,
    letters_page,
    mailbox_page,
    notifications_page,
    queue_page,
    referral_form,
    referral_page,
    referral_pages,
    routing_forms,
    statistics_page,
    timeline_page,
)
from app.web.headers import is_page
from app.web.pages import error_page

STATIC = Path(__file__).parent / "static"


class CachedStatic(StaticFiles):
    """The built CSS and JavaScript; cached for an hour (they change only with a release)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response


def install(app: FastAPI) -> None:
    """Add the pages, `/static`, and HTML error pages for the web service's paths."""
    for module in (
        account,
        referral_pages,
        referral_form,
        referral_page,
        duty_to_notify,
        queue_page,
        decision_forms,
        case_forms,
        admin_forms,  # before admin_pages: `/admin/users/new` is no user's id
        admin_pages,
        mailbox_page,
        notifications_page,
        routing_forms,
        letters_page,
        audit_page,
        timeline_page,
        statistics_page,
    ):
        app.include_router(module.router, include_in_schema=False)
    app.mount("/static", CachedStatic(directory=STATIC), name="static")
    api_handler = app.exception_handlers[StarletteHTTPException]

    async def not_found_or_problem(request: Request, exc: Exception) -> Response:
        if not is_page(request.url.path) or request.url.path.startswith("/static"):
            answer = api_handler(request, exc)
            return answer if isinstance(answer, Response) else await answer
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        error: AppError = MethodNotAllowed() if status == 405 else NotFound("no such page")
        return error_page(request, error)

    app.add_exception_handler(StarletteHTTPException, not_found_or_problem)
