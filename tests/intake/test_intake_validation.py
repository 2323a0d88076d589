"""POST /referrals: every validation rule of API.md "Referrals", each with its `errors[].field`.

Each refused form is 422 `/problems/validation-failed`, names the offending field, and creates
no referral and no audit event; each boundary that must pass is filed (201).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.identity.roles import Role
from app.referrals.models import Referral
from tests.factories import AppUser as SignedIn
from tests.factories import make_user
from tests.referrals.builders import child_form, referral_form, service_date

Form = dict[str, Any]
Change = Callable[[Form], None]


def victim(**values: Any) -> Change:
    return lambda form: form["potential_victim"].update(values)


def exploitation(**values: Any) -> Change:
    return lambda form: form["exploitation"].update(values)


def top(**values: Any) -> Change:
    return lambda form: form.update(values)


def without(*path: str) -> Change:
    def change(form: Form) -> None:
        node = form
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return change


def age_only(age: Any) -> Change:
    return victim(date_of_birth=None, estimated_age=age)


REFUSED: list[tuple[str, Change, str]] = [
    ("gender outside the vocabulary", victim(gender="woman"), "potential_victim.gender"),
    ("gender missing", without("potential_victim", "gender"), "potential_victim.gender"),
    ("nationality not ISO 3166-1", victim(nationality="ZZ"), "potential_victim.nationality"),
    ("nationality in lower case", victim(nationality="ro"), "potential_victim.nationality"),
    ("nationality alpha-3", victim(nationality="ROU"), "potential_victim.nationality"),
    ("estimated age below 0", age_only(-1), "potential_victim.estimated_age"),
    ("estimated age above 120", age_only(121), "potential_victim.estimated_age"),
    ("estimated age as a string", age_only("30"), "potential_victim.estimated_age"),
    ("estimated age as a float", age_only(30.5), "potential_victim.estimated_age"),
    ("estimated age as a boolean", age_only(True), "potential_victim.estimated_age"),
    (
        "date of birth in the future",
        victim(date_of_birth="2100-01-01"),
        "potential_victim.date_of_birth",
    ),
    (
        "date of birth beyond a possible age",
        victim(date_of_birth="1890-01-01"),
        "potential_victim.date_of_birth",
    ),
    (
        "date of birth not a date",
        victim(date_of_birth="02/04/1999"),
        "potential_victim.date_of_birth",
    ),
    ("no exploitation type", exploitation(types=[]), "exploitation.types"),
    (
        "a repeated exploitation type",
        exploitation(types=["sexual", "sexual"]),
        "exploitation.types",
    ),
    ("an unknown exploitation type", exploitation(types=["slavery"]), "exploitation.types.0"),
    ("location outside the vocabulary", exploitation(location="mars"), "exploitation.location"),
    (
        "local authority missing",
        without("exploitation", "local_authority"),
        "exploitation.local_authority",
    ),
    (
        "local authority not a Welsh ONS code",
        exploitation(local_authority="E09000001"),
        "exploitation.local_authority",
    ),
    (
        "local authority not in the reference data",
        exploitation(local_authority="W06000099"),
        "exploitation.local_authority",
    ),
    (
        "exploitation began in the future",
        exploitation(began_on="2100-01-01"),
        "exploitation.began_on",
    ),
    ("ongoing as 0", exploitation(ongoing=0), "exploitation.ongoing"),
    ("an indicator outside the vocabulary", top(indicators=["bad_vibes"]), "indicators.0"),
    ("a repeated indicator", top(indicators=["threats", "threats"]), "indicators"),
    ("account of 15,001 characters", top(account="ŵ" * 15_001), "account"),
    ("empty account", top(account=""), "account"),
    ("account missing", without("account"), "account"),
    ("NUL in the account", top(account="seen\u0000told"), "account"),
    ("a bell in a name", victim(given_name="An\u0007a"), "potential_victim.given_name"),
    (
        "correspondence language outside en/cy",
        victim(correspondence_language="fr"),
        "potential_victim.correspondence_language",
    ),
    (
        "interpreter_needed as 0",
        victim(interpreter_needed=0),
        "potential_victim.interpreter_needed",
    ),
    (
        "interpreter_needed as a string",
        victim(interpreter_needed="true"),
        "potential_victim.interpreter_needed",
    ),
    ("consent given as 1", top(consent={"given": 1, "recorded_on": "2026-11-27"}), "consent.given"),
    (
        "consent recorded in the future",
        top(consent={"given": True, "recorded_on": "2100-01-01"}),
        "consent.recorded_on",
    ),
    ("an unknown field of the person", victim(eye_colour="brown"), "potential_victim.eye_colour"),
    ("an unknown top-level field", top(favourite="x"), "favourite"),
    (
        "immigration status outside the vocabulary",
        top(immigration={"status": "illegal"}),
        "immigration.status",
    ),
]

SERVER_OWNED = [
    "status",
    "version",
    "routed_to",
    "decisions",
    "reference",
    "id",
    "is_child",
    "deadlines",
    "submitted_by",
    "assigned_to",
]

ACCEPTED: list[tuple[str, Change]] = [
    ("Kosovo", victim(nationality="XK")),
    ("an unknown nationality", victim(nationality=None)),
    ("an estimated age of 0 (a child)", age_only(0)),
    ("an estimated age of 120", age_only(120)),
    ("an account of 15,000 characters", top(account="ŵ" * 15_000)),
    ("newlines, carriage returns and tabs", top(account="line one\r\nline\ttwo\n")),
    ("Welsh correspondence", victim(correspondence_language="cy")),
    (
        "every exploitation type",
        exploitation(
            types=[
                "sexual",
                "labour",
                "domestic_servitude",
                "criminal",
                "organ_harvesting",
                "unknown",
            ]
        ),
    ),
    ("no indicators", top(indicators=[])),
    ("no immigration part", without("immigration")),
]


@pytest.fixture
async def responder(app: FastAPI, db: AsyncSession) -> SignedIn:
    return await make_user(app, db, Role.FIRST_RESPONDER, organisation="south-wales-police")


async def post(client: httpx.AsyncClient, user: SignedIn, form: Form) -> httpx.Response:
    return await client.post("/api/v1/referrals", json=form, headers=user.headers)


def fields(response: httpx.Response) -> list[str]:
    return [e["field"] for e in response.json().get("errors", [])]


async def nothing_written(db: AsyncSession) -> bool:
    referrals = await db.scalar(select(func.count()).select_from(Referral))
    events = await db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.referral_id.is_not(None))
    )
    return referrals == 0 and events == 0


class TestRefusedForms:
    @pytest.mark.parametrize(("rule", "change", "field"), REFUSED, ids=[r[0] for r in REFUSED])
    async def test_refuses_the_form_naming_the_field(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        responder: SignedIn,
        rule: str,
        change: Change,
        field: str,
    ) -> None:
        form = referral_form()
        change(form)
        response = await post(client, responder, form)
        assert response.status_code == 422, (rule, response.text)
        assert response.json()["type"] == "/problems/validation-failed"
        assert response.headers["content-type"] == "application/problem+json"
        assert field in fields(response), (rule, response.json())
        assert await nothing_written(db)

    async def test_says_what_is_wrong_in_words(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        # Issue 9 item 15: no "Value error, " prefix, no regular expression, a sentence.
        form = referral_form()
        victim(nationality="ZZ", languages=["english"])(form)
        exploitation(local_authority="Cardiff", types=["labour", "labour"])(form)
        top(account="Seen\x00.", immigration={"status": "unknown", "home_office_reference": "!"})(
            form
        )
        response = await post(client, responder, form)

        assert response.status_code == 422, response.text
        messages = {e["field"]: e["message"] for e in response.json()["errors"]}
        assert messages == {
            "potential_victim.nationality": "Give the country's two-letter ISO 3166 code in "
            "capitals, such as RO, or null when it is not known.",
            "potential_victim.languages.0": "Give a language's ISO 639 code in small letters, "
            "such as ro.",
            "exploitation.local_authority": "Give the ONS code of a Welsh local authority, "
            "such as W06000015.",
            "exploitation.types": "Give each value once only.",
            "account": "Remove the control characters: only line breaks and tabs are allowed.",
            "immigration.home_office_reference": "Use letters, digits, spaces and / - . only, "
            "starting with a letter or a digit.",
        }

    @pytest.mark.parametrize("field", SERVER_OWNED)
    async def test_refuses_a_server_owned_field(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn, field: str
    ) -> None:
        response = await post(client, responder, referral_form(**{field: "x"}))
        assert response.status_code == 422
        assert response.json()["type"] == "/problems/validation-failed"
        assert fields(response) == [field]
        assert await nothing_written(db)

    async def test_refuses_a_date_of_birth_of_tomorrow_but_accepts_today(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        today = await service_date(client, responder)
        tomorrow = (today + timedelta(days=1)).isoformat()
        refused = await post(client, responder, _with_birth(child_form(), tomorrow))
        assert refused.status_code == 422
        assert fields(refused) == ["potential_victim.date_of_birth"]
        born_today = await post(client, responder, _with_birth(child_form(), today.isoformat()))
        assert born_today.status_code == 201
        assert born_today.json()["is_child"] is True

    async def test_an_age_is_possible_up_to_120_years(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        today = await service_date(client, responder)
        too_old = today.replace(year=today.year - 121)  # 121 today
        oldest = too_old + timedelta(days=1)  # 120 until tomorrow
        ok = await post(client, responder, _with_birth(referral_form(), oldest.isoformat()))
        assert ok.status_code == 201, ok.text
        refused = await post(client, responder, _with_birth(referral_form(), too_old.isoformat()))
        assert fields(refused) == ["potential_victim.date_of_birth"]


def _with_birth(form: Form, day: str) -> Form:
    form["potential_victim"]["date_of_birth"] = day
    form["potential_victim"]["estimated_age"] = None
    return form


class TestAcceptedForms:
    @pytest.mark.parametrize(("case", "change"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
    async def test_files_the_form(
        self, client: httpx.AsyncClient, responder: SignedIn, case: str, change: Change
    ) -> None:
        form = referral_form()
        change(form)
        response = await post(client, responder, form)
        assert response.status_code == 201, (case, response.text)
        body = response.json()
        assert body["potential_victim"]["nationality"] == form["potential_victim"]["nationality"]
        assert body["account"] == form["account"]
        assert sorted(body["exploitation"]["types"]) == sorted(form["exploitation"]["types"])


class TestConsent:
    async def test_an_adult_without_consent_is_refused_and_pointed_to_duty_to_notify(
        self, client: httpx.AsyncClient, db: AsyncSession, responder: SignedIn
    ) -> None:
        form = referral_form()
        del form["consent"]
        response = await post(client, responder, form)
        assert response.status_code == 422
        assert response.json()["type"] == "/problems/validation-failed"
        assert fields(response) == ["consent"]
        assert "/duty-to-notify" in response.json()["detail"]
        assert await nothing_written(db)

    async def test_an_adult_who_refused_consent_is_refused(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        form = referral_form(consent={"given": False, "recorded_on": "2026-11-27"})
        response = await post(client, responder, form)
        assert response.status_code == 422
        assert fields(response) == ["consent"]
        assert "/duty-to-notify" in response.json()["detail"]

    async def test_an_adult_by_estimated_age_needs_consent(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        form = referral_form(potential_victim={"date_of_birth": None, "estimated_age": 18})
        del form["consent"]
        assert fields(await post(client, responder, form)) == ["consent"]

    async def test_consent_is_ignored_for_a_child(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        form = child_form(consent={"given": False, "recorded_on": "2026-11-27"})
        response = await post(client, responder, form)
        assert response.status_code == 201, response.text
        assert response.json()["is_child"] is True
        assert response.json()["consent"] == {"given": None, "recorded_on": None}

    async def test_an_unknown_age_is_presumed_a_child_and_needs_no_consent(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        form = referral_form(potential_victim={"date_of_birth": None, "estimated_age": None})
        del form["consent"]
        response = await post(client, responder, form)
        assert response.status_code == 201, response.text
        assert response.json()["is_child"] is True

    async def test_the_date_of_birth_wins_over_the_estimated_age(
        self, client: httpx.AsyncClient, responder: SignedIn
    ) -> None:
        adult = referral_form(potential_victim={"date_of_birth": "1999-04-02", "estimated_age": 12})
        del adult["consent"]
        assert fields(await post(client, responder, adult)) == ["consent"]
        child = child_form(potential_victim={"estimated_age": 40})
        response = await post(client, responder, child)
        assert response.status_code == 201, response.text
        assert response.json()["is_child"] is True
        assert response.json()["potential_victim"]["estimated_age"] == 40
