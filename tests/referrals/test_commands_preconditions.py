"""`If-Match` on every command (428 without, 412 when stale) and API.md's order of checks:
401 → 403 role → 422 body → 404 visibility → 428/412 → 409 state → 403 duties → 422 rules, so
that no answer reveals more than the caller may know.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import AppUser
from tests.referrals.builders import (
    RG_POSITIVE,
    Case,
    Cast,
    case_events,
    drive,
    make_cast_quickly,
    run,
)

BAD_BODY = {"reason": ""}


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


def slug(response: httpx.Response) -> str:
    return str(response.json()["type"]).removeprefix("/problems/")


class TestIfMatch:
    async def test_refuses_every_command_without_if_match(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        count = len(await case_events(db, case))
        commands: list[tuple[str, dict[str, Any]]] = [
            ("decisions", RG_POSITIVE),
            ("withdraw", {"reason": "x"}),
            ("suspend", {"reason": "x"}),
            ("assign", {}),
            ("age", {"estimated_age": 30, "reason": "x"}),
            ("reroute", {"to": cast.child_panel, "reason": "x"}),
        ]
        for path, body in commands:
            user = cast.senior
            response = await run(client, user, case, path, body, if_match=False)
            assert response.status_code == 428, (path, response.text)
            assert slug(response) == "precondition-required"
        assert len(await case_events(db, case)) == count

    async def test_answers_428_wherever_the_document_requires_if_match(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        # OpenAPI marks If-Match required (app.openapi) but the route keeps it optional, so a
        # request without it still gets API.md's 428, never a 422 for a missing header.
        document = (await client.get("/openapi.json")).json()
        required = [
            path
            for path, item in document["paths"].items()
            for parameter in item.get("post", {}).get("parameters", [])
            if parameter["name"] == "If-Match" and parameter.get("required")
        ]
        assert len(required) == 10
        case = await drive(client, cast, "awaiting_rg")
        count = len(await case_events(db, case))
        asks: dict[str, tuple[AppUser, dict[str, Any]]] = {
            "decisions": (cast.decision_maker, RG_POSITIVE),
            "review": (cast.senior, {"agree": True, "comments": "x"}),
            "reconsideration-requests": (cast.responder, {"grounds": "x"}),
            "decision": (cast.decision_maker, {"accept": True, "reasons": "x"}),
            "withdraw": (cast.decision_maker, {"reason": "x"}),
            "suspend": (cast.decision_maker, {"reason": "x"}),
            "resume": (cast.decision_maker, {"reason": "x"}),
            "assign": (cast.decision_maker, {}),
            "age": (cast.decision_maker, {"estimated_age": 12, "reason": "x"}),
            "reroute": (cast.senior, {"to": cast.child_panel, "reason": "x"}),
        }
        for template in required:
            user, body = asks[template.rsplit("/", 1)[-1]]
            url = template.format(referral_id=case.id, decision_id=uuid4(), request_id=uuid4())
            response = await client.post(url, json=body, headers=user.headers)
            assert response.status_code == 428, (template, response.text)
            assert slug(response) == "precondition-required"
        assert len(await case_events(db, case)) == count

    async def test_refuses_a_stale_if_match_and_changes_nothing(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        stale = case.etag
        await run(client, cast.decision_maker, case, "assign", {})  # the version moves on
        count = len(await case_events(db, case))
        response = await run(
            client, cast.decision_maker, case, "decisions", RG_POSITIVE, etag=stale
        )
        assert response.status_code == 412, response.text
        assert slug(response) == "precondition-failed"
        assert len(await case_events(db, case)) == count
        accepted = await run(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
        assert accepted.status_code == 201, accepted.text

    async def test_every_success_moves_the_etag_on_by_one(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        versions = [case.version]
        for user, path, body in [
            (cast.responder, "notes", {"text": "More."}),
            (cast.decision_maker, "assign", {}),
            (cast.decision_maker, "decisions", RG_POSITIVE),
            (cast.decision_maker, "suspend", {"reason": "Missing."}),
        ]:
            response = await run(client, user, case, path, body, if_match=path != "notes")
            assert response.is_success, response.text
            versions.append(case.version)
        assert versions == list(range(versions[0], versions[0] + 5))


class TestOrderOfChecks:
    async def test_no_token_is_401_before_a_bad_body(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        response = await client.post(
            f"/api/v1/referrals/{case.id}/withdraw", json=BAD_BODY, headers={"If-Match": case.etag}
        )
        assert response.status_code == 401

    async def test_a_role_that_may_never_is_403_before_a_bad_body(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        response = await run(client, cast.auditor, case, "withdraw", BAD_BODY)
        assert (response.status_code, slug(response)) == (403, "forbidden")

    async def test_a_bad_body_is_422_before_an_invisible_referral(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        response = await run(client, cast.other_unit_maker, case, "withdraw", BAD_BODY)
        assert (response.status_code, slug(response)) == (422, "validation-failed")

    async def test_an_invisible_referral_is_404_before_if_match(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        for etag, if_match in (('"99"', True), (None, False)):
            response = await run(
                client, cast.other_unit_maker, case, "withdraw", {"reason": "x"},
                etag=etag, if_match=if_match,
            )  # fmt: skip
            assert (response.status_code, slug(response)) == (404, "not-found")

    async def test_a_stale_if_match_is_412_before_the_state(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "withdrawn")
        response = await run(
            client, cast.decision_maker, case, "suspend", {"reason": "x"}, etag='"1"'
        )
        assert (response.status_code, slug(response)) == (412, "precondition-failed")

    async def test_the_state_is_409_before_separation_of_duties(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_negative")  # `senior` proposed it
        path = f"decisions/{case.decision_id}/review"
        response = await run(client, cast.senior, case, path, {"agree": True, "comments": "x"})
        assert (response.status_code, slug(response)) == (409, "invalid-state")
        assert "rg_negative" in response.json()["detail"]

    async def test_a_user_with_the_role_but_another_relation_is_403_by_the_workflow(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        # A panel member of the routed unit sees the case but reviews only CG proposals.
        case: Case = await drive(client, cast, "rg_proposed")
        path = f"decisions/{case.decision_id}/review"
        response = await run(client, cast.panel, case, path, {"agree": True, "comments": "x"})
        assert (response.status_code, slug(response)) == (403, "forbidden")
