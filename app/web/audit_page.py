"""`/audit`: the audit trail for auditors (WEB.md "Pages"), and an auditor's home page.

The page calls the API's own route functions of `app.audit.router` (`list_events`,
`verify`, `latest_checkpoint`), so the role gate (`audit:read`: 403 for anyone else), the
filters' validation, the keyset paging and the horizon are the API's. The filters are the API's
query parameters (`/audit?referral_id=…`); `since` and `until` take the API's time with a zone,
or a date (the start of that day in Wales). A filter the API would refuse is shown as the form
again, 422, with the API's message. Verifying walks every event, so it runs only when the
auditor asks (`/audit?verify=1`), in a read-only session of its own under the API's longer
time limit, as `GET /api/v1/audit/verify`; the latest signed checkpoint is shown with it.
Nothing here writes an event.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from app.audit import router as audit_api
from app.audit.models import Track
from app.audit.queries import EventFilters
from app.audit.schemas import CheckpointRead, VerifyRead
from app.days import WALES
from app.db import read_only_session
from app.errors import AppError, NotFound, ValidationFailed
from app.http import RequestNow, get_app_sessions, paging
from app.i18n.core import gettext, translate
from app.i18n.core_noop import N_
from app.identity.permissions import Permission
from app.schemas import Moment
from app.web import numbers, oversight_words
from app.web.forms import FormErrors, FormValues
from app.web.pages import Page, PageRoute, signed_in

router = APIRouter(route_class=PageRoute)
AuditReader = Annotated[Page, Depends(signed_in(Permission.READ_AUDIT))]
PAGE_SIZE = 50
FILTERS = ("referral_id", "actor_id", "organisation", "action", "track", "since", "until")
LONGEST = 64  # the API's longest organisation code and action name
WRONG_ID = N_("Enter the id as the service shows it, such as 3f2b8a4e-1c9d-4e5f-8a7b-6c5d4e3f2a1b")
TOO_LONG = N_("Enter at most 64 characters")
WRONG_TRACK = N_("Choose a track from the list")
WRONG_TIME = N_(
    "Enter a date such as 2026-12-04, or a date and time with its zone such as 2026-12-04T09:30:00Z"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT: TypeAdapter[datetime] = TypeAdapter(Moment)


AuditPaging = paging("/audit")
"""The API's paging, its cursors signed for `/audit` whichever page shows the first page
(an auditor's home page shows it too)."""


@router.get("/audit")
async def audit(
    page: AuditReader, now: RequestNow, cursor: str | None = None, verify: str | None = None
) -> Response:
    """The events the filters select, oldest first; with `verify`, the trail checked too."""
    return await render(page, now, cursor=cursor, verify=bool(verify))


async def render(
    page: Page, now: datetime, *, cursor: str | None = None, verify: bool = False
) -> Response:
    """The audit page (`audit.html`): the filters' form, a page of events, and verification
    when asked for. Also an auditor's home page (`/`)."""
    values = FormValues.of(page.request.query_params)
    errors = FormErrors()
    filters = filters_of(values, errors)
    checkpoint = await _checkpoint(page, now)  # first, so that a check covers the newest
    checked = await _verified(page) if verify else None
    if filters is None:
        return _rendered(page, values, errors, [], None, checked, checkpoint, status_code=422)
    try:
        found = await audit_api.list_events(
            page.session,
            page.actor,
            filters,
            AuditPaging(page.request, page.settings, limit=PAGE_SIZE, cursor=cursor),
        )
    except ValidationFailed as exc:  # a cursor this page did not sign: say so, no link
        errors.items.extend(("", translate(e.message)) for e in exc.errors)
        return _rendered(page, values, errors, [], None, checked, checkpoint, status_code=422)
    return _rendered(
        page, values, errors, found.items, found.next_cursor, checked, checkpoint, cursor=cursor
    )


def filters_of(values: FormValues, errors: FormErrors) -> EventFilters | None:
    """The API's filters from the query, or None with the problems added to `errors`."""
    parsed: dict[str, Any] = {}
    readers: dict[str, Callable[[str], Any]] = {
        "referral_id": _uuid,
        "actor_id": _uuid,
        "organisation": _short,
        "action": _short,
        "track": _track,
        "since": _moment,
        "until": _moment,
    }
    for name, read in readers.items():
        text = values.get(name).strip()
        if not text:
            continue
        try:
            parsed[name] = read(text)
        except ValueError as exc:
            errors.add(name, gettext(str(exc)))
    if errors:
        return None
    try:
        return audit_api.event_filters(**parsed)
    except AppError as exc:
        errors.add_problem(exc)
        return None


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValueError(WRONG_ID) from None


def _short(text: str) -> str:
    if len(text) > LONGEST:
        raise ValueError(TOO_LONG)
    return text


def _track(text: str) -> Track:
    try:
        return Track(text)
    except ValueError:
        raise ValueError(WRONG_TRACK) from None


def _moment(text: str) -> datetime:
    """The API's time with a zone; a bare date is the start of that day in Wales."""
    try:
        if _DATE.fullmatch(text):
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=WALES).astimezone(UTC)
        return _MOMENT.validate_python(text)
    except (ValueError, ValidationError):
        raise ValueError(WRONG_TIME) from None


async def _checkpoint(page: Page, now: datetime) -> CheckpointRead | None:
    """`GET /audit/checkpoints/latest`, as the API answers it: the newest signed checkpoint,
    extended over the events since (None while the trail is empty). Shown on every visit."""
    try:
        return await audit_api.latest_checkpoint(
            page.actor, page.session, get_app_sessions(page.request), page.settings, now
        )
    except NotFound:
        return None


async def _verified(page: Page) -> VerifyRead:
    """`GET /audit/verify`, as the API answers it: the walk in a read-only session of its own
    (as the API's `ReadOnlyDbSession`)."""
    async with read_only_session(get_app_sessions(page.request)) as session:
        return await audit_api.verify(session, page.actor, page.settings)


def _rendered(
    page: Page,
    values: FormValues,
    errors: FormErrors,
    items: list[Any],
    next_cursor: str | None,
    report: VerifyRead | None,
    checkpoint: CheckpointRead | None,
    *,
    cursor: str | None = None,
    status_code: int = 200,
) -> Response:
    kept = [(k, v) for k, v in page.request.query_params.multi_items() if k in FILTERS and v]
    return page.render(
        "audit.html",
        status_code=status_code,
        values=values,
        errors=errors,
        events=items,
        next_url=f"/audit?{urlencode([*kept, ('cursor', next_cursor)])}" if next_cursor else None,
        first_url=f"/audit?{urlencode(kept)}",
        first=cursor is None,
        checked=report is not None,
        report=report,
        checkpoint=checkpoint,
        action_choices=oversight_words.action_choices(),
        track_choices=oversight_words.track_choices(),
        action_name=oversight_words.action_name,
        track_name=oversight_words.track_name,
        role_names=oversight_words.role_names,
        **numbers.GLOBALS,
        checkpoint_at=_moment_of(checkpoint.at) if checkpoint else None,
    )


def _moment_of(text: str) -> datetime | None:
    """A checkpoint's `at`, kept as the string it was signed with, as a time to show."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
