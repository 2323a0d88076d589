"""The lists of referrals: a first responder's home page, and `/referrals`, paged by keyset.

Both read through `queries.list_page` (the visibility filter: what the API's `GET /referrals`
lists), newest first. A summary holds no personal data, so a list writes no access event.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.http import cursor_key, decode_cursor, encode_cursor, invalid_cursor
from app.identity.permissions import Permission
from app.identity.roles import Role
from app.referrals import presenters, queries
from app.referrals.schemas import ReferralSummary
from app.web.pages import Page, PageRoute, signed_in

router = APIRouter(route_class=PageRoute)
Reader = Annotated[Page, Depends(signed_in(Permission.READ_REFERRAL))]
PAGE_SIZE = 20
HOME_SIZE = 10
SCOPE = "/referrals"


async def page_of(
    page: Page, cursor: str | None, limit: int
) -> tuple[list[ReferralSummary], dict[str, str], str | None]:
    """One page of summaries, the routed units' names in the page's language, the next cursor."""
    key = cursor_key(page.settings)
    after = None
    if cursor:
        try:
            after = queries.Keyset.model_validate(decode_cursor(cursor, key=key, scope=SCOPE))
        except ValueError as exc:
            raise invalid_cursor() from exc
    rows, next_key = await queries.list_page(
        page.session, page.actor, queries.ListFilters(), after=after, limit=limit
    )
    welsh = page.language == "cy"
    names = {r.routed_to.code: r.routed_to.name_cy if welsh else r.routed_to.name for r in rows}
    next_cursor = (
        encode_cursor(next_key.cursor_values(), key=key, scope=SCOPE) if next_key else None
    )
    return [presenters.summary(r) for r in rows], names, next_cursor


async def home(page: Page) -> Response:
    """A signed-in person's home: a first responder's is the form and their organisation's
    latest referrals (WEB.md "Pages")."""
    if page.actor.has(Role.FIRST_RESPONDER):
        items, names, more = await page_of(page, None, HOME_SIZE)
        return page.render("home.html", items=items, names=names, more=more is not None)
    return page.render("home.html", items=[], names={}, more=False)


@router.get("/referrals")
async def referrals(page: Reader, cursor: str | None = None) -> Response:
    items, names, next_cursor = await page_of(page, cursor, PAGE_SIZE)
    return page.render(
        "referrals.html", items=items, names=names, next_cursor=next_cursor, first=cursor is None
    )
