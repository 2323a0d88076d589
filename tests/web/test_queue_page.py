"""`/queue`: a decider's work as `GET /queue` lists it, in words, earliest due first, overdue
marked, paged by the API's cursor; their home page; 403 for a role that takes no decisions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.web import queue_page
from tests.referrals.builders import Case, Cast, drive, make_cast, set_service_date
from tests.web.helpers import sign_in


@dataclass
class Scene:
    cast: Cast
    overdue: Case  # filed Mon 30 Nov: RG due Mon 7 Dec
    due_today: Case  # filed Tue 1 Dec: RG due Tue 8 Dec
    cg: Case  # RG positive Mon 30 Nov: CG from the end of the recovery period


@pytest.fixture
async def scene(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> Scene:
    cast = await make_cast(app, sessions)
    await set_service_date(client, cast.responder, date(2026, 11, 30))
    overdue = await drive(client, cast, "awaiting_rg")
    cg = await drive(client, cast, "recovery_period")
    await set_service_date(client, cast.responder, date(2026, 12, 1))
    due_today = await drive(client, cast, "awaiting_rg")
    await set_service_date(client, cast.responder, date(2026, 12, 8))
    return Scene(cast, overdue, due_today, cg)


def rows(html: str) -> list[str]:
    """Each row of the queue's table, its tags stripped."""
    body = html.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    found = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in found]


class TestQueuePage:
    async def test_the_work_in_words_earliest_due_first_overdue_marked(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.decision_maker.username)
        page = await client.get("/queue")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        first, second, third = rows(page.text)
        assert first.startswith(scene.overdue.reference)
        assert "Reasonable grounds decision" in first
        assert "7 December 2026" in first
        assert "Overdue" in first
        assert second.startswith(scene.due_today.reference)
        assert "8 December 2026" in second
        assert "Overdue" not in second
        assert third.startswith(scene.cg.reference)
        assert "Conclusive grounds decision" in third
        assert "Overdue" not in third
        assert f'href="/referrals/{scene.overdue.id}"' in page.text

    async def test_it_is_the_home_page_of_a_decider(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.decision_maker.username)
        home = await client.get("/")
        assert [r.split()[0] for r in rows(home.text)] == [
            scene.overdue.reference,
            scene.due_today.reference,
            scene.cg.reference,
        ]
        assert 'href="/queue"' in home.text

    async def test_pages_with_the_apis_cursor(
        self, client: httpx.AsyncClient, scene: Scene, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(queue_page, "PAGE_SIZE", 2)
        await sign_in(client, scene.cast.decision_maker.username)
        for start in ("/queue", "/"):
            page = await client.get(start)
            assert len(rows(page.text)) == 2
            found = re.search(r'href="(/queue\?cursor=[^"]+)"', page.text)
            assert found is not None
            following = await client.get(found.group(1).replace("&amp;", "&"))
            assert following.status_code == 200
            assert [r.split()[0] for r in rows(following.text)] == [scene.cg.reference]
            assert "First page" in following.text
        assert (await client.get("/queue?cursor=forged")).status_code == 422

    async def test_a_senior_also_sees_the_second_reviews(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        proposed = await drive(client, scene.cast, "rg_proposed")  # due Tue 15 Dec
        await sign_in(client, scene.cast.senior_two.username)
        found = rows((await client.get("/queue")).text)
        assert [r.split()[0] for r in found] == [
            scene.overdue.reference,
            scene.due_today.reference,
            proposed.reference,
            scene.cg.reference,
        ]
        assert "Second review of a reasonable grounds decision" in found[2]

    async def test_a_panel_member_sees_only_panel_reviews(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.panel.username)
        page = await client.get("/queue")
        assert page.status_code == 200
        assert "Nothing is waiting for you." in page.text

    async def test_a_role_that_takes_no_decisions_is_refused(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        for user in (scene.cast.responder, scene.cast.auditor):
            await sign_in(client, user.username)
            assert (await client.get("/queue")).status_code == 403
        client.cookies.clear()
        anonymous = await client.get("/queue")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/sign-in?next=/queue"

    async def test_in_welsh_with_welsh_dates(self, client: httpx.AsyncClient, scene: Scene) -> None:
        await sign_in(client, scene.cast.decision_maker.username)
        page = await client.get("/queue?lang=cy")
        assert '<html lang="cy"' in page.text
        assert "7 Rhagfyr 2026" in page.text
        assert "December" not in page.text
