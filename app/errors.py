"""The domain errors of Wales NRM, each named for the rule it enforces.

Every error carries its HTTP status, a problem `type` slug (rendered as `/problems/<slug>`) and a
title; `app.problems` is the one place that turns them into RFC 9457 responses. This module is
pure: it imports neither FastAPI nor SQLAlchemy, so the workflow and the chain can raise these.
`docs/errors.md` lists every type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: a dotted path into the body (`potential_victim.gender`) and why."""

    field: str
    message: str


class AppError(Exception):
    """Base of every error the service answers with a problem document."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors)
        self.headers = headers or {}


# 400
class MalformedBody(AppError):
    status, slug, title = 400, "malformed-body", "The request body is not well-formed JSON"


# 401
class NotAuthenticated(AppError):
    status, slug, title = 401, "not-authenticated", "Authentication required"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class InvalidCredentials(NotAuthenticated):
    slug, title = "invalid-credentials", "Invalid username or password"


# 403
class Forbidden(AppError):
    status, slug, title = 403, "forbidden", "Your role may not do this"


class SeparationOfDuties(Forbidden):
    slug, title = "separation-of-duties", "Separation of duties forbids this"


# 404
class NotFound(AppError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(AppError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


# 409
class Conflict(AppError):
    status, slug, title = 409, "conflict", "Conflict"


class InvalidState(Conflict):
    slug, title = "invalid-state", "The referral's state does not allow this"


class UsernameTaken(Conflict):
    slug, title = "username-taken", "That username is taken"


class DuplicateCode(Conflict):
    slug, title = "duplicate-code", "That code is taken"


class LastAdmin(Conflict):
    slug, title = "last-admin", "The last active administrator must stay"


class NotificationNotFailed(Conflict):
    slug, title = "notification-not-failed", "Only a failed notification can be retried"


class IdempotencyInFlight(Conflict):
    slug, title = "idempotency-in-flight", "A request with this idempotency key is in progress"


# 412 / 413 / 428
class PreconditionFailed(AppError):
    status, slug, title = 412, "precondition-failed", "The resource has changed (stale If-Match)"


class PayloadTooLarge(AppError):
    status, slug, title = 413, "payload-too-large", "The request body is too large"


class PreconditionRequired(AppError):
    status, slug, title = 428, "precondition-required", "If-Match is required"


# 422
class ValidationFailed(AppError):
    status, slug, title = 422, "validation-failed", "The request is not valid"


class ConsentRequired(ValidationFailed):
    """An adult's referral without their consent: file a duty-to-notify report instead (the
    web form sends the person there; the API's answer is the plain 422)."""


class RuleViolation(AppError):
    """A rule that depends on the referral's state, such as a missing early-decision reason."""

    status, slug, title = 422, "rule-violation", "The request breaks a rule of the workflow"


class IdempotencyKeyReused(AppError):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency key reused with another body"


# 429 / 503
class TooManyRequests(AppError):
    status, slug, title = 429, "too-many-requests", "Too many requests"


class DatabaseUnavailable(AppError):
    status, slug, title = 503, "database-unavailable", "The database cannot be reached"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": "5"})


class TimeLimitExceeded(DatabaseUnavailable):
    """A statement ran past the request's time limit (`NRM_STATEMENT_TIMEOUT_MS`): a safety
    net that no valid request reaches; the database was busy or the work too large."""

    slug, title = "time-limit-exceeded", "The request ran past its time limit"


class Overloaded(AppError):
    """More requests are in flight in this worker than `NRM_MAX_CONCURRENT_REQUESTS` allows
    (`app.admission`): refused before any work, so the requests already admitted finish."""

    status, slug, title = 503, "overloaded", "The service is overloaded"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": "1"})
