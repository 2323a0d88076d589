"""GET /queue: the work waiting on the caller's unit and role, earliest due first, with cursor
pagination. A decision maker sees RG and CG decisions and reconsiderations; a senior decision
maker also the second reviews; a panel member only panel reviews (app/referrals/queue.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import AppUser
from tests.referrals.builders import Case, Cast, drive, make_cast_quickly, set_service_date, step


@dataclass
class Scene:
    cast: Cast
    rg_decision: Case  # filed Tue 1 Dec: rg_due Tue 8 Dec
    rg_review: Case  # filed Mon 30 Nov, proposed negative: rg_due Mon 7 Dec
    cg_decision: Case  # RG positive Mon 30 Nov: the recovery period ends Wed 30 Dec
    panel_review: Case  # CG negative proposed Mon 30 Nov: the panel is due Mon 14 Dec
    reconsideration: Case  # requested Wed 2 Dec: due Wed 9 Dec


@pytest.fixture
async def scene(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> Scene:
    cast = await make_cast_quickly(app, sessions)
    await set_service_date(client, cast.responder, date(2026, 11, 30))
    rg_review = await drive(client, cast, "rg_proposed")
    cg_decision = await drive(client, cast, "recovery_period")
    panel_review = await drive(client, cast, "cg_proposed")
    for final in ("cg_positive", "withdrawn", "suspended"):  # nothing waits on anyone here
        await drive(client, cast, final)
    await set_service_date(client, cast.responder, date(2026, 12, 1))
    rg_decision = await drive(client, cast, "awaiting_rg")
    await set_service_date(client, cast.responder, date(2026, 12, 2))
    reconsideration = await drive(client, cast, "rg_reconsidering")
    abandoned = await drive(client, cast, "rg_reconsidering")  # then withdrawn: no work left
    await step(client, cast.responder, abandoned, "withdraw", {"reason": "Moved away."})
    return Scene(cast, rg_decision, rg_review, cg_decision, panel_review, reconsideration)


async def queue(client: httpx.AsyncClient, user: AppUser, **params: Any) -> httpx.Response:
    return await client.get("/api/v1/queue", params=params, headers=user.headers)


def work(response: httpx.Response) -> list[tuple[str, str, str]]:
    assert response.status_code == 200, response.text
    return [(i["reference"], i["next_action"], i["due"]) for i in response.json()["items"]]


class TestQueue:
    async def test_each_role_sees_its_own_work_earliest_due_first(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        s, cast = scene, scene.cast
        decisions = [
            (s.rg_decision.reference, "rg_decision", "2026-12-08"),
            (s.reconsideration.reference, "reconsideration", "2026-12-09"),
            (s.cg_decision.reference, "cg_decision", "2026-12-30"),
        ]
        review = (s.rg_review.reference, "rg_review", "2026-12-07")
        panel = (s.panel_review.reference, "panel_review", "2026-12-14")

        assert work(await queue(client, cast.decision_maker)) == decisions
        assert work(await queue(client, cast.senior)) == [review, *decisions]
        assert work(await queue(client, cast.panel)) == [panel]
        assert work(await queue(client, cast.other_unit_maker)) == []

    async def test_pages_through_the_work_with_a_cursor(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        whole = work(await queue(client, scene.cast.senior))
        seen: list[tuple[str, str, str]] = []
        cursor: str | None = None
        for _ in range(len(whole)):
            response = await queue(
                client, scene.cast.senior, limit=1, **({"cursor": cursor} if cursor else {})
            )
            seen += work(response)
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        assert seen == whole
        assert cursor is None
        assert len(whole) == 4

    async def test_shows_who_is_assigned(self, client: httpx.AsyncClient, scene: Scene) -> None:
        cast = scene.cast
        await step(
            client,
            cast.senior,
            scene.rg_decision,
            "assign",
            {"user_id": str(cast.decision_maker.id)},
        )
        items = (await queue(client, cast.decision_maker)).json()["items"]
        assigned = {i["reference"]: i["assigned_to"] for i in items}
        assert assigned[scene.rg_decision.reference] == {
            "id": str(cast.decision_maker.id),
            "display_name": assigned[scene.rg_decision.reference]["display_name"],
        }
        assert assigned[scene.cg_decision.reference] is None
        assert set(items[0]) == {"referral_id", "reference", "next_action", "due", "assigned_to"}


class TestQueueRefusals:
    async def test_refuses_roles_that_take_no_decisions(
        self, app: FastAPI, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
    ) -> None:
        cast = await make_cast_quickly(app, sessions)
        for user in (cast.responder, cast.auditor, cast.immigration, cast.admin):
            response = await queue(client, user)
            assert response.status_code == 403
            assert response.json()["type"] == "/problems/forbidden"

    async def test_refuses_a_limit_out_of_range_and_a_foreign_cursor(
        self, app: FastAPI, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
    ) -> None:
        cast = await make_cast_quickly(app, sessions)
        for params in ({"limit": 0}, {"limit": 201}, {"cursor": "not-ours!"}):
            response = await queue(client, cast.decision_maker, **params)
            assert response.status_code == 422, params
