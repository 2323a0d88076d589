"""The web pages' cursors are the API's signed cursors (app/http.py `paging`), each signed for
its own list: a cursor of one list is refused by every other list, page or API, each answering
as it always has (`/audit` its form with the API's words, 422; `/queue` and `/referrals` the
422 page; `/admin/notifications` its first page again). `/admin/notifications` pages by the
keyset of `GET /notifications`, and a cursor it did not sign never reaches its query."""

from __future__ import annotations

import base64
import html
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.http import cursor_key, decode_cursor, encode_cursor
from app.notifications import service
from app.web import notifications_page
from tests.referrals.builders import Cast, file_case, make_cast
from tests.test_cursors import FORGED, unsigned
from tests.web.helpers import sign_in

NOTIFICATIONS = "/admin/notifications"
A_ROW = {"created_at": "2026-01-01T00:00:00+00:00", "id": str(uuid.UUID(int=1))}


@dataclass(frozen=True)
class Target:
    """A list, who may read it, values its cursor could hold, and how it answers."""

    user: str  # an attribute of Cast
    values: dict[str, Any]
    refusal: str  # "form" (/audit), "page" (422 page), "first" (first page again), "api"


TARGETS = {
    "/audit": Target("auditor", {"seq": 1}, "form"),
    "/queue": Target(
        "decision_maker", {"due": "2026-12-04", "reference": "NRM-W-2026-000001"}, "page"
    ),
    "/referrals": Target("responder", A_ROW, "page"),
    NOTIFICATIONS: Target("admin", A_ROW, "first"),
    "/api/v1/audit/events": Target("auditor", {"seq": 1}, "api"),
    "/api/v1/queue": Target(
        "decision_maker", {"due": "2026-12-04", "reference": "NRM-W-2026-000001"}, "api"
    ),
    "/api/v1/referrals": Target("responder", A_ROW, "api"),
    "/api/v1/notifications": Target("admin", A_ROW, "api"),
}


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


@pytest.fixture
def key(app: FastAPI) -> bytes:
    return cursor_key(app.state.settings)


