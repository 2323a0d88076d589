"""`/queue`: the work waiting for a decider or a panel member (WEB.md "Pages"), and their home.

It reads `app.referrals.queue.queue`, the service function of the API's `GET /queue`, with the
same role gate (`queue:read`: 403 for a role that takes no decisions): the next action in
words, the due date in the page's language, overdue marked (due before the service's date, as
the referral page reads it), earliest due first, paged by the API's cursor. A queue item holds
no personal data, so a page of it writes no access event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.days import wales_date
from app.http import RequestNow, paging
from app.i18n.core import gettext
from app.i18n.core_noop import N_
from app.identity.permissions import Permission
from app.referrals import queue
from app.web.pages import Page, PageRoute, signed_in

router = APIRouter(route_class=PageRoute)
QueueReader = Annotated[Page, Depends(signed_in(Permission.READ_QUEUE))]
PAGE_SIZE = 20
SCOPE = "/queue"


QueuePaging = paging(SCOPE)
"""The API's paging, its cursors signed for `/queue` whichever page shows the first page
(the home page shows it too)."""


REROUTED = N_("The referral is sent to the other unit: it is theirs to decide now")


@router.get("/queue")
async def queue_page(
    page: QueueReader, now: RequestNow, cursor: str | None = None, done: str = ""
) -> Response:
    """One page of the person's work, earliest due first (after a reroute, saying so)."""
    return await render(page, now, cursor, notice=gettext(REROUTED) if done == "rerouted" else None)


async def render(
    page: Page, now: datetime, cursor: str | None = None, notice: str | None = None
) -> Response:
    """The queue's page (the template `queue.html`), from `cursor` or from its start."""
    found = await queue.queue(
        page.session,
        page.actor,
        QueuePaging(page.request, page.settings, limit=PAGE_SIZE, cursor=cursor),
    )
    return page.render(
        "queue.html",
        items=found.items,
        today=wales_date(now),
        next_url=f"{SCOPE}?cursor={found.next_cursor}" if found.next_cursor else None,
        first=cursor is None,
        notice=notice,
    )
