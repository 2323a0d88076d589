"""The language of each request, from `Accept-Language` (pure ASGI middleware).

It sets `app.i18n.core.current_language` for the request, so that the API's problem documents
are in Welsh when the client asks for `cy` (API.md; WEB.md "Language"). A page may set it again
from WEB.md's fuller order of choices.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.i18n import core


class LanguageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next(
            (v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"accept-language"),
            None,
        )
        token = core.current_language.set(core.negotiate(header) or core.ENGLISH)
        try:
            await self.app(scope, receive, send)
        finally:
            core.current_language.reset(token)
