"""The one renderer of RFC 9457 problem documents, and the exception handlers that use it.

Every error the service answers goes through `problem_response`: domain errors (`AppError`),
validation errors, Starlette's routing errors, database outages and statements stopped by the
time limit (503 with `Retry-After`) and, last, any other exception as a bare 500 that carries
nothing of the exception.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.db import unavailable_error
from app.errors import (
    AppError,
    FieldError,
    Forbidden,
    MalformedBody,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    TooManyRequests,
    ValidationFailed,
)
from app.http import current_request_id
from app.i18n.core import current_language, translate

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("app.problems")

_BY_STATUS: dict[int, type[AppError]] = {
    400: MalformedBody,
    401: NotAuthenticated,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    422: ValidationFailed,
    429: TooManyRequests,
}


def problem_body(error: AppError, instance: str | None = None) -> dict[str, Any]:
    """The problem document of an error, its words in the request's language (`title`,
    `detail` and each field's `message`; `type`, `status` and `field` never change)."""
    body: dict[str, Any] = {
        "type": f"/problems/{error.slug}",
        "title": translate(error.title),
        "status": error.status,
        "detail": translate(error.detail),
    }
    if instance:
        body["instance"] = instance
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    if error.errors:
        body["errors"] = [{"field": e.field, "message": translate(e.message)} for e in error.errors]
    return body


def problem_response(
    error: AppError, request: Request | None = None, *, path: str | None = None
) -> JSONResponse:
    """An error as an `application/problem+json` response with its headers; its `instance` is
    the request's path (`path` for middleware that answers before a `Request` exists), with any
    control character percent-escaped."""
    instance = request.url.path if request is not None else path
    if instance is not None:
        instance = quote(instance, safe="/:@!$&'()*+,;=-._~")
    return JSONResponse(
        problem_body(error, instance),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers={**error.headers, "Content-Language": current_language.get()},
    )


def _field_of(loc: tuple[Any, ...]) -> str:
    # Pydantic's loc → a dotted field without the leading "body"/"query"/"header".
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _message_of(error: Any) -> str:
    # Pydantic prefixes a validator's ValueError with "Value error, ": the person reads only
    # the sentence the validator wrote.
    return str(error.get("msg")).removeprefix("Value error, ")


def validation_error(exc: RequestValidationError) -> AppError:
    """422 with one entry per invalid field, 400 when the body is not JSON at all, 404 when a
    path parameter (an id) is malformed."""
    errors = exc.errors()
    if any(tuple(e.get("loc", ()))[:1] == ("path",) for e in errors):
        # An id that cannot name anything names nothing: 404, as for an id not found.
        return NotFound("no such object")
    if any(e.get("type") == "json_invalid" for e in errors):
        return MalformedBody("the body is not valid JSON")
    fields = [FieldError(_field_of(tuple(e.get("loc", ()))), _message_of(e)) for e in errors]
    return ValidationFailed("the request has invalid fields", errors=fields)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(exc, request)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(validation_error(exc), request)


async def _starlette(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error_class = _BY_STATUS.get(exc.status_code, AppError)
    error = error_class()
    if exc.status_code == 405:
        error.headers = dict(exc.headers or {})
    return problem_response(error, request)


def _holds_nul(exc: Exception) -> bool:
    # psycopg refuses text holding NUL before it is sent: PostgreSQL can neither store nor
    # compare it. Query strings and paths are checked first (app.middleware); this catches
    # it wherever else it comes from (a form field, a header), as bad input, not a 500.
    return isinstance(exc, DBAPIError) and "cannot contain NUL (0x00)" in str(exc.orig)


async def _database(request: Request, exc: Exception) -> JSONResponse:
    unavailable = unavailable_error(exc)
    if unavailable is not None:
        log.warning(unavailable.slug.replace("-", "_"), error=type(exc).__name__)
        return problem_response(unavailable, request)
    if _holds_nul(exc):
        refused = ValidationFailed("the request holds a NUL character, which is never valid")
        return problem_response(refused, request)
    log.exception("database_error", error=type(exc).__name__)
    return problem_response(AppError(), request)


async def _stale(request: Request, _exc: Exception) -> JSONResponse:
    # The version check in the UPDATE lost a race: the client's If-Match is stale (STYLE.md).
    return problem_response(PreconditionFailed("the resource changed meanwhile"), request)


def install(app: FastAPI) -> None:
    """Register every handler on the app."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _starlette)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(StaleDataError, _stale)
    # Anything else is answered by RequestContextMiddleware's last resort (app.middleware).
