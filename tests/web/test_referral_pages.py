"""The first responder's journey over HTTP: file, see, add a note, withdraw; what a refusal
shows (WEB.md "Forms"); the same rules, events and visibility as the API."""

from __future__ import annotations

import html
import re
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.identity.roles import Role, Sector
from app.referrals.models import Referral
from tests.factories import make_organisation, make_user
from tests.web.conftest import SignedIn
from tests.web.helpers import error_summary, key_of, referral_fields, sign_in


async def _count(db: AsyncSession, what: object) -> int:
    return int(await db.scalar(select(func.count()).select_from(what)) or 0)  # type: ignore[arg-type]


async def _file(client: httpx.AsyncClient, csrf: str, **overrides: object) -> httpx.Response:
    form = await client.get("/referrals/new")
    data = {
        "csrf_token": csrf,
        "idempotency_key": key_of(form.text),
        **referral_fields(**overrides),
    }
    return await client.post("/referrals/new", data=data)


class TestFiling:
    async def test_filing_goes_to_the_referral_page_with_its_reference(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        answer = await _file(client, signed_in.csrf)
        assert answer.status_code == 303
        page = await client.get(answer.headers["location"])
        referral = await db.scalar(select(Referral))
        assert referral is not None
        assert page.status_code == 200
        assert referral.reference in page.text
        assert "Referral filed" in page.text
        assert "HO-123456" not in page.text  # the compartment's part never shows
        actions = set((await db.scalars(select(AuditEvent.action))).all())
        assert {"referral.submitted", "referral.routed", "referral.viewed"} <= actions

    async def test_a_double_submission_files_one_referral(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        form = await client.get("/referrals/new")
        data = {
            "csrf_token": signed_in.csrf,
            "idempotency_key": key_of(form.text),
            **referral_fields(),
        }
        first = await client.post("/referrals/new", data=data)
        second = await client.post("/referrals/new", data=data)
        assert first.headers["location"] == second.headers["location"]
        assert await _count(db, Referral) == 1

    async def test_a_failed_form_is_422_with_the_errors_by_their_fields_and_keeps_what_was_typed(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        account = "A long account.\nSecond line & <more>."
        answer = await _file(
            client,
            signed_in.csrf,
            **{"potential_victim.gender": "", "exploitation.types": [], "account": account},
            **{"potential_victim.date_of_birth.month": "13"},
        )
        assert answer.status_code == 422
        links = dict(error_summary(answer.text))
        assert links["#potential_victim.gender"] == "Select the person's gender"
        assert "#exploitation.types" in links
        assert "#potential_victim.date_of_birth.day" in links
        assert 'role="alert"' in answer.text
        assert "A long account.\nSecond line &amp; &lt;more&gt;." in answer.text
        assert 'value="Popescu"' in answer.text
        assert 'value="13"' in answer.text
        assert await _count(db, Referral) == 0

    async def test_an_adult_without_consent_is_sent_to_the_duty_to_notify_form(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        answer = await _file(client, signed_in.csrf, **{"consent.given": "no"})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/duty-to-notify/new?reason=no-consent")
        assert "Ana" not in answer.headers["location"]
        page = await client.get(answer.headers["location"])
        assert "did not agree to be referred" in page.text
        assert await _count(db, Referral) == 0

    async def test_a_child_needs_no_consent(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        answer = await _file(
            client,
            signed_in.csrf,
            **{
                "consent.given": "",
                "consent.recorded_on.day": "",
                "consent.recorded_on.month": "",
                "consent.recorded_on.year": "",
                "potential_victim.date_of_birth.day": "",
                "potential_victim.date_of_birth.month": "",
                "potential_victim.date_of_birth.year": "",
            },
        )
        assert answer.status_code == 303
        referral = await db.scalar(select(Referral))
        assert referral is not None
        assert referral.is_child

    async def test_without_the_csrf_token_nothing_is_filed(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        answer = await _file(client, "forged")
        assert answer.status_code == 403
        del signed_in
        assert await _count(db, Referral) == 0


class TestReferralPage:
    async def test_another_organisations_referral_is_404(
        self, app: FastAPI, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        location = (await _file(client, signed_in.csrf)).headers["location"].split("?")[0]
        health = await make_organisation(db, sector=Sector.HEALTH)
        other = await make_user(app, db, Role.FIRST_RESPONDER, organisation=health.code)
        await sign_in(client, other.username)
        assert (await client.get(location)).status_code == 404
        assert (await client.get(f"/referrals/{uuid.uuid4()}")).status_code == 404
        assert (await client.get("/referrals/not-an-id")).status_code == 404

    async def test_a_note_is_added_and_a_withdrawal_on_a_stale_version_keeps_the_reason(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        location = (await _file(client, signed_in.csrf)).headers["location"].split("?")[0]
        note = await client.post(
            f"{location}/notes", data={"csrf_token": signed_in.csrf, "text": "More."}
        )
        assert note.status_code == 303
        stale = await client.post(
            f"{location}/withdraw",
            data={"csrf_token": signed_in.csrf, "version": "1", "reason": "She left the UK."},
        )
        assert stale.status_code == 412
        assert "Someone changed this referral" in stale.text
        assert "She left the UK." in stale.text
        version = re.search(r'name="version" value="(\d+)"', stale.text)
        assert version is not None
        done = await client.post(
            f"{location}/withdraw",
            data={"csrf_token": signed_in.csrf, "version": version.group(1), "reason": "Left."},
        )
        assert done.status_code == 303
        referral = await db.scalar(select(Referral).execution_options(populate_existing=True))
        assert referral is not None
        assert referral.status == "withdrawn"
        page = await client.get(location)
        assert 'action="' + location + '/withdraw"' not in page.text  # no longer allowed

    async def test_a_blank_reason_is_422_by_its_field(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        location = (await _file(client, signed_in.csrf)).headers["location"].split("?")[0]
        answer = await client.post(
            f"{location}/withdraw",
            data={"csrf_token": signed_in.csrf, "version": "1", "reason": " "},
        )
        assert answer.status_code == 422
        assert error_summary(answer.text)[0][0] == "#reason"

    async def test_the_list_shows_the_organisations_referrals(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        await _file(client, signed_in.csrf)
        referral = await db.scalar(select(Referral))
        assert referral is not None
        for path in ("/", "/referrals"):
            assert referral.reference in (await client.get(path)).text


_FORM = re.compile(r'<form method="post" action="/referrals/new" novalidate>(.*?)</form>', re.S)


def referral_form_of(page: str) -> str:
    """The referral form's inside (exactly one on the page)."""
    forms = _FORM.findall(page)
    assert len(forms) == 1, "the page has no referral form, or more than one"
    return str(forms[0])


def control_names(form: str) -> list[str]:
    return sorted(set(re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', form)))


class TestFirstRespondersHome:
    """WEB.md "Pages": a first responder's home is "the form and their organisation's
    referrals": the referral form of `/referrals/new` itself, their referrals below it."""

    async def test_holds_the_referral_form_and_the_organisations_referrals(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        await _file(client, signed_in.csrf)
        referral = await db.scalar(select(Referral))
        assert referral is not None
        home = await client.get("/")
        assert home.status_code == 200
        form = referral_form_of(home.text)
        assert 'name="potential_victim.given_name"' in form
        assert f'name="csrf_token" value="{signed_in.csrf}"' in form
        assert re.search(r'name="idempotency_key" value="[0-9a-f-]{36}"', form)
        page = await client.get("/referrals/new")
        assert control_names(form) == control_names(referral_form_of(page.text))
        assert key_of(form) != key_of(page.text)  # a key of its own: one referral per form
        listed = html.unescape(home.text.split(form, 1)[1])  # below the form
        assert "Your organisation's latest referrals" in listed
        assert referral.reference in listed

    async def test_filing_from_the_home_page_files_once(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        home = await client.get("/")
        data = {
            "csrf_token": signed_in.csrf,
            "idempotency_key": key_of(referral_form_of(home.text)),
            **referral_fields(),
        }
        first = await client.post("/referrals/new", data=data)
        second = await client.post("/referrals/new", data=data)
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        assert await _count(db, Referral) == 1

    async def test_a_refused_send_from_the_home_page_is_the_forms_page_keeping_what_was_typed(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        home = await client.get("/")
        key = key_of(referral_form_of(home.text))
        data = {
            "csrf_token": signed_in.csrf,
            "idempotency_key": key,
            **referral_fields(**{"potential_victim.gender": ""}),
        }
        answer = await client.post("/referrals/new", data=data)
        assert answer.status_code == 422
        assert dict(error_summary(answer.text))["#potential_victim.gender"] == (
            "Select the person's gender"
        )
        assert 'value="Popescu"' in referral_form_of(answer.text)
        assert key_of(answer.text) == key
        assert 'href="/referrals/new?lang=cy" hreflang="cy"' in answer.text
        assert await _count(db, Referral) == 0

    async def test_other_roles_homes_hold_no_referral_form(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        for role in (Role.DECISION_MAKER, Role.AUDITOR):
            user = await make_user(app, db, role)
            await sign_in(client, user.username)
            home = await client.get("/")
            assert home.status_code == 200
            assert 'action="/referrals/new"' not in home.text
            assert 'name="potential_victim.given_name"' not in home.text


class TestDutyToNotify:
    async def test_a_report_is_filed_once_and_holds_no_name(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        from app.referrals.models import DutyToNotify

        form = await client.get("/duty-to-notify/new")
        assert "given_name" not in form.text
        data = {
            "csrf_token": signed_in.csrf,
            "idempotency_key": key_of(form.text),
            "gender": "male",
            "nationality": "AL",
            "exploitation.types": ["criminal"],
            "exploitation.location": "uk",
            "exploitation.local_authority": "W06000015",
        }
        first = await client.post("/duty-to-notify/new", data=data)
        second = await client.post("/duty-to-notify/new", data=data)
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        assert await _count(db, DutyToNotify) == 1

    async def test_an_empty_report_is_422(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        form = await client.get("/duty-to-notify/new")
        answer = await client.post(
            "/duty-to-notify/new",
            data={"csrf_token": signed_in.csrf, "idempotency_key": key_of(form.text)},
        )
        assert answer.status_code == 422
        assert "#gender" in dict(error_summary(answer.text))


class TestOtherReaders:
    async def test_a_decision_maker_and_an_auditor_read_the_page_as_the_api_shows_them(
        self, app: FastAPI, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        location = (await _file(client, signed_in.csrf)).headers["location"].split("?")[0]
        decider = await make_user(app, db, Role.DECISION_MAKER)
        await sign_in(client, decider.username)
        page = await client.get(location)
        assert page.status_code == 200
        assert "She was found working in a car wash" in page.text
        auditor = await make_user(app, db, Role.AUDITOR)
        await sign_in(client, auditor.username)
        page = await client.get(location)
        assert page.status_code == 200
        assert "Popescu" not in page.text
        assert "car wash" not in page.text
        assert 'action="' not in page.text.split("<main", 1)[1]  # no command for an auditor


class TestThrottle:
    async def test_repeated_failures_are_throttled_as_the_api_throttles_them(
        self, client: httpx.AsyncClient, responder: object
    ) -> None:
        from tests.web.helpers import sign_in_csrf

        username = responder.username  # type: ignore[attr-defined]
        statuses = []
        for _ in range(11):
            form = await client.get("/sign-in")
            answer = await client.post(
                "/sign-in",
                data={
                    "username": username,
                    "password": "wrong",
                    "csrf_token": sign_in_csrf(form.text),
                },
            )
            statuses.append(answer.status_code)
        assert statuses[:10] == [401] * 10
        assert statuses[10] == 429
        assert "Too many failed sign-in attempts" in answer.text


class TestPlainWords:
    async def test_a_date_of_birth_in_the_future_is_refused_in_plain_words(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        answer = await _file(
            client, signed_in.csrf, **{"potential_victim.date_of_birth.year": "2999"}
        )
        assert answer.status_code == 422
        assert error_summary(answer.text) == [
            ("#potential_victim.date_of_birth.day", "Enter a date of birth in the past.")
        ]


class TestListFilters:
    async def test_the_list_filters_by_status_and_date_as_the_api_does(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession
    ) -> None:
        await _file(client, signed_in.csrf)
        referral = await db.scalar(select(Referral))
        assert referral is not None
        shown = await client.get("/referrals", params={"status": "awaiting_rg"})
        assert referral.reference in shown.text
        hidden = await client.get("/referrals", params={"status": "withdrawn"})
        assert referral.reference not in hidden.text
        backwards = await client.get(
            "/referrals",
            params={
                "created_from.day": "2",
                "created_from.month": "1",
                "created_from.year": "2026",
                "created_to.day": "1",
                "created_to.month": "1",
                "created_to.year": "2026",
            },
        )
        assert backwards.status_code == 422
        assert error_summary(backwards.text)[0][0] == "#created_to.day"
        assert 'value="2026"' in backwards.text
