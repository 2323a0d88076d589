"""The OpenAPI document at `/openapi.json` and the page that shows it, `/docs`, served with
its scripts and stylesheets from the `fastapi-offline` package (no CDN), so it works on a
network without the internet.

FastAPI generates the document from the routes; `install` post-processes it once:

* every operation lists the problem answers that can apply to it, each as
  `application/problem+json` with the `Problem` schema (docs/errors.md). Most follow from the
  operation's signature: 401 when it takes a bearer token, 403 when a role gate guards it, 404
  when its path names an object, 400/413/422 when it takes a body, 422 when it takes query
  parameters, 412/428 when it takes `If-Match`, and 503 everywhere (the database cannot be
  reached, a time limit ran out, or the service is overloaded: API.md). A route declares the
  others itself with `responses=problems(...)`: 409 (the state, a taken name, an idempotency
  key in use), 429, a 404 that no path id shows;
* FastAPI's `HTTPValidationError` 422 gives way to the problem schema;
* `If-Match` is marked required where it is the operation's one precondition (every referral
  command). In the document only: the parameter stays optional in the route, so a request
  without it reaches the handler and gets 428 as API.md says, never FastAPI's 422.

Each operation's description is its route function's docstring.

Must not: change what any route answers; it only describes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI, routing
from fastapi_offline import FastAPIOffline

from app.problems import PROBLEM_JSON

_REF = "#/components/schemas/"

DOCS_URL, ASSETS_URL = "/docs", "/docs/assets"

_DESCRIPTIONS: dict[int, str] = {
    400: "The body is not well-formed JSON, or not the form this operation expects.",
    401: "Not signed in: no bearer token, or one that is invalid or has expired; at sign-in, "
    "a wrong username or password (the same answer for both).",
    403: "The caller's roles may never do this (`/problems/forbidden`), or separation of "
    "duties forbids it to this caller (`/problems/separation-of-duties`).",
    404: "No such object, or one the caller may not see (the two answers are the same).",
    409: "The request conflicts with the current state: the referral's status does not allow "
    "it (`detail` names the status), the name is taken, or a request with the same "
    "`Idempotency-Key` is still running.",
    412: "`If-Match` (or `If-None-Match`) names another version: read the resource again.",
    413: "The body is larger than the service accepts.",
    422: "The request is not valid: `errors` lists each invalid field and what is wrong with "
    "it; or a rule that depends on the referral's state refuses it (`/problems/rule-violation`).",
    428: "`If-Match` is missing: send the current `ETag`.",
    429: "Too many requests: wait for `Retry-After` seconds.",
    503: "The database cannot be reached, the request ran out of time or the service is "
    "overloaded: try again after `Retry-After` seconds.",
}
_HEADERS: dict[int, dict[str, str]] = {
    401: {"WWW-Authenticate": "`Bearer`"},
    429: {"Retry-After": "Seconds to wait before trying again."},
    503: {"Retry-After": "Seconds to wait before trying again."},
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An RFC 9457 problem document; docs/errors.md lists every `type`.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "What went wrong, as a stable slug that clients match on.",
            "examples": ["/problems/invalid-state"],
        },
        "title": {"type": "string", "description": "The type in a few words."},
        "status": {"type": "integer", "description": "The HTTP status."},
        "detail": {"type": "string", "description": "This occurrence, in plain words."},
        "instance": {"type": "string", "description": "The path that was requested."},
        "request_id": {"type": "string", "description": "The `X-Request-ID` of the request."},
        "errors": {
            "type": "array",
            "description": "For invalid input only: one entry per invalid field.",
            "items": {"$ref": f"{_REF}FieldProblem"},
        },
    },
}
FIELD_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "FieldProblem",
    "type": "object",
    "required": ["field", "message"],
    "properties": {
        "field": {
            "type": "string",
            "description": "A dotted path into the body (`potential_victim.gender`, "
            "`exploitation.types.1`), a query parameter's name, or `body` for the whole body.",
        },
        "message": {"type": "string", "description": "What is wrong, in plain words."},
    },
}


def problem_response(status: int) -> dict[str, Any]:
    """One documented problem answer."""
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": f"{_REF}Problem"}}},
    }
    if status in _HEADERS:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in _HEADERS[status].items()
        }
    return response


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the problem answers its signature does not show."""
    return {status: problem_response(status) for status in statuses}


def create(**kwargs: Any) -> FastAPI:
    """A FastAPI app whose `/docs` loads its assets from the service itself."""
    # No ReDoc: its bundle fetches its logo from a CDN, and `/docs` serves the same document.
    app = FastAPIOffline(docs_url=DOCS_URL, redoc_url=None, static_url=ASSETS_URL, **kwargs)
    install(app)
    return app


def install(app: FastAPI) -> None:
    """Replace `app.openapi` with one that post-processes FastAPI's document once."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            app.openapi_schema = None  # until the document is complete
            describe(document, _role_gated(app))
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _role_gated(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every operation whose route has a role gate (`Requires`: 403)."""
    gated: set[tuple[str, str]] = set()
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, routing.APIRoute) and _has_role_gate(route.dependant):
            methods = route.methods or set()
            gated |= {(method.lower(), str(context.path_format)) for method in methods}
    return gated


def _has_role_gate(dependant: Any) -> bool:
    return any(
        getattr(sub.call, "nrm_permission", None) is not None or _has_role_gate(sub)
        for sub in dependant.dependencies
    )


def describe(document: dict[str, Any], role_gated: set[tuple[str, str]]) -> None:
    """Add the problem answers, the problem schema and `If-Match`'s requirement."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _describe_operation(operation, gated=(method, path) in role_gated)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"], schemas["FieldProblem"] = PROBLEM_SCHEMA, FIELD_PROBLEM_SCHEMA
    _drop_unused(document, ("HTTPValidationError", "ValidationError"))


def _describe_operation(operation: dict[str, Any], *, gated: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    fastapi_422 = responses.get("422")
    if fastapi_422 is not None and PROBLEM_JSON not in fastapi_422.get("content", {}):
        del responses["422"]  # FastAPI's HTTPValidationError; a malformed path id is 404 here
    for status in sorted(_statuses(operation, gated=gated)):
        responses.setdefault(str(status), problem_response(status))
    parameters = {(p["in"], p["name"]): p for p in operation.get("parameters", [])}
    if_match = parameters.get(("header", "If-Match"))
    if if_match is not None:
        if ("header", "If-None-Match") not in parameters:
            # API.md: every command that changes a referral; without it the answer is 428.
            if_match.update(required=True, schema={"type": "string", "examples": ['"3"']})
        if_match.setdefault("description", "The resource's current `ETag`, as it was sent.")


def _statuses(operation: dict[str, Any], *, gated: bool) -> set[int]:
    where = {p["in"] for p in operation.get("parameters", [])}
    names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
    statuses = {503}
    if operation.get("security"):
        statuses.add(401)
    if gated:
        statuses.add(403)
    if "path" in where:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    if "query" in where:
        statuses.add(422)
    if "If-Match" in names:
        statuses |= {412, 428}
    return statuses


def _drop_unused(document: dict[str, Any], names: Iterable[str]) -> None:
    schemas = document["components"]["schemas"]
    for name in names:
        if name in schemas and not _refers_to(document, f"{_REF}{name}"):
            del schemas[name]


def _refers_to(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_refers_to(v, ref) for v in node.values())
    if isinstance(node, list):
        return any(_refers_to(v, ref) for v in node)
    return False