@pytest.fixture
def afters(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every `after` that reached the outbox's query (`service.page`)."""
    seen: list[Any] = []
    real = service.page

    async def page(session: AsyncSession, **given: Any) -> Any:
        seen.append(given["after"])
        return await real(session, **given)

    monkeypatch.setattr(service, "page", page)
    return seen


def rows_of(text: str) -> list[str]:
    return re.findall(r'data-row="([^"]+)"', text)


def next_link(text: str) -> str | None:
    found = re.search(r'href="(/admin/notifications\?[^"]*cursor=[^"]+)"[^>]*rel="next"', text)
    return html.unescape(found.group(1)) if found else None


def cursor_in(link: str) -> str:
    return str(httpx.URL(link).params["cursor"])


class TestEachListRefusesTheOthersCursors:
    @pytest.mark.parametrize("path", TARGETS)
    async def test_a_cursor_is_read_only_by_the_list_that_signed_it(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        key: bytes,
        afters: list[Any],
        path: str,
    ) -> None:
        target = TARGETS[path]
        user = getattr(cast, target.user)
        await file_case(client, cast.responder)
        if target.refusal != "api":
            await sign_in(client, user.username)
        headers = user.headers if target.refusal == "api" else {}

        async def given(scope: str) -> httpx.Response:
            cursor = encode_cursor(target.values, key=key, scope=scope)
            return await client.get(path, params={"cursor": cursor}, headers=headers)

        own = await given(path)
        assert own.status_code == 200, own.text
        if path == NOTIFICATIONS:
            assert "First page" in own.text  # read: the page after A_ROW
            assert afters.pop() is not None
        for scope in TARGETS.keys() - {path}:
            answer = await given(scope)
            if target.refusal == "api":
                assert answer.status_code == 422, (scope, answer.text)
                assert [e["field"] for e in answer.json()["errors"]] == ["cursor"]
            elif target.refusal == "first":
                assert answer.status_code == 200, (scope, answer.text)
                assert "First page" not in answer.text
                assert afters.pop() is None, scope
            else:
                assert answer.status_code == 422, (scope, answer.text)
                if target.refusal == "form":  # the filters' form, saying so in words
                    assert "start again from the first page" in answer.text


class TestNotificationsPaging:
    async def test_next_links_carry_signed_cursors_and_walk_every_row_once_in_order(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        key: bytes,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(notifications_page, "PAGE_SIZE", 2)
        for _ in range(2):
            await file_case(client, cast.responder)
        api = await client.get(
            "/api/v1/notifications", params={"limit": 200}, headers=cast.admin.headers
        )
        newest_first = [item["id"] for item in api.json()["items"]]
        assert len(newest_first) > 4  # more than two pages
        await sign_in(client, cast.admin.username)
        seen: list[str] = []
        link: str | None = NOTIFICATIONS
        while link:
            page = await client.get(link)
            assert page.status_code == 200
            rows = rows_of(page.text)
            assert len(rows) <= 2
            seen += rows
            link = next_link(page.text)
            if link:  # signed for this page, and holding the API's keyset of its last row
                values = decode_cursor(cursor_in(link), key=key, scope=NOTIFICATIONS)
                assert set(values) == {"created_at", "id"}
                assert values["id"] == rows[-1]
        assert seen == newest_first

    async def test_a_page_a_refused_retry_shows_links_to_the_pages_next_one(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        key: bytes,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # Rendered for POST /admin/notifications/{id}/retry: the cursor is still the list's.
        monkeypatch.setattr(notifications_page, "PAGE_SIZE", 2)
        await file_case(client, cast.responder)
        csrf = await sign_in(client, cast.admin.username)
        first = rows_of((await client.get(NOTIFICATIONS)).text)
        refused = await client.post(f"{NOTIFICATIONS}/{first[0]}/retry", data={"csrf_token": csrf})
        assert refused.status_code == 409
        link = next_link(refused.text)
        assert link is not None
        decode_cursor(cursor_in(link), key=key, scope=NOTIFICATIONS)
        following = await client.get(link)
        assert following.status_code == 200
        assert rows_of(following.text)
        assert not set(rows_of(following.text)) & set(first)


def _tampered(cursor: str) -> str:
    """The cursor with another row's id in it and its signature kept."""
    payload, _, mac = cursor.partition(".")
    values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    values["id"] = str(uuid.UUID(int=0))
    return f"{unsigned(json.dumps(values, separators=(',', ':'), sort_keys=True))}.{mac}"


SIGNED_BUT_UNUSABLE = {
    "a time without a zone": {"created_at": "2026-01-01T00:00:00", "id": A_ROW["id"]},
    "a time past 9999 in UTC": {"created_at": "9999-12-31T23:59:59-05:00", "id": A_ROW["id"]},
    "an id that is no UUID": {"created_at": A_ROW["created_at"], "id": "not an id"},
    "a time in words": {"created_at": "yesterday", "id": A_ROW["id"]},
    "nothing": {},
    "the audit's seq": {"seq": 1},
}


class TestNotificationsRefusedCursors:
    @pytest.mark.parametrize(
        "forged",
        [*FORGED.values(), "2026-01-01T00:00:00+00:00|00000000-0000-0000-0000-000000000001"],
        ids=[*FORGED.keys(), "the old unsigned created_at|id"],
    )
    async def test_a_forged_cursor_is_the_first_page_and_never_reaches_the_query(
        self, client: httpx.AsyncClient, cast: Cast, afters: list[Any], forged: str
    ) -> None:
        case = await file_case(client, cast.responder)
        await sign_in(client, cast.admin.username)
        answer = await client.get(NOTIFICATIONS, params={"cursor": forged})
        assert answer.status_code == 200
        assert case.reference in answer.text
        assert "First page" not in answer.text
        assert afters == [None]

    @pytest.mark.parametrize("values", SIGNED_BUT_UNUSABLE.values(), ids=SIGNED_BUT_UNUSABLE.keys())
    async def test_a_signed_cursor_with_values_it_cannot_use_is_the_first_page(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        key: bytes,
        afters: list[Any],
        values: dict[str, Any],
    ) -> None:
        # Possible only to whoever holds the secret (a development install keeps the default).
        await file_case(client, cast.responder)
        await sign_in(client, cast.admin.username)
        cursor = encode_cursor(values, key=key, scope=NOTIFICATIONS)
        answer = await client.get(NOTIFICATIONS, params={"cursor": cursor})
        assert answer.status_code == 200
        assert afters == [None]

    async def test_a_real_cursor_altered_or_given_to_another_list_is_refused(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        afters: list[Any],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(notifications_page, "PAGE_SIZE", 1)
        await file_case(client, cast.responder)
        await sign_in(client, cast.admin.username)
        link = next_link((await client.get(NOTIFICATIONS)).text)
        assert link is not None
        cursor = cursor_in(link)
        assert (await client.get(link)).status_code == 200
        assert afters[-1] is not None  # the page's own cursor is read
        afters.clear()
        altered = await client.get(NOTIFICATIONS, params={"cursor": _tampered(cursor)})
        assert altered.status_code == 200
        assert "First page" not in altered.text
        assert afters == [None]
        api = await client.get(
            "/api/v1/notifications", params={"cursor": cursor}, headers=cast.admin.headers
        )
        assert api.status_code == 422
        assert [e["field"] for e in api.json()["errors"]] == ["cursor"]
