"""The commands on the referral itself: withdraw, suspend and resume, assign, record an age,
re-route, add a note. Each: status, problem `type`, effect, exactly one audit event (none on a
refusal). How suspension moves the deadlines is in `test_deadlines_api.py`.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.identity.roles import Role, Sector
from tests.factories import AppUser, make_organisation, make_user
from tests.referrals.builders import (
    Case,
    Cast,
    case_events,
    child_form,
    drive,
    events_of_request,
    file_case,
    make_cast_quickly,
    refused,
    run,
)

REASON = {"reason": "The person asked to stop."}


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def one_event(db: AsyncSession, case: Case, before: int, action: str) -> dict[str, Any]:
    events = (await case_events(db, case))[before:]
    assert [e.action for e in events] == [action]
    return dict(events[0].changes)


class TestWithdraw:
    async def test_withdraws_with_the_reason_kept_on_the_case(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        before = len(await case_events(db, case))
        response = await run(client, cast.responder, case, "withdraw", REASON)

        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == case.etag
        body = response.json()
        assert body["status"] == "withdrawn"
        assert body["version"] == case.version
        assert body["notes"][-1]["text"] == f"Withdrawn: {REASON['reason']}"
        changes = await one_event(db, case, before, "referral.withdrawn")
        assert changes["status"] == {"before": "recovery_period", "after": "withdrawn"}
        # What `refused` looks for, it finds: the event this request wrote.
        assert [e.action for e in await events_of_request(db, response)] == ["referral.withdrawn"]
        assert changes["reason"] == {"note_id": body["notes"][-1]["id"]}
        assert REASON["reason"] not in str(changes)  # the event names the note, never its text

    async def test_marks_a_proposal_awaiting_review_rejected(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_proposed")
        response = await run(client, cast.decision_maker, case, "withdraw", REASON)
        assert response.status_code == 200, response.text
        proposal = response.json()["decisions"][-1]
        assert proposal["id"] == case.decision_id
        assert proposal["status"] == "rejected"
        assert response.json()["deadlines"]["panel_review_due"] is None

    async def test_closes_an_open_reconsideration_request_as_declined(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        # Nothing may be left waiting for a decision that can no longer be made.
        case = await drive(client, cast, "rg_reconsidering")
        before = len(await case_events(db, case))
        response = await run(client, cast.responder, case, "withdraw", REASON)

        assert response.status_code == 200, response.text
        [request] = response.json()["reconsideration_requests"]
        assert request["id"] == case.request_id
        assert request["status"] == "declined"
        changes = await one_event(db, case, before, "referral.withdrawn")
        assert changes["declined_reconsideration"] == case.request_id
        queue = await client.get("/api/v1/queue", headers=cast.decision_maker.headers)
        assert case.id not in {item["referral_id"] for item in queue.json()["items"]}
        summaries = await client.get("/api/v1/referrals", headers=cast.responder.headers)
        [summary] = [s for s in summaries.json()["items"] if s["id"] == case.id]
        assert summary["next_action"] is None

    async def test_refuses_after_a_conclusive_decision(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "cg_positive")
        response = await run(client, cast.responder, case, "withdraw", REASON)
        await refused(db, response, 409, "invalid-state")
        assert "cg_positive" in response.json()["detail"]

    async def test_refuses_without_a_reason(self, client: httpx.AsyncClient, cast: Cast) -> None:
        case = await drive(client, cast, "awaiting_rg")
        for body in ({}, {"reason": ""}, {"reason": "\t"}):
            response = await run(client, cast.responder, case, "withdraw", body)
            assert response.status_code == 422, response.text
            assert [e["field"] for e in response.json()["errors"]] == ["reason"]


class TestSuspendAndResume:
    async def test_suspends_and_resumes_to_the_state_it_left(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "recovery_period")
        before = len(await case_events(db, case))
        suspended = await run(client, cast.decision_maker, case, "suspend", {"reason": "Missing."})
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["status"] == "suspended"
        await one_event(db, case, before, "referral.suspended")

        resumed = await run(client, cast.decision_maker, case, "resume", {"reason": "Found."})
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["status"] == "recovery_period"
        await one_event(db, case, before + 1, "referral.resumed")

    async def test_refuses_to_suspend_while_a_proposal_awaits_review(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_proposed")
        response = await run(client, cast.decision_maker, case, "suspend", {"reason": "x"})
        await refused(db, response, 409, "invalid-state")

    async def test_refuses_to_resume_what_is_not_suspended(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        response = await run(client, cast.decision_maker, case, "resume", {"reason": "x"})
        await refused(db, response, 409, "invalid-state")
        assert "awaiting_rg" in response.json()["detail"]

    async def test_refuses_suspension_by_a_first_responder(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        response = await run(client, cast.responder, case, "suspend", {"reason": "x"})
        assert (response.status_code, response.json()["type"]) == (403, "/problems/forbidden")


class TestAssign:
    async def test_assigns_the_caller_by_default(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        before = len(await case_events(db, case))
        response = await run(client, cast.decision_maker, case, "assign", {})
        assert response.status_code == 200, response.text
        assert response.json()["assigned_to"]["id"] == str(cast.decision_maker.id)
        changes = await one_event(db, case, before, "referral.assigned")
        assert changes["assigned_to"] == {"before": None, "after": str(cast.decision_maker.id)}

    async def test_assigns_another_decision_maker_of_the_unit(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_negative")
        body = {"user_id": str(cast.decision_maker.id)}
        response = await run(client, cast.senior, case, "assign", body)
        assert response.status_code == 200, response.text
        assert response.json()["assigned_to"]["id"] == str(cast.decision_maker.id)

    async def test_refuses_anyone_but_a_decision_maker_of_the_routed_unit(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        for user_id in (cast.panel.id, cast.other_unit_maker.id, cast.responder.id, uuid.uuid4()):
            response = await run(client, cast.senior, case, "assign", {"user_id": str(user_id)})
            await refused(db, response, 422, "rule-violation")
            assert [e["field"] for e in response.json()["errors"]] == ["user_id"]


class TestRecordAge:
    async def test_a_child_found_to_be_an_adult_with_consent_goes_to_the_all_wales_unit(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        # Filed as an adult with consent, then assessed a child (the council's panel), then
        # re-assessed an adult: the consent recorded at intake still stands.
        case = await drive(client, cast, "awaiting_rg")
        child = {"date_of_birth": "2012-05-01", "reason": "Documents found."}
        assert (await run(client, cast.decision_maker, case, "age", child)).status_code == 200
        before = len(await case_events(db, case))
        body = {"estimated_age": 25, "reason": "The documents were forged."}
        response = await run(client, cast.other_unit_maker, case, "age", body)

        assert response.status_code == 200, response.text
        assert response.json()["is_child"] is False
        assert response.json()["routed_to"]["code"] == "all-wales-decision-unit"
        # The panel no longer works the case: its answer is the view of an outsider.
        assert "account" not in response.json()
        url = f"/api/v1/referrals/{case.id}"
        victim = (await client.get(url, headers=cast.decision_maker.headers)).json()
        assert victim["potential_victim"]["estimated_age"] == 25
        assert victim["potential_victim"]["date_of_birth"] is None
        changes = await one_event(db, case, before, "referral.age_recorded")
        assert changes["is_child"] == {"before": True, "after": False}
        assert changes["routed_to"] == {
            "before": cast.child_panel,
            "after": "all-wales-decision-unit",
        }
        assert changes["fields"] == ["date_of_birth", "estimated_age"]
        assert set(changes) == {"fields", "is_child", "consent_given", "routed_to", "reason"}
        assert changes["consent_given"] == {"before": True, "after": True}  # ages never logged

    async def test_an_adult_found_to_be_a_child_goes_to_their_councils_panel(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        body = {"date_of_birth": "2012-05-01", "reason": "Documents found."}
        response = await run(client, cast.decision_maker, case, "age", body)
        assert response.status_code == 200, response.text
        assert response.json()["is_child"] is True
        assert response.json()["routed_to"]["code"] == cast.child_panel
        gone = await client.get(f"/api/v1/referrals/{case.id}", headers=cast.decision_maker.headers)
        assert gone.status_code == 404
        seen = await client.get(
            f"/api/v1/referrals/{case.id}", headers=cast.other_unit_maker.headers
        )
        assert seen.status_code == 200

    async def test_an_age_that_moves_the_case_is_one_event_and_moves_its_queue(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        """docs/audit.md, docs/architecture.md: the command writes exactly one event,
        `referral.age_recorded`, whose `routed_to` says where the case went (no second
        `referral.routed`); the new unit's queue has the case's next step, the old unit's
        queue loses it and the old unit can no longer read it."""
        case = await drive(client, cast, "awaiting_rg")
        await run(client, cast.decision_maker, case, "assign", {})
        body = {"date_of_birth": "2012-05-01", "reason": "Documents found."}
        response = await run(client, cast.decision_maker, case, "age", body)

        assert response.status_code == 200, response.text
        events = await events_of_request(db, response)
        assert [(e.track, e.action) for e in events] == [("victim", "referral.age_recorded")]
        assert events[0].changes["routed_to"] == {
            "before": "all-wales-decision-unit",
            "after": cast.child_panel,
        }
        assert events[0].changes["is_child"] == {"before": False, "after": True}

        async def queued(user: AppUser) -> dict[str, str]:
            answer = await client.get("/api/v1/queue", headers=user.headers)
            assert answer.status_code == 200, answer.text
            return {i["referral_id"]: i["next_action"] for i in answer.json()["items"]}

        assert (await queued(cast.other_unit_maker)).get(case.id) == "rg_decision"
        assert case.id not in await queued(cast.decision_maker)
        assert case.id not in await queued(cast.senior)
        url = f"/api/v1/referrals/{case.id}"
        for old in (cast.decision_maker, cast.senior):
            assert (await client.get(url, headers=old.headers)).status_code == 404
        moved = (await client.get(url, headers=cast.other_unit_maker.headers)).json()
        assert moved["assigned_to"] is None  # the old unit's assignee no longer holds it

    async def test_refuses_an_adult_age_without_recorded_consent(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder, child_form())
        body = {"estimated_age": 30, "reason": "Assessed."}
        response = await run(client, cast.other_unit_maker, case, "age", body)
        await refused(db, response, 422, "rule-violation")

    async def test_records_consent_with_the_assessment_that_finds_an_adult(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        # A child's referral needs no consent, so the assessment that finds an adult is where
        # the adult's consent is recorded (this service's addition to the age body).
        case = await file_case(client, cast.responder, child_form())
        before = len(await case_events(db, case))
        consent = {"given": True, "recorded_on": "2026-11-20"}
        body = {"estimated_age": 30, "reason": "Assessed.", "consent": consent}
        response = await run(client, cast.other_unit_maker, case, "age", body)

        assert response.status_code == 200, response.text
        assert response.json()["is_child"] is False
        assert response.json()["routed_to"]["code"] == "all-wales-decision-unit"
        changes = await one_event(db, case, before, "referral.age_recorded")
        assert changes["consent_given"] == {"before": None, "after": True}
        url = f"/api/v1/referrals/{case.id}"
        read = await client.get(url, headers=cast.decision_maker.headers)
        assert read.json()["consent"] == consent

    async def test_refuses_consent_refused_or_recorded_in_the_future(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder, child_form())
        refusal = {"given": False, "recorded_on": "2026-11-20"}
        body = {"estimated_age": 30, "reason": "Assessed.", "consent": refusal}
        response = await run(client, cast.other_unit_maker, case, "age", body)
        await refused(db, response, 422, "rule-violation")
        future = {"given": True, "recorded_on": "2099-01-01"}
        body = {"estimated_age": 30, "reason": "Assessed.", "consent": future}
        response = await run(client, cast.other_unit_maker, case, "age", body)
        await refused(db, response, 422, "validation-failed")
        assert [e["field"] for e in response.json()["errors"]] == ["consent.recorded_on"]

    async def test_refuses_an_impossible_or_ambiguous_age(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        for body, field in [
            ({"date_of_birth": "2099-01-01", "reason": "x"}, "date_of_birth"),
            ({"date_of_birth": "1890-01-01", "reason": "x"}, "date_of_birth"),
            ({"estimated_age": 121, "reason": "x"}, "estimated_age"),
            ({"estimated_age": "30", "reason": "x"}, "estimated_age"),
            ({"estimated_age": 30}, "reason"),
            ({"estimated_age": 30, "date_of_birth": "2000-01-01", "reason": "x"}, "body"),
            ({"reason": "x"}, "body"),
        ]:
            response = await run(client, cast.decision_maker, case, "age", body)
            assert response.status_code == 422, (body, response.text)
            assert response.json()["type"] == "/problems/validation-failed"
            assert [e["field"] for e in response.json()["errors"]] == [field], body


class TestReroute:
    async def test_moves_the_case_to_another_decision_unit_out_of_the_old_ones_sight(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        await run(client, cast.decision_maker, case, "assign", {})
        before = len(await case_events(db, case))
        body = {"to": cast.child_panel, "reason": "The council's panel knows the family."}
        response = await run(client, cast.senior, case, "reroute", body)

        assert response.status_code == 200, response.text
        assert response.json()["routed_to"]["code"] == cast.child_panel
        assert response.json()["assigned_to"] is None
        changes = await one_event(db, case, before, "referral.routed")
        assert changes["routed_to"] == {
            "before": "all-wales-decision-unit",
            "after": cast.child_panel,
        }
        for user, status in ((cast.decision_maker, 404), (cast.other_unit_maker, 200)):
            seen = await client.get(f"/api/v1/referrals/{case.id}", headers=user.headers)
            assert seen.status_code == status
        again = await run(client, cast.senior, case, "suspend", {"reason": "x"})
        assert again.status_code == 404

    async def test_refuses_anything_but_another_decision_unit(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        for to in ("south-wales-police", "no-such-unit", "all-wales-decision-unit"):
            response = await run(client, cast.senior, case, "reroute", {"to": to, "reason": "x"})
            await refused(db, response, 422, "rule-violation")
            assert [e["field"] for e in response.json()["errors"]] == ["to"]

    async def test_refuses_the_oversight_organisation_in_words(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        sessions: async_sessionmaker[AsyncSession],
        cast: Cast,
    ) -> None:
        # Issue 9 item 3: oversight inspects and audits; it decides nothing.
        async with sessions() as s:
            oversight = await make_organisation(s, sector=Sector.OVERSIGHT)
        case = await drive(client, cast, "awaiting_rg")
        body = {"to": oversight.code, "reason": "x"}
        response = await run(client, cast.senior, case, "reroute", body)

        await refused(db, response, 422, "rule-violation")
        assert response.json()["detail"] == "A referral can be routed only to a decision unit."
        assert response.json()["errors"] == [
            {"field": "to", "message": "This is not the code of a decision unit: choose one."}
        ]
        seen = await client.get(f"/api/v1/referrals/{case.id}", headers=cast.senior.headers)
        assert seen.json()["routed_to"]["code"] == "all-wales-decision-unit"

    async def test_refuses_the_unit_that_holds_it_in_words(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        body = {"to": "all-wales-decision-unit", "reason": "x"}
        response = await run(client, cast.senior, case, "reroute", body)

        await refused(db, response, 422, "rule-violation")
        assert response.json()["errors"] == [
            {"field": "to", "message": "The referral is already routed here: choose another unit."}
        ]

    async def test_refuses_a_decision_maker_who_is_not_senior(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        body = {"to": cast.child_panel, "reason": "x"}
        response = await run(client, cast.decision_maker, case, "reroute", body)
        assert (response.status_code, response.json()["type"]) == (403, "/problems/forbidden")


class TestMessagesInWords:
    """Issue 9 item 15: a field message says what to do, with no "Value error, " prefix."""

    async def test_an_ambiguous_age_and_a_blank_reason(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        body = {"estimated_age": 30, "date_of_birth": "2000-01-01", "reason": "x"}
        response = await run(client, cast.decision_maker, case, "age", body)

        assert response.status_code == 422, response.text
        assert response.json()["errors"] == [
            {"field": "body", "message": "Give a date of birth or an estimated age, but not both."}
        ]
        blank = await run(client, cast.decision_maker, case, "withdraw", {"reason": " "})
        assert blank.json()["errors"] == [
            {"field": "reason", "message": "Write something: this cannot be blank."}
        ]

    async def test_an_assignee_outside_the_unit(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        body = {"user_id": str(cast.responder.id)}
        response = await run(client, cast.decision_maker, case, "assign", body)

        await refused(db, response, 422, "rule-violation")
        assert response.json()["errors"] == [
            {
                "field": "user_id",
                "message": "This user is not an active decision maker of the unit the "
                "referral is routed to.",
            }
        ]


class TestNotes:
    async def test_adds_a_note_without_if_match_and_moves_the_etag(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        version, before = case.version, len(await case_events(db, case))
        body = {"text": "She has a sister in Swansea."}
        response = await run(client, cast.responder, case, "notes", body, if_match=False)

        assert response.status_code == 201, response.text
        note = response.json()
        assert set(note) == {"id", "text", "by", "at"}
        assert note["text"] == body["text"]
        assert note["by"]["id"] == str(cast.responder.id)
        assert case.version == version + 1
        changes = await one_event(db, case, before, "note.added")
        assert changes == {"note_id": note["id"]}

    async def test_refuses_a_panel_member_and_another_organisations_responder(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        for user, status, slug in (
            (cast.panel, 403, "forbidden"),
            (cast.other_responder, 404, "not-found"),
        ):
            response = await run(client, user, case, "notes", {"text": "x"}, if_match=False)
            await refused(db, response, status, slug)

    async def test_refuses_an_empty_note_and_a_withdrawn_case(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast
    ) -> None:
        case = await drive(client, cast, "withdrawn")
        empty = await run(client, cast.responder, case, "notes", {"text": ""}, if_match=False)
        await refused(db, empty, 422, "validation-failed")
        late = await run(client, cast.responder, case, "notes", {"text": "x"}, if_match=False)
        await refused(db, late, 409, "invalid-state")


class TestASeniorActsAsADecisionMaker:
    async def test_a_senior_with_no_other_role_takes_a_decision(
        self,
        app: FastAPI,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        cast: Cast,
    ) -> None:
        async with sessions() as session:
            senior = await make_user(app, session, Role.SENIOR_DECISION_MAKER)
        case = await drive(client, cast, "awaiting_rg")
        response = await run(client, senior, case, "suspend", {"reason": "Missing."})
        assert response.status_code == 200, response.text
