"""The lists of referrals: a first responder's home page, and `/referrals`, paged by keyset.

Both read through `queries.list_page` (the visibility filter: what the API's `GET /referrals`
lists), newest first. A summary holds no personal data, so a list writes no access event.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app import labels
from app.errors import AppError
from app.http import paging
from app.i18n.core import gettext
from app.i18n.core_noop import N_
from app.identity.permissions import Permission
from app.identity.roles import Role
from app.referrals import presenters, queries
from app.referrals.schemas import ReferralSummary
from app.referrals.workflow import Status
from app.web import referral_form
from app.web.forms import FormErrors, FormValues
from app.web.pages import Page, PageRoute, signed_in
from app.web.referral_fields import date_of

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Page, Depends(signed_in(Permission.READ_REFERRAL))]
PAGE_SIZE = 20
HOME_SIZE = 10
SCOPE = "/referrals"
UNKNOWN_STATUS = N_("Choose a status from the list")
ReferralPaging = paging(SCOPE)
"""The API's paging, its cursors signed for `/referrals` whichever page shows the first page
(a first responder's home page shows it too)."""


async def page_of(
    page: Page,
    cursor: str | None,
    limit: int,
    filters: queries.ListFilters | None = None,
) -> tuple[list[ReferralSummary], dict[str, str], str | None]:
    """One page of summaries, the routed units' names in the page's language, the next cursor."""
    cursors = ReferralPaging(page.request, page.settings, limit=limit, cursor=cursor)
    rows, next_key = await queries.list_page(
        page.session,
        page.actor,
        filters or queries.ListFilters(),
        after=cursors.after(queries.Keyset),
        limit=limit,
    )
    names = {r.routed_to.code: labels.local_name(r.routed_to, page.language) for r in rows}
    next_cursor = cursors.next_cursor(next_key.cursor_values()) if next_key else None
    return [presenters.summary(r) for r in rows], names, next_cursor


async def home(page: Page) -> Response:
    """A signed-in person's home: a first responder's is the form and their organisation's
    latest referrals (WEB.md "Pages")."""
    if page.actor.has(Role.FIRST_RESPONDER):
        items, names, more = await page_of(page, None, HOME_SIZE)
        return await referral_form.show_new(
            page, "home.html", items=items, names=names, more=more is not None
        )
    return page.render("home.html", items=[], names={}, more=False)


@router.get("/referrals")
async def referrals(page: Reader, cursor: str | None = None) -> Response:
    """The referrals this person may see, newest first, with the API's filters (`status`,
    `created_from`, `created_to`: a date's day, month and year boxes)."""
    values = FormValues.of(page.request.query_params)
    errors = FormErrors(anchors={name: f"{name}.day" for name in ("created_from", "created_to")})
    status = values.get("status")
    dates = {name: date_of(values, name, errors) for name in ("created_from", "created_to")}
    if status and status not in {s.value for s in Status}:
        errors.add("status", gettext(UNKNOWN_STATUS))
    try:
        filters = queries.ListFilters(Status(status) if status and not errors else None, **dates)
    except AppError as exc:
        errors.add_problem(exc)
    if errors:
        return _listed(page, values, errors, [], {}, None, first=True, status_code=422)
    items, names, next_cursor = await page_of(page, cursor, PAGE_SIZE, filters)
    return _listed(page, values, errors, items, names, next_cursor, first=cursor is None)


def _listed(
    page: Page,
    values: FormValues,
    errors: FormErrors,
    items: list[ReferralSummary],
    names: dict[str, str],
    next_cursor: str | None,
    *,
    first: bool,
    status_code: int = 200,
) -> Response:
    kept = [
        (k, v) for k, v in page.request.query_params.multi_items() if k not in {"cursor", "lang"}
    ]
    return page.render(
        "referrals.html",
        status_code=status_code,
        items=items,
        names=names,
        next_url=f"/referrals?{urlencode([*kept, ('cursor', next_cursor)])}"
        if next_cursor
        else None,
        first_url=f"/referrals?{urlencode(kept)}",
        first=first,
        values=values,
        errors=errors,
    )
