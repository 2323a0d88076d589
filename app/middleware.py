"""ASGI middleware: request ids, access logs and metrics, the body limit, control characters in
the address, the last-resort 500.

Pure ASGI (not `BaseHTTPMiddleware`), so streaming and context variables behave. The last
resort turns any exception that escaped the handlers into a problem document without detail, so
no stack trace ever reaches a client, and every response, errors included, has `X-Request-ID`.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

import structlog
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import unavailable_error
from app.errors import AppError, FieldError, PayloadTooLarge, ValidationFailed
from app.http import request_id_var
from app.problems import problem_response
from app.schemas import CONTROL_CHARACTERS_REFUSED

log = structlog.get_logger("app.access")
# Any visible ASCII (spaces inside), up to the 128 characters the audit trail keeps: echoed as
# sent; anything else (control characters, non-ASCII, longer) is replaced by a fresh UUID.
_SAFE_REQUEST_ID = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$")

REQUESTS = Counter("nrm_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("nrm_http_request_seconds", "HTTP request latency", ["method", "route"])


def _route_of(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    """Sets the request id, logs and counts each request, and answers what escaped as 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                state["status"] = message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if state["started"]:
                raise
            error = unavailable_error(exc) or AppError()
            log.exception("unhandled_error", error=type(exc).__name__)
            await problem_response(error)(scope, receive, send_with_id)
        finally:
            self._observe(scope, state["status"], time.perf_counter() - started)
            request_id_var.reset(token)

    @staticmethod
    def _request_id(scope: Scope) -> str:
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                candidate = str(value.decode("latin-1"))
                if _SAFE_REQUEST_ID.match(candidate):
                    return candidate
        return str(uuid.uuid4())

    @staticmethod
    def _observe(scope: Scope, status: int, seconds: float) -> None:
        route = _route_of(scope)
        method = scope.get("method", "")
        REQUESTS.labels(method, route, str(status)).inc()
        LATENCY.labels(method, route).observe(seconds)
        log.info(
            "request",
            method=method,
            path=scope.get("path"),
            status=status,
            duration_ms=round(seconds * 1000, 1),
        )


class BodyLimitMiddleware:
    """Answers 413 for bodies over the limit, by `Content-Length` or while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises Starlette's HTTPException as it is; the handler
                    # renders it as the 413 problem.
                    raise StarletteHTTPException(413)
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLarge(f"the body limit is {self.max_bytes} bytes")
        await problem_response(error, path=scope.get("path"))(scope, receive, send)


# API.md "Text": control characters other than tab, newline and carriage return are refused;
# in an address they are never meant (PostgreSQL cannot even store or compare text with NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character_error(path: str, query_string: bytes) -> ValidationFailed | None:
    """422 naming each query parameter (or the path) that holds a control character."""
    fields = ["path"] if _CONTROL.search(path) else []
    # Decoded as Starlette decodes it for the routes: percent-escapes as UTF-8.
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    for name, value in pairs:
        if _CONTROL.search(name + value):
            fields.append("query" if _CONTROL.search(name) else name)
    if not fields:
        return None
    errors = [FieldError(field, CONTROL_CHARACTERS_REFUSED) for field in fields]
    return ValidationFailed("the address holds a control character", errors=errors)


class ControlCharacterMiddleware:
    """Answers 422 for a path or query parameter holding a control character, before any route
    or dependency sees it (every filter and lookup at once, not one endpoint at a time)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            error = control_character_error(scope.get("path", ""), scope.get("query_string", b""))
            if error is not None:
                await problem_response(error, path=scope.get("path"))(scope, receive, send)
                return
        await self.app(scope, receive, send)
