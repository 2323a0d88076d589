"""The id of the request being served, as a context variable.

Owns only the variable: the middleware sets it, audit events and problem bodies read it. Pure
(no FastAPI, no SQLAlchemy), so the core can read it without importing the web layer.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return request_id_var.get()
