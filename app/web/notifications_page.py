"""`/admin/notifications`: the outbox as administrators watch it, and a failed one queued again.

The page reads what `GET /notifications` reads (`notifications.service.page`: newest first,
the same `status` and `kind` filters, keyset paging on the creation time and id, its cursors
signed as the API's are but for `/admin/notifications`; a cursor the page did not sign starts
again at the first page, as an out-of-date link would, and never reaches the query) and its
"Retry" button does what `POST /notifications/{id}/retry` does (`service.retry`): a failed
notification is queued again with a fresh count of attempts, anything else is refused with
the API's 409, shown in words. A message's body is never stored, so never shown.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from app import labels
from app.errors import NotificationNotFailed, ValidationFailed
from app.http import PageParams, paging
from app.i18n.core import gettext, translate
from app.i18n.core_noop import N_
from app.identity.models import Organisation, User
from app.identity.permissions import Permission
from app.notifications import service
from app.notifications.models import Kind, Notification, Status
from app.notifications.schemas import NotificationsAfter
from app.web.forms import FormErrors
from app.web.pages import Page, PageRoute, checked_form, signed_in

router = APIRouter(route_class=PageRoute)
Admin = Annotated[Page, Depends(signed_in(Permission.MANAGE_NOTIFICATIONS))]
PAGE_SIZE = 50
MAILBOX_OF = N_("Shared mailbox of %(name)s")
UNKNOWN_STATUS = N_("Choose a status from the list")
UNKNOWN_KIND = N_("Choose a kind of notification from the list")
RETRIED = N_("The notification is queued again: it will be sent in a moment.")
NotificationsPaging = paging("/admin/notifications")
"""Cursors signed for this page, whichever request renders it (a refused retry shows it too)."""


def _filters(status: str | None, kind: str | None) -> tuple[Status | None, Kind | None]:
    """The filters as the API takes them; a value it does not know filters nothing (the GET
    says so first: `_unknown`)."""
    return (
        Status(status) if status in set(Status) else None,
        Kind(kind) if kind in set(Kind) else None,
    )


def _unknown(status: str | None, kind: str | None) -> FormErrors:
    """A filter the API would refuse (its 422), by the field: only a typed address has one."""
    errors = FormErrors()
    if status and status not in set(Status):
        errors.add("status", gettext(UNKNOWN_STATUS))
    if kind and kind not in set(Kind):
        errors.add("kind", gettext(UNKNOWN_KIND))
    return errors


def _after(cursors: PageParams) -> tuple[datetime, uuid.UUID] | None:
    """Where the page starts; None on the first page and for a cursor the page did not sign
    (or whose values it cannot use): the first page again, as before cursors were signed."""
    try:
        start = cursors.after(NotificationsAfter)
    except ValidationFailed:
        return None
    return (start.created_at, start.id) if start else None


def _address(status: Status | None, kind: Kind | None, **more: str) -> str:
    query = {"status": status or "", "kind": kind or "", **more}
    return "/admin/notifications?" + urlencode({k: v for k, v in query.items() if v})


@router.get("/admin/notifications")
async def notifications(
    page: Admin,
    status: str | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    done: str | None = None,
) -> Response:
    chosen_status, chosen_kind = _filters(status, kind)
    if errors := _unknown(status, kind):
        return await render(page, chosen_status, chosen_kind, None, errors=errors, status_code=422)
    retried = gettext(RETRIED) if done == "retried" else None
    return await render(page, chosen_status, chosen_kind, cursor, done=retried)


async def render(
    page: Page,
    status: Status | None,
    kind: Kind | None,
    cursor: str | None,
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
    done: str | None = None,
) -> Response:
    cursors = NotificationsPaging(page.request, page.settings, limit=PAGE_SIZE, cursor=cursor)
    after = _after(cursors)
    found = await service.page(
        page.session, status=status, kind=kind, after=after, limit=PAGE_SIZE + 1
    )
    rows = found[:PAGE_SIZE]
    last = rows[-1][0] if rows else None
    more = len(found) > PAGE_SIZE and last is not None
    next_page = (
        _address(
            status,
            kind,
            cursor=cursors.next_cursor(
                {"created_at": last.created_at.isoformat(), "id": str(last.id)}
            ),
        )
        if more and last
        else None
    )
    errors = errors or FormErrors()
    recipients = await _recipients(page, rows)
    return page.render(
        "admin_notifications.html",
        status_code=status_code,
        rows=[(row, recipients[_key(row, code)]) for row, code in rows],
        status=status or "",
        kind=kind or "",
        statuses=labels.choices("notification_status"),
        kinds=labels.choices("notification_kind"),
        next_page=next_page,
        first_page=_address(status, kind) if after else None,
        errors=errors,
        done=done,
    )


def _key(row: Notification, code: str | None) -> str:
    return str(row.user_id) if row.user_id else f"organisation:{code}"


async def _recipients(
    page: Page, rows: list[tuple[Notification, str | None]]
) -> dict[str, tuple[str, str | None]]:
    """Who each row is for, in words, and the page of the user (None for a mailbox): the
    page's users and organisations read in one statement each."""
    user_ids = {row.user_id for row, _ in rows if row.user_id}
    codes = {code for row, code in rows if row.user_id is None and code}
    users = {
        user.id: user
        for user in await page.session.scalars(select(User).where(User.id.in_(user_ids)))
    }
    organisations = {
        o.code: o
        for o in await page.session.scalars(
            select(Organisation).where(Organisation.code.in_(codes))
        )
    }
    found: dict[str, tuple[str, str | None]] = {}
    for row, code in rows:
        if row.user_id is None:
            organisation = organisations.get(code or "")
            name = labels.local_name(organisation, page.language) if organisation else code or ""
            found[_key(row, code)] = (gettext(MAILBOX_OF) % {"name": name}, None)
        else:
            user = users.get(row.user_id)
            who = f"{user.display_name} ({user.username})" if user else str(row.user_id)
            found[_key(row, code)] = (who, f"/admin/users/{row.user_id}")
    return found


@router.post("/admin/notifications/{notification_id}/retry")
async def retry(request: Request, page: Admin, notification_id: uuid.UUID) -> Response:
    """Queue a failed notification again; the page with the filters it was sent from."""
    form = await checked_form(request, page)
    status, kind = _filters(str(form.get("status") or ""), str(form.get("kind") or ""))
    try:
        async with page.session.begin_nested():
            await service.retry(page.session, notification_id)
    except NotificationNotFailed as exc:
        errors = FormErrors()
        errors.add("", translate(exc.detail))
        page.address = _address(status, kind)  # the language link: the list as filtered
        return await render(page, status, kind, None, errors=errors, status_code=exc.status)
    return page.redirect(_address(status, kind, done="retried"))
