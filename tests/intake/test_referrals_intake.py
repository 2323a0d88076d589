"""POST /referrals: what filing does — the representation, routing, references, the RG deadline,
the split of the immigration part into its compartment, and the audit events.

The form's validation rules are in `test_intake_validation.py`.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.identity.roles import Role, Sector
from app.immigration.models import ImmigrationRecord
from app.referrals.models import Referral
from tests.factories import AppUser as SignedIn
from tests.factories import make_organisation, make_user
from tests.referrals.builders import child_form, file_referral, referral_form, set_service_date

REFERENCE = re.compile(r"^NRM-W-(\d{4})-(\d{6})$")
ALL_WALES = "all-wales-decision-unit"


@pytest.fixture
async def responder(app: FastAPI, db: AsyncSession) -> SignedIn:
    return await make_user(app, db, Role.FIRST_RESPONDER, organisation="south-wales-police")


async def events(db: AsyncSession, referral_id: str) -> list[AuditEvent]:
    rows = await db.scalars(
        select(AuditEvent)
        .where(AuditEvent.referral_id == uuid.UUID(referral_id))
        .order_by(AuditEvent.seq)
    )
    return list(rows.all())


class TestFiling:
    async def test_answers_201_with_location_etag_and_the_representation(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        response = await file_referral(client, responder)
        body = response.json()
        assert response.headers["location"] == f"/api/v1/referrals/{body['id']}"
        assert response.headers["etag"] == '"1"'
        assert body["status"] == "awaiting_rg"
        assert body["version"] == 1
        assert body["is_child"] is False
        assert body["referring_organisation"]["code"] == "south-wales-police"
        assert body["referring_organisation"]["sector"] == "police"
        assert body["submitted_by"] == {
            "id": str(responder.id),
            "display_name": responder.username.title(),
        }
        assert body["assigned_to"] is None
        assert body["decisions"] == []
        assert body["reconsideration_requests"] == []
        assert body["notes"] == []
        assert body["potential_victim"]["given_name"] == "Ana"
        assert body["consent"] == {"given": True, "recorded_on": "2026-11-27"}
        assert body["indicators"] == ["withheld_documents", "debt_bondage"]
        assert body["deadlines"]["recovery_period_ends"] is None
        assert body["deadlines"]["panel_review_due"] is None

    async def test_writes_submitted_and_routed_events_that_copy_no_personal_data(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        body = (await file_referral(client, responder)).json()
        victim = [e for e in await events(db, body["id"]) if e.track == "victim"]
        assert [e.action for e in victim] == ["referral.submitted", "referral.routed"]
        routed = victim[1].changes
        assert routed == {
            "routed_to": {"before": None, "after": ALL_WALES},
            "rule": {"after": "adult"},
        }
        event = victim[0]
        assert event.actor_id == responder.id
        assert event.stream == f"referral:{body['id']}"
        assert event.changes["routed_to"] == {"after": ALL_WALES}
        assert event.changes["status"] == {"after": "awaiting_rg"}
        for secret in ("Ana", "Popescu", "1999-04-02", "What the first responder saw"):
            assert secret not in event.canonical
            assert secret not in victim[1].canonical

    async def test_gives_the_exploitation_types_back_in_the_order_given(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        for types in (["sexual", "labour"], ["organ_harvesting", "criminal", "sexual"]):
            form = referral_form(exploitation={"types": types})
            body = (await file_referral(client, responder, form)).json()
            assert body["exploitation"]["types"] == types
            read = await client.get(f"/api/v1/referrals/{body['id']}", headers=responder.headers)
            assert read.json()["exploitation"]["types"] == types

    async def test_a_referral_names_no_immigration_fact(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        response = await file_referral(client, responder)
        assert "immigration" not in response.json()
        for fact in ("visa_overstayer", "HO-123456"):
            assert fact not in response.text


class TestImmigrationPart:
    async def test_goes_to_the_compartment_with_its_own_event(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        body = (await file_referral(client, responder)).json()
        record = await db.scalar(
            select(ImmigrationRecord).where(ImmigrationRecord.referral_id == uuid.UUID(body["id"]))
        )
        assert record is not None
        assert (record.status, record.home_office_reference) == ("visa_overstayer", "HO-123456")
        compartment = [e for e in await events(db, body["id"]) if e.track == "immigration"]
        assert [e.action for e in compartment] == ["immigration.updated"]
        assert compartment[0].stream == f"immigration:{body['id']}"
        assert "HO-123456" not in compartment[0].canonical

    async def test_nothing_is_recorded_without_one(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        form = referral_form()
        del form["immigration"]
        body = (await file_referral(client, responder, form)).json()
        count = await db.scalar(
            select(func.count())
            .select_from(ImmigrationRecord)
            .where(ImmigrationRecord.referral_id == uuid.UUID(body["id"]))
        )
        assert count == 0
        assert {e.track for e in await events(db, body["id"])} == {"victim"}


class TestRouting:
    async def test_an_adult_goes_to_the_all_wales_unit_even_where_a_panel_exists(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        await make_organisation(
            db, code="cardiff-panel", sector=Sector.DECISION_UNIT, local_authority="W06000015"
        )
        body = (await file_referral(client, responder)).json()
        assert body["routed_to"]["code"] == ALL_WALES

    async def test_a_child_goes_to_their_councils_child_panel(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        await make_organisation(
            db, code="cardiff-panel", sector=Sector.DECISION_UNIT, local_authority="W06000015"
        )
        body = (await file_referral(client, responder, child_form())).json()
        assert body["routed_to"]["code"] == "cardiff-panel"
        submitted = [e for e in await events(db, body["id"]) if e.action == "referral.submitted"]
        assert submitted[0].changes["routed_to"] == {"after": "cardiff-panel"}
        routed = [e for e in await events(db, body["id"]) if e.action == "referral.routed"]
        assert routed[0].changes["rule"] == {"after": "child_decision_panel"}

    async def test_a_person_of_unknown_age_is_routed_as_a_child(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        await make_organisation(
            db, code="cardiff-panel", sector=Sector.DECISION_UNIT, local_authority="W06000015"
        )
        form = referral_form(potential_victim={"date_of_birth": None, "estimated_age": None})
        body = (await file_referral(client, responder, form)).json()
        assert body["routed_to"]["code"] == "cardiff-panel"

    async def test_a_child_in_a_council_without_a_panel_goes_to_the_all_wales_unit(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        await make_organisation(
            db, code="cardiff-panel", sector=Sector.DECISION_UNIT, local_authority="W06000015"
        )
        form = child_form(exploitation={"local_authority": "W06000001"})
        body = (await file_referral(client, responder, form)).json()
        assert body["routed_to"]["code"] == ALL_WALES
        routed = [e for e in await events(db, body["id"]) if e.action == "referral.routed"]
        assert routed[0].changes["rule"] == {"after": "child_without_a_local_panel"}

    async def test_a_council_of_the_same_area_is_not_a_panel(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        # Only a decision unit linked to the council decides; the council itself does not.
        await make_organisation(
            db, code="not-a-panel", sector=Sector.LOCAL_AUTHORITY, local_authority="W06000001"
        )
        form = child_form(exploitation={"local_authority": "W06000001"})
        body = (await file_referral(client, responder, form)).json()
        assert body["routed_to"]["code"] == ALL_WALES


class TestReferences:
    async def test_are_numbered_in_sequence_for_the_year_of_filing(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        first = (await file_referral(client, responder)).json()["reference"]
        second = (await file_referral(client, responder)).json()["reference"]
        first_match, second_match = REFERENCE.match(first), REFERENCE.match(second)
        assert first_match
        assert second_match
        assert first_match[1] == second_match[1] == "2026"
        assert int(second_match[2]) == int(first_match[2]) + 1

    async def test_a_new_year_starts_a_new_series(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        await file_referral(client, responder)
        await set_service_date(client, responder, date(2027, 1, 4))
        assert (await file_referral(client, responder)).json()["reference"] == "NRM-W-2027-000001"

    @pytest.mark.committing
    async def test_concurrent_intakes_get_distinct_references_with_no_gap(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        async with committed_app.state.sessionmaker() as session:
            users = [
                await make_user(
                    committed_app, session, Role.FIRST_RESPONDER, organisation="south-wales-police"
                )
                for _ in range(4)
            ]
        responses = await asyncio.gather(
            *(
                committed_client.post(
                    "/api/v1/referrals", json=referral_form(), headers=users[i % len(users)].headers
                )
                for i in range(8)
            )
        )
        assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
        numbers = sorted(int(r.json()["reference"][-6:]) for r in responses)
        assert numbers == list(range(1, 9))
        async with committed_app.state.sessionmaker() as session:
            stored = await session.scalars(select(Referral.reference))
            assert len(set(stored.all())) == 8


class TestReasonableGroundsDeadline:
    # Expected dates worked out by hand from the calendar, not by the service's arithmetic.
    @pytest.mark.parametrize(
        ("filed", "due"),
        [
            (date(2026, 11, 27), date(2026, 12, 4)),  # Friday → the next Friday (API.md)
            (date(2026, 11, 28), date(2026, 12, 4)),  # a Saturday counts from the Monday
            (date(2026, 12, 23), date(2027, 1, 4)),  # Christmas, Boxing Day (Mon 28), New Year
        ],
    )
    async def test_is_five_welsh_working_days_after_filing(
        self, client: httpx.AsyncClient, responder: SignedIn, filed: date, due: date
    ) -> None:
        await set_service_date(client, responder, filed)
        body = (await file_referral(client, responder)).json()
        assert body["deadlines"]["rg_due"] == due.isoformat()
