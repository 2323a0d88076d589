"""The immigration compartment's endpoints (API.md "Immigration compartment"): the record with
its own ETag, the look-up by Home Office reference, the role gate, the audit events, and that
nothing here changes the referral (DESIGN §5).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.immigration.models import ImmigrationRecord
from app.immigration.service import reference_fingerprint
from tests.factories import AppUser
from tests.immigration.helpers import (
    RARE_STATUS,
    canary_form,
    canary_reference,
    immigration_path,
    put_record,
    victim_side,
)
from tests.referrals.builders import Cast, file_referral, make_cast, referral_form

OTHER_ROLES = ("responder", "decision_maker", "senior", "panel", "auditor", "admin")


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


@pytest.fixture
def token() -> str:
    return uuid.uuid4().hex


@pytest.fixture
async def referral(client: httpx.AsyncClient, cast: Cast, token: str) -> dict[str, Any]:
    """A referral filed with immigration facts (a canary reference, the rare status)."""
    return dict((await file_referral(client, cast.responder, canary_form(token))).json())


@pytest.fixture
async def bare(client: httpx.AsyncClient, cast: Cast) -> dict[str, Any]:
    """A referral filed without immigration facts."""
    form = referral_form()
    del form["immigration"]
    return dict((await file_referral(client, cast.responder, form)).json())


async def compartment_events(db: AsyncSession, referral_id: str) -> list[AuditEvent]:
    rows = await db.scalars(
        select(AuditEvent)
        .where(AuditEvent.stream == f"immigration:{referral_id}")
        .order_by(AuditEvent.seq)
    )
    return list(rows.all())


def problem_type(response: httpx.Response) -> str:
    return str(response.json()["type"])


class TestReadRecord:
    async def test_returns_the_record_and_its_etag_to_an_immigration_officer(
        self, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any], token: str
    ) -> None:
        response = await client.get(
            immigration_path(referral["id"]), headers=cast.immigration.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"status", "home_office_reference", "updated_at", "version"}
        assert body["status"] == RARE_STATUS
        assert body["home_office_reference"] == canary_reference(token)
        assert body["version"] == 1
        assert response.headers["ETag"] == '"1"'

    async def test_is_404_when_no_record_is_recorded(
        self, client: httpx.AsyncClient, cast: Cast, bare: dict[str, Any]
    ) -> None:
        response = await client.get(immigration_path(bare["id"]), headers=cast.immigration.headers)
        assert response.status_code == 404
        assert problem_type(response) == "/problems/not-found"

    async def test_is_404_for_a_referral_that_does_not_exist(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get(
            immigration_path(uuid.uuid4()), headers=cast.immigration.headers
        )
        assert response.status_code == 404

    async def test_refuses_every_other_role(
        self, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any], token: str
    ) -> None:
        for who in OTHER_ROLES:
            user: AppUser = getattr(cast, who)
            response = await client.get(immigration_path(referral["id"]), headers=user.headers)
            assert response.status_code == 403, who
            assert problem_type(response) == "/problems/forbidden"
            assert token not in response.text

    async def test_writes_one_viewed_event_in_the_compartment_stream(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, referral: dict[str, Any]
    ) -> None:
        await client.get(immigration_path(referral["id"]), headers=cast.immigration.headers)
        events = await compartment_events(db, referral["id"])
        assert [e.action for e in events] == ["immigration.updated", "immigration.viewed"]
        viewed = events[-1]
        assert viewed.track == "immigration"
        assert viewed.actor_id == cast.immigration.id
        assert viewed.changes == {"view": {"after": "immigration_record"}}


class TestCreateRecord:
    async def test_creates_the_record_with_if_none_match_star(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, bare: dict[str, Any]
    ) -> None:
        body = {"status": "asylum_seeker", "home_office_reference": "HO-9"}
        response = await put_record(client, cast.immigration, bare["id"], body, if_none_match="*")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "asylum_seeker"
        assert response.json()["version"] == 1
        assert response.headers["ETag"] == '"1"'
        again = await client.get(immigration_path(bare["id"]), headers=cast.immigration.headers)
        assert again.json()["home_office_reference"] == "HO-9"
        events = await compartment_events(db, bare["id"])
        assert [e.action for e in events] == ["immigration.updated", "immigration.viewed"]
        event = events[0]
        assert event.changes == {
            "status": {"before": None, "after": "asylum_seeker"},
            "home_office_reference": {"before": None, "after": reference_fingerprint("HO-9")},
        }

    async def test_refuses_creation_when_a_record_exists(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, referral: dict[str, Any]
    ) -> None:
        body = {"status": "no_leave"}
        response = await put_record(
            client, cast.immigration, referral["id"], body, if_none_match="*"
        )
        assert response.status_code == 412
        assert problem_type(response) == "/problems/precondition-failed"
        record = await db.scalar(
            select(ImmigrationRecord.status).where(
                ImmigrationRecord.referral_id == uuid.UUID(referral["id"])
            )
        )
        assert record == RARE_STATUS

    async def test_requires_a_precondition(
        self, client: httpx.AsyncClient, cast: Cast, bare: dict[str, Any]
    ) -> None:
        response = await put_record(client, cast.immigration, bare["id"], {"status": "no_leave"})
        assert response.status_code == 428
        assert problem_type(response) == "/problems/precondition-required"

    async def test_is_404_when_the_referral_does_not_exist(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        body = {"status": "no_leave"}
        response = await put_record(client, cast.immigration, uuid.uuid4(), body, if_none_match="*")
        assert response.status_code == 404

    @pytest.mark.parametrize(
        "body",
        [
            {"status": "illegal_immigrant"},
            {"status": "no_leave", "nationality": "RO"},
            {"status": "no_leave", "home_office_reference": "HO\x00"},
            {"home_office_reference": "HO-1"},
        ],
        ids=["status-outside-the-list", "unknown-field", "control-character", "no-status"],
    )
    async def test_refuses_an_invalid_body(
        self, client: httpx.AsyncClient, cast: Cast, bare: dict[str, Any], body: dict[str, Any]
    ) -> None:
        response = await put_record(client, cast.immigration, bare["id"], body, if_none_match="*")
        assert response.status_code == 422

    async def test_refuses_every_other_role(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, bare: dict[str, Any]
    ) -> None:
        for who in OTHER_ROLES:
            user: AppUser = getattr(cast, who)
            body = {"status": "no_leave"}
            response = await put_record(client, user, bare["id"], body, if_none_match="*")
            assert response.status_code == 403, who
        assert await compartment_events(db, bare["id"]) == []


class TestChangeRecord:
    async def test_changes_the_record_with_its_etag_and_audits_before_and_after(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        referral: dict[str, Any],
        token: str,
    ) -> None:
        body = {"status": "visa_holder", "home_office_reference": "HO-NEW-1"}
        response = await put_record(client, cast.immigration, referral["id"], body, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "visa_holder"
        assert response.json()["version"] == 2
        assert response.headers["ETag"] == '"2"'
        event = (await compartment_events(db, referral["id"]))[-1]
        assert event.action == "immigration.updated"
        assert event.track == "immigration"
        assert event.referral_id == uuid.UUID(referral["id"])
        assert event.changes == {
            "status": {"before": RARE_STATUS, "after": "visa_holder"},
            "home_office_reference": {
                "before": reference_fingerprint(canary_reference(token)),
                "after": reference_fingerprint("HO-NEW-1"),
            },
        }
        # DESIGN §5: never the Home Office reference in clear, not even in the hashed bytes.
        assert token not in event.canonical
        assert "HO-NEW-1" not in event.canonical

    async def test_refuses_a_stale_etag(
        self, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any]
    ) -> None:
        first = await put_record(
            client, cast.immigration, referral["id"], {"status": "no_leave"}, if_match='"1"'
        )
        assert first.status_code == 200
        stale = await put_record(
            client, cast.immigration, referral["id"], {"status": "settled"}, if_match='"1"'
        )
        assert stale.status_code == 412
        now = await client.get(immigration_path(referral["id"]), headers=cast.immigration.headers)
        assert now.json()["status"] == "no_leave"

    async def test_refuses_if_match_when_no_record_exists(
        self, client: httpx.AsyncClient, cast: Cast, bare: dict[str, Any]
    ) -> None:
        response = await put_record(
            client, cast.immigration, bare["id"], {"status": "no_leave"}, if_match='"1"'
        )
        assert response.status_code == 412

    async def test_leaves_the_referral_untouched(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, referral: dict[str, Any]
    ) -> None:
        before = await victim_side(db, referral["id"])
        for version, status in enumerate(("no_leave", "settled", "asylum_seeker"), start=1):
            response = await put_record(
                client,
                cast.immigration,
                referral["id"],
                {"status": status},
                if_match=f'"{version}"',
            )
            assert response.status_code == 200, response.text
        await client.get(immigration_path(referral["id"]), headers=cast.immigration.headers)
        assert await victim_side(db, referral["id"]) == before
        read = await client.get(
            f"/api/v1/referrals/{referral['id']}", headers=cast.responder.headers
        )
        assert read.headers["ETag"] == f'"{referral["version"]}"'

    async def test_creating_a_record_leaves_the_referral_untouched(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, bare: dict[str, Any]
    ) -> None:
        before = await victim_side(db, bare["id"])
        body = {"status": "no_leave"}
        response = await put_record(client, cast.immigration, bare["id"], body, if_none_match="*")
        assert response.status_code == 200
        assert await victim_side(db, bare["id"]) == before


class TestLookup:
    async def test_finds_the_referral_of_a_home_office_reference(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        referral: dict[str, Any],
        token: str,
    ) -> None:
        response = await client.get(
            "/api/v1/immigration/lookup",
            params={"home_office_reference": canary_reference(token)},
            headers=cast.immigration.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "referral_id": referral["id"],
            "reference": referral["reference"],
        }
        event = (await compartment_events(db, referral["id"]))[-1]
        assert event.action == "immigration.looked_up"
        assert event.changes == {
            "home_office_reference": {"after": reference_fingerprint(canary_reference(token))}
        }

    async def test_answers_the_newest_referral_when_several_hold_the_reference(
        self, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any], token: str
    ) -> None:
        newer = (await file_referral(client, cast.responder, canary_form(token))).json()
        response = await client.get(
            "/api/v1/immigration/lookup",
            params={"home_office_reference": canary_reference(token)},
            headers=cast.immigration.headers,
        )
        assert response.json()["referral_id"] == newer["id"] != referral["id"]

    async def test_is_404_for_an_unknown_reference(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        response = await client.get(
            "/api/v1/immigration/lookup",
            params={"home_office_reference": "HO-NOBODY"},
            headers=cast.immigration.headers,
        )
        assert response.status_code == 404
        looked = await db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "immigration.looked_up")
        )
        assert looked == 0

    async def test_refuses_every_other_role(
        self, client: httpx.AsyncClient, cast: Cast, referral: dict[str, Any], token: str
    ) -> None:
        for who in OTHER_ROLES:
            user: AppUser = getattr(cast, who)
            response = await client.get(
                "/api/v1/immigration/lookup",
                params={"home_office_reference": canary_reference(token)},
                headers=user.headers,
            )
            assert response.status_code == 403, who
            assert token not in response.text


@pytest.mark.committing
class TestConcurrentCreation:
    async def test_one_of_two_racing_creations_wins_and_the_other_is_412(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        cast = await make_cast(committed_app, committed_app.state.sessionmaker)
        form = referral_form()
        del form["immigration"]
        filed = (await file_referral(committed_client, cast.responder, form)).json()
        responses = await asyncio.gather(
            *(
                put_record(
                    committed_client,
                    cast.immigration,
                    filed["id"],
                    {"status": status},
                    if_none_match="*",
                )
                for status in ("no_leave", "settled")
            )
        )
        assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
        async with committed_app.state.sessionmaker() as session:
            records = await session.scalar(select(func.count()).select_from(ImmigrationRecord))
            recorded = await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "immigration.updated")
            )
        assert records == 1
        assert recorded == 1
