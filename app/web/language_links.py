"""The link to the same page in the other language (WEB.md: every page has one, and it keeps
the person on the same page): the page's own GET address with `lang` replaced, never the
address a form was posted to."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.routing import Match


def switch_language_url(request: Request, language: str, address: str | None = None) -> str:
    """The same page in the other language (its other query parameters kept): the page's own
    GET address (`address`, else `page_address`), never the address a form was sent to."""
    parts = urlsplit(address if address is not None else page_address(request))
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    params.append(("lang", language))
    return f"{parts.path}?{urlencode(params)}"


def page_address(request: Request) -> str:
    """The GET address of the page a request is answered with: its own, unless only other
    methods answer at its path (a form's POST-only address: a note, a command, `/me/email`);
    then the nearest path above it that answers GET (the page the form lives on), or `/`."""
    path = request.url.path
    query = f"?{request.url.query}" if request.url.query else ""
    route = request.scope.get("route")  # the route that answered: a GET page needs no search
    if request.method == "GET" and "GET" in getattr(route, "methods", ()):
        return path + query
    if _get_match(request, path) is not Match.PARTIAL:
        return path + query  # a page, or no route at all (a 404 stays the same 404)
    segments = path.rstrip("/").split("/")
    while len(segments) > 1:
        segments.pop()
        candidate = "/".join(segments) or "/"
        if _get_match(request, candidate) is Match.FULL:
            return candidate + query
    return "/" + query


def _get_match(request: Request, path: str) -> Match:
    """How the app's routes answer a GET of `path`: FULL, PARTIAL (other methods only), NONE."""
    app = request.scope.get("app")
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    best = Match.NONE
    for route in getattr(app, "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return match
        if match is Match.PARTIAL:
            best = match
    return best
