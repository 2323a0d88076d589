"""HTTP plumbing shared by routers: request ids, the request's session (read-write or
read-only), ETags, If-Match, signed cursors and page limits.

It holds no rules of the domain; it turns headers and query strings into values and back.
Cursors are opaque to clients and signed (HMAC-SHA-256 with a key derived from
`NRM_SECRET_KEY`, for one list's path): what a cursor holds is only read once the signature
shows the service wrote it, so a forged cursor is a plain 422, never a parser's failure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, ClassVar, TypeVar

from fastapi import Depends, Header, Query
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from app.clock import service_now
from app.db import mark_read_only, request_transaction
from app.errors import FieldError, ValidationFailed
from app.etags import etag, require_if_match
from app.request_id import current_request_id, request_id_var
from app.settings import Settings

# Re-exported for the routers: their homes are the pure app.request_id and app.etags.
__all__ = ["current_request_id", "etag", "request_id_var", "require_if_match"]


def get_app_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The service's session factory, made by `create_app` (for work in a transaction of its
    own: readiness, an auditor's checkpoint batch)."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return factory


AppSessions = Annotated[async_sessionmaker[AsyncSession], Depends(get_app_sessions)]


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction (`app.db.request_transaction`): committed when the
    endpoint returns and, with `scope="function"`, before the response is sent."""
    async with request_transaction(get_app_sessions(request)) as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]


async def get_read_only_session(session: DbSession) -> AsyncSession:
    """The request's session, marked as writing nothing (on SQLite it reads beside a writer
    instead of queueing for the write lock). Declare it as the route's first parameter, so
    that it runs before any dependency reads the database (a later one is a RuntimeError)."""
    mark_read_only(session)
    return session


ReadOnlyDbSession = Annotated[AsyncSession, Depends(get_read_only_session)]
"""For routes that write nothing, not even an audit event (statistics, the audit trail)."""


def get_app_settings(request: Request) -> Settings:
    """The service's settings, as `create_app(settings)` was given them: the one typed way
    for routes and dependencies to reach them (never `request.app.state` lookups)."""
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(get_app_settings)]


async def get_request_now(request: Request, session: DbSession, settings: AppSettings) -> datetime:
    """The service clock, read once per request (STYLE.md: one instant per request)."""
    cached: datetime | None = getattr(request.state, "now", None)
    if cached is None:
        cached = await service_now(session, settings)
        request.state.now = cached
    return cached


RequestNow = Annotated[datetime, Depends(get_request_now)]


IfMatch = Annotated[str | None, Header(alias="If-Match")]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match")]


CURSOR_KEY_LABEL = b"nrm cursor signing key v1"
_CURSOR_MAC_BYTES = 16
_INVALID_CURSOR = "not a valid cursor for this list; start again from the first page"


def cursor_key(settings: Settings) -> bytes:
    """The key that signs cursors: derived from `NRM_SECRET_KEY`, never the secret itself, so
    a cursor and a bearer token can never be confused. A new secret voids every cursor."""
    return hmac.new(settings.secret_key.encode(), CURSOR_KEY_LABEL, hashlib.sha256).digest()


def _cursor_mac(key: bytes, scope: str, payload: str) -> str:
    mac = hmac.new(key, f"{scope}\n{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:_CURSOR_MAC_BYTES]).decode().rstrip("=")


def encode_cursor(values: dict[str, Any], *, key: bytes, scope: str) -> str:
    """An opaque, signed cursor for keyset pagination of the list at `scope` (its path)."""
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{payload}.{_cursor_mac(key, scope, payload)}"


def invalid_cursor() -> ValidationFailed:
    """422 on `cursor`: what a list answers for a cursor whose values it cannot use."""
    return ValidationFailed(
        "the cursor is not valid", errors=[FieldError("cursor", _INVALID_CURSOR)]
    )


def decode_cursor(cursor: str, *, key: bytes, scope: str) -> dict[str, Any]:
    """The keyset values inside a cursor this service signed for this list; 422 for any other
    (forged, altered, signed with another key or for another list). The signature is checked
    before the content is parsed, so nothing a client wrote reaches the JSON parser."""
    payload, _, mac = cursor.partition(".")
    if not hmac.compare_digest(mac.encode(), _cursor_mac(key, scope, payload).encode()):
        raise invalid_cursor()
    try:
        value = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError) as exc:  # a signed cursor always parses: defence only
        raise invalid_cursor() from exc
    if not isinstance(value, dict):
        raise invalid_cursor()
    return value


Position = TypeVar("Position", bound=BaseModel)


class PageParams:
    """`limit` (1-200, default 50) and `cursor`, as every list takes them; cursors are signed
    for the list's path (`next_cursor` makes them, `after` reads them back), so a cursor of
    one list is refused by every other."""

    scope: ClassVar[str | None] = None
    """The list its cursors are signed for: None for the request's path (each API list); a
    list shown at more than one address names itself instead, through `paging(scope)`."""

    def __init__(
        self,
        request: Request,
        settings: AppSettings,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> None:
        self.limit = limit
        self.cursor = cursor
        self._key = cursor_key(settings)
        self._scope = self.scope or request.url.path

    def after(self, shape: type[Position]) -> Position | None:
        """Where the page starts, read from the cursor as the list's `shape`; None on the
        first page. A cursor this list did not sign, or whose values do not fit `shape`
        (possible only to whoever holds the secret), is 422 on `cursor`."""
        if not self.cursor:
            return None
        values = decode_cursor(self.cursor, key=self._key, scope=self._scope)
        try:
            return shape.model_validate(values)
        except ValidationError as exc:
            raise invalid_cursor() from exc

    def next_cursor(self, values: dict[str, Any]) -> str:
        """The cursor of the page that continues after `values`."""
        return encode_cursor(values, key=self._key, scope=self._scope)


Paging = Annotated[PageParams, Depends()]


def paging(list_path: str) -> type[PageParams]:
    """`PageParams` whose cursors are signed for the list at `list_path`, whatever the path of
    the request that shows it: the one way to scope cursors other than by the request's path
    (a web page that is also someone's home page, or that a form's answer renders again)."""

    class Scoped(PageParams):
        scope = list_path

    Scoped.__name__ = Scoped.__qualname__ = f"Paging[{list_path}]"
    return Scoped
