"""Versions as strong ETags, and the `If-Match` rule of API.md's Concurrency section.

Owns the ETag text of a version and the 428/412 check. Pure (no FastAPI, no SQLAlchemy), so
commands can check a precondition without importing the web layer; the headers themselves are
read by `app.http` (`IfMatch`, `IfNoneMatch`), which re-exports these two functions.
"""

from __future__ import annotations

from app.errors import PreconditionFailed, PreconditionRequired


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
