"""The age assessment and reroute forms of a referral's page: offered only to whom the workflow
allows (a decision maker of the unit records an age; a senior sends it to another unit), with
the API's body fields and the referral's version, running the API's commands; a refusal shows
the page again, in words, with what was typed kept (WEB.md "Pages", "Forms")."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.notifications.walk import told
from tests.referrals.builders import (
    Cast,
    child_form,
    events_of_request,
    file_case,
    make_cast,
    step,
)
from tests.web.helpers import error_summary, sign_in
from tests.web.test_case_forms import action, send
from tests.web.test_decision_forms import KEPT, LONG, status, version_of


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


async def api_referral(client: httpx.AsyncClient, cast: Cast, case_id: str) -> dict[str, object]:
    answer = await client.get(f"/api/v1/referrals/{case_id}", headers=cast.senior.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


class TestOffered:
    async def test_a_decision_maker_is_offered_the_age_form_and_not_reroute(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        await sign_in(client, cast.decision_maker.username)
        page = (await client.get(f"/referrals/{case.id}")).text
        assert action(case, "age") in page
        assert action(case, "reroute") not in page
        for name in ("date_of_birth.day", "estimated_age", "reason"):
            assert f'name="{name}"' in page
        assert 'id="age_reason" name="reason"' in page  # the API's field; its own id
        assert 'name="consent.given"' not in page  # an adult who consented: none asked

    async def test_a_senior_is_offered_reroute_to_the_other_units_by_name(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        await sign_in(client, cast.senior.username)
        page = (await client.get(f"/referrals/{case.id}")).text
        assert action(case, "reroute") in page
        assert f'value="{cast.child_panel}">Organisation {cast.child_panel}<' in page
        assert 'value="all-wales-decision-unit"' not in page  # where it is now
        client.cookies.set("nrm_lang", "cy")
        welsh = (await client.get(f"/referrals/{case.id}")).text
        assert f'value="{cast.child_panel}">Sefydliad {cast.child_panel}<' in welsh

    async def test_the_referrer_and_a_closed_case_are_offered_neither(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        page = (await client.get(f"/referrals/{case.id}")).text
        assert action(case, "age") not in page
        assert action(case, "reroute") not in page
        await step(client, cast.responder, case, "withdraw", {"reason": "She left."})
        await sign_in(client, cast.senior.username)
        page = (await client.get(f"/referrals/{case.id}")).text
        assert action(case, "age") not in page
        assert action(case, "reroute") not in page


class TestAge:
    async def test_an_estimated_age_of_a_child_reroutes_to_the_child_panel(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(
            client,
            cast.decision_maker,
            case,
            "age",
            estimated_age="15",
            reason="Assessed by the council's social workers.",
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/queue?done=rerouted"  # now the child panel's
        assert (await client.get(f"/referrals/{case.id}")).status_code == 404

    async def test_the_form_moves_the_case_as_the_api_does(
        self, client: httpx.AsyncClient, cast: Cast, db: AsyncSession
    ) -> None:
        """The web form runs the API's command: one `referral.age_recorded` event naming the
        new unit, the case in the child panel's queue, and `referral.routed` in the outbox for
        the panel's decision makers alone (docs/audit.md, docs/notifications.md)."""
        case = await file_case(client, cast.responder)
        before = await told(db, case.id)
        answer = await send(
            client, cast.decision_maker, case, "age", estimated_age="15", reason="Assessed."
        )
        assert answer.status_code == 303, answer.text
        events = await events_of_request(db, answer)
        assert [e.action for e in events] == ["referral.age_recorded"]
        assert events[0].changes["routed_to"]["after"] == cast.child_panel
        assert await told(db, case.id) - before == {
            ("referral.routed", str(cast.other_unit_maker.id))
        }
        queue = await client.get("/api/v1/queue", headers=cast.other_unit_maker.headers)
        assert case.id in {i["referral_id"] for i in queue.json()["items"]}

    async def test_a_date_of_birth_from_its_three_boxes(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(
            client,
            cast.decision_maker,
            case,
            "age",
            **{"date_of_birth.day": "3", "date_of_birth.month": "2", "date_of_birth.year": "1990"},
            reason="Her passport was found.",
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"].endswith("?done=age")
        body = await api_referral(client, cast, case.id)
        assert body["potential_victim"]["date_of_birth"] == "1990-02-03"  # type: ignore[index]
        page = await client.get(answer.headers["location"])
        assert "The age assessment is recorded" in page.text

    async def test_nothing_given_is_422_in_words_and_keeps_the_reason(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(
            client,
            cast.decision_maker,
            case,
            "age",
            **{"date_of_birth.day": "31", "date_of_birth.month": "2", "date_of_birth.year": "1990"},
            estimated_age="about twenty",
            reason=LONG,
        )
        assert answer.status_code == 422
        summary = error_summary(answer.text)
        assert summary[0][0] == "#date_of_birth.day"
        assert ("#estimated_age", "Enter the age as a whole number of years, such as 25") in summary
        assert KEPT in answer.text
        assert 'value="about twenty"' in answer.text

    async def test_a_child_found_to_be_an_adult_needs_their_consent(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder, child_form())  # the child panel's
        csrf = await sign_in(client, cast.other_unit_maker.username)
        page = await client.get(f"/referrals/{case.id}")
        assert 'name="consent.given"' in page.text  # none on file: the form asks
        data = {"csrf_token": csrf, "version": version_of(page.text)}
        answer = await client.post(
            f"/referrals/{case.id}/age",
            data=data | {"estimated_age": "30", "reason": LONG},
        )
        assert answer.status_code == 422
        assert "must consent to the referral" in answer.text
        assert KEPT in answer.text
        answer = await client.post(
            f"/referrals/{case.id}/age",
            data=data
            | {"estimated_age": "30", "reason": "Assessed.", "consent.given": "yes"}
            | {"consent.recorded_on.day": "1", "consent.recorded_on.month": "6"}
            | {"consent.recorded_on.year": "2025"},
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/queue?done=rerouted"  # an adult: All-Wales's
        body = await api_referral(client, cast, case.id)
        assert body["is_child"] is False


class TestReroute:
    async def test_a_senior_sends_it_to_the_child_panel_and_goes_back_to_the_queue(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(
            client, cast.senior, case, "reroute", to=cast.child_panel, reason="A child."
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/queue?done=rerouted"
        queue = await client.get(answer.headers["location"])
        assert "The referral is sent to the other unit" in queue.text
        mine = await client.get(f"/referrals/{case.id}")
        assert mine.status_code == 404  # no longer the unit's to see

    async def test_no_unit_and_no_reason_is_422_and_the_withdrawal_form_stays_empty(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(client, cast.senior, case, "reroute", to="", reason="")
        assert answer.status_code == 422
        assert error_summary(answer.text) == [
            ("#to", "Select the unit to send the referral to"),
            ("#reroute_reason", "Enter why the referral is sent to another unit"),
        ]
        answer = await send(client, cast.senior, case, "reroute", to="", reason=LONG)
        assert KEPT in answer.text
        assert answer.text.count(KEPT) == 1  # in its own form, not in the withdrawal's

    async def test_a_stale_version_keeps_the_typed_reason(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        csrf = await sign_in(client, cast.senior.username)
        page = await client.get(f"/referrals/{case.id}")
        await step(client, cast.responder, case, "notes", {"text": "Her brother called."})
        answer = await client.post(
            f"/referrals/{case.id}/reroute",
            data={"csrf_token": csrf, "version": version_of(page.text)}
            | {"to": cast.child_panel, "reason": LONG},
        )
        assert answer.status_code == 412
        assert "Someone changed this referral" in answer.text
        assert KEPT in answer.text
        assert f'value="{cast.child_panel}" selected' in answer.text
        assert await status(client, cast.senior, case) == "awaiting_rg"
