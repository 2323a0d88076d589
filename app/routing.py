"""A route class that keeps the order of checks of API.md: 401 → 403 → 400/422.

FastAPI parses a JSON body before it runs any dependency, so a malformed body from a caller
with no token would be 400 instead of 401. When the body is malformed, `ProblemRoute` first
runs the route's authentication and role gate itself, so the caller learns no more than the
order allows.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _permission_of(dependant: Dependant) -> Any:
    for sub in dependant.dependencies:
        found = getattr(sub.call, "nrm_permission", None) or _permission_of(sub)
        if found is not None:
            return found
    return None


class ProblemRoute(APIRoute):
    """An APIRoute that authenticates before reporting a malformed body."""

    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()
        permission = _permission_of(self.dependant)

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except RequestValidationError as exc:
                if permission is not None and _is_malformed(exc):
                    await _authenticate(request, permission)
                raise

        return handler


def _is_malformed(exc: RequestValidationError) -> bool:
    return any(e.get("type") == "json_invalid" for e in exc.errors())


async def _authenticate(request: Request, permission: Any) -> None:
    # Imported here: identity's dependencies import this module's users (the routers).
    from app.identity.deps import check_permission, load_principal, oauth2_scheme

    token = await oauth2_scheme(request)
    async with request.app.state.sessionmaker() as session:
        principal = await load_principal(session, request, token)
    check_permission(principal, permission)


def api_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes keep the order of checks."""
    return APIRouter(route_class=ProblemRoute, **kwargs)
