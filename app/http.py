"""HTTP plumbing shared by routers: request ids, ETags, If-Match, cursors and page limits.

It holds no rules of the domain; it turns headers and query strings into values and back.
"""

from __future__ import annotations

import base64
import binascii
import json
from contextvars import ContextVar
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Query
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from app.clock import service_now
from app.db import get_db_session
from app.errors import FieldError, PreconditionFailed, PreconditionRequired, ValidationFailed

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return request_id_var.get()


DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]


async def get_request_now(request: Request, session: DbSession) -> datetime:
    """The service clock, read once per request (STYLE.md: one instant per request)."""
    cached: datetime | None = getattr(request.state, "now", None)
    if cached is None:
        cached = await service_now(session, request.app.state.settings)
        request.state.now = cached
    return cached


RequestNow = Annotated[datetime, Depends(get_request_now)]


def etag(version: int) -> str:
    """The strong ETag of a versioned resource."""
    return f'"{version}"'


def require_if_match(if_match: str | None, current_version: int) -> None:
    """API.md Concurrency: 428 without `If-Match`, 412 when it names another version."""
    if if_match is None:
        raise PreconditionRequired("send If-Match with the resource's current ETag")
    candidates = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" in candidates or etag(current_version) in candidates:
        return
    raise PreconditionFailed(f"the current ETag is {etag(current_version)}")


IfMatch = Annotated[str | None, Header(alias="If-Match")]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match")]


def encode_cursor(values: dict[str, Any]) -> str:
    """An opaque cursor for keyset pagination."""
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The keyset values inside a cursor; a cursor that was not ours is 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "the cursor is not valid", errors=[FieldError("cursor", "not a valid cursor")]
        ) from exc
    if not isinstance(value, dict):
        raise ValidationFailed(
            "the cursor is not valid", errors=[FieldError("cursor", "not a valid cursor")]
        )
    return value


class PageParams:
    """`limit` (1-200, default 50) and `cursor`, as every list takes them."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> None:
        self.limit = limit
        self.cursor = cursor

    def after(self) -> dict[str, Any] | None:
        """The decoded cursor, or None on the first page."""
        return decode_cursor(self.cursor) if self.cursor else None


Paging = Annotated[PageParams, Depends()]
