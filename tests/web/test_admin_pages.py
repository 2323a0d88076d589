"""The administrators' pages (WEB.md "Pages", `/admin`): organisations and users, created and
changed through the same service as `POST /organisations`, `POST /users` and
`PATCH /users/{id}`, with the same rules and audit events; administrators only; a refused form
shown again with what was typed (never the password); in English and in Welsh."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.identity.models import Organisation, User
from app.identity.roles import Role, Sector
from tests.factories import PASSWORD, AppUser, make_organisation, make_user
from tests.web.admin_helpers import (
    NEW_PASSWORD,
    can_sign_in,
    checked_roles,
    events,
    new_user_form,
)
from tests.web.helpers import error_summary, key_of, sign_in
from tests.web.test_language import _english_sentences, _text


@pytest.fixture
async def admin(app: FastAPI, db: AsyncSession) -> AppUser:
    oversight = await make_organisation(db, sector=Sector.OVERSIGHT)
    return await make_user(app, db, Role.ADMIN, organisation=oversight.code)


@pytest.fixture
async def csrf(client: httpx.AsyncClient, admin: AppUser) -> str:
    return await sign_in(client, admin.username)


class TestOnlyAdministrators:
    @pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
    async def test_every_other_role_gets_403_on_every_page_and_form(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient, role: Role
    ) -> None:
        someone = await make_user(app, db, role)
        csrf = await sign_in(client, someone.username)
        for path in ("/admin", "/admin/users/new", "/admin/organisations/new"):
            answer = await client.get(path)
            assert answer.status_code == 403, path
            assert "You cannot do this" in answer.text
        sent = await client.post(
            f"/admin/users/{someone.id}/roles", data={"csrf_token": csrf, "roles": "admin"}
        )
        assert sent.status_code == 403
        created = await client.post(
            "/admin/organisations/new",
            data={"csrf_token": csrf, "code": "x-org", "name": "X", "sector": "charity"},
        )
        assert created.status_code == 403
        assert await db.scalar(select(Organisation).where(Organisation.code == "x-org")) is None
        assert 'href="/admin"' not in (await client.get("/me")).text

    async def test_nobody_signed_in_is_sent_to_sign_in(self, client: httpx.AsyncClient) -> None:
        answer = await client.get("/admin")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/sign-in?next=/admin"

    async def test_the_admins_home_is_the_admin_page_with_its_link(
        self, client: httpx.AsyncClient, csrf: str, admin: AppUser
    ) -> None:
        del csrf
        home = await client.get("/")
        assert home.status_code == 200
        assert "Organisations and users" in home.text
        assert admin.username in home.text
        assert 'href="/admin"' in home.text
        assert 'href="/referrals"' not in home.text  # an administrator reads no referral


class TestOrganisations:
    async def test_an_admin_adds_an_organisation_audited_as_the_api_does(
        self, client: httpx.AsyncClient, csrf: str, admin: AppUser, db: AsyncSession
    ) -> None:
        form = await client.get("/admin/organisations/new")
        data = {
            "csrf_token": csrf,
            "idempotency_key": key_of(form.text),
            "code": "swansea-refuge",
            "name": "Swansea Refuge",
            "name_cy": "Lloches Abertawe",
            "sector": "charity",
            "local_authority": "",
        }
        answer = await client.post("/admin/organisations/new", data=data)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/admin?done=organisation"
        again = await client.post("/admin/organisations/new", data=data)  # a double click
        assert again.status_code == 303
        made = await db.scalar(select(Organisation).where(Organisation.code == "swansea-refuge"))
        assert made is not None
        assert (made.name_cy, made.sector, made.local_authority) == (
            "Lloches Abertawe",
            "charity",
            None,
        )
        [event] = await events(db, "organisation.created", admin)
        assert event.changes == {
            "code": {"after": "swansea-refuge"},
            "sector": {"after": "charity"},
            "email": {"after": False},  # whether a mailbox is set, never its address
        }
        listed = (await client.get("/admin?lang=cy")).text
        assert "Lloches Abertawe" in listed
        assert "Elusen" in listed  # the sector by its name, in Welsh

    async def test_organisations_are_listed_in_pages_by_code(
        self, client: httpx.AsyncClient, csrf: str, db: AsyncSession
    ) -> None:
        del csrf
        for _ in range(12):
            await make_organisation(db)
        codes = list(
            (await db.scalars(select(Organisation.code).order_by(Organisation.code))).all()
        )
        assert len(codes) > 50
        first = (await client.get("/admin")).text
        assert f'<th scope="row" class="govuk-table__header">{codes[49]}</th>' in first
        assert f">{codes[50]}</th>" not in first
        link = re.search(r'href="(/admin\?organisations_after=[^"#]+)#organisations"', first)
        assert link
        second = (await client.get(link.group(1))).text
        assert f">{codes[50]}</th>" in second
        assert f">{codes[49]}</th>" not in second

    async def test_a_taken_code_is_409_with_everything_typed_kept(
        self, client: httpx.AsyncClient, csrf: str
    ) -> None:
        answer = await client.post(
            "/admin/organisations/new",
            data={
                "csrf_token": csrf,
                "code": "bawso",
                "name": "A New Charity Typed Here",
                "sector": "charity",
                "local_authority": "W06000015",
            },
        )
        assert answer.status_code == 409
        assert error_summary(answer.text) == [
            ("#code", "An organisation with the code bawso already exists: choose another code.")
        ]
        assert 'value="A New Charity Typed Here"' in answer.text
        assert '<option value="W06000015" selected>' in answer.text
        assert 'value="charity" checked' in answer.text

    async def test_missing_answers_are_422_in_plain_words(
        self, client: httpx.AsyncClient, csrf: str
    ) -> None:
        answer = await client.post(
            "/admin/organisations/new", data={"csrf_token": csrf, "code": "ok-code"}
        )
        assert answer.status_code == 422
        assert dict(error_summary(answer.text)) == {
            "#name": "Enter the organisation's name in English",
            "#sector": "Select the organisation's sector",
        }
        assert 'value="ok-code"' in answer.text


class TestCreateUser:
    async def test_an_admin_creates_a_user_who_can_then_sign_in(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, admin: AppUser, db: AsyncSession
    ) -> None:
        form = await client.get("/admin/users/new")
        assert "Bawso" in form.text
        data = {"csrf_token": csrf, "idempotency_key": key_of(form.text), **new_user_form()}
        answer = await client.post("/admin/users/new", data=data)
        assert answer.status_code == 303
        user = await db.scalar(select(User).where(User.username == "new-caseworker"))
        assert user is not None
        assert answer.headers["location"] == f"/admin/users/{user.id}?done=created"
        [event] = await events(db, "user.created", admin)
        assert event.changes["user_id"] == {"after": str(user.id)}
        assert event.changes["roles"] == {"after": ["first_responder"]}
        assert NEW_PASSWORD not in event.canonical
        again = await client.post("/admin/users/new", data=data)  # a double click
        assert again.status_code == 303
        assert again.headers["location"] == answer.headers["location"]
        assert len(await events(db, "user.created", admin)) == 1
        page = (await client.get(answer.headers["location"])).text
        assert "The account has been created." in page
        assert NEW_PASSWORD not in page
        assert await can_sign_in(app, "new-caseworker", NEW_PASSWORD)

    async def test_a_weak_password_is_422_keeping_all_but_the_password(
        self, client: httpx.AsyncClient, csrf: str, admin: AppUser, db: AsyncSession
    ) -> None:
        weak = "short-one"
        answer = await client.post(
            "/admin/users/new",
            data={"csrf_token": csrf, **new_user_form(password=weak, roles=["auditor"])},
        )
        assert answer.status_code == 422
        assert error_summary(answer.text) == [
            ("#password", "The password must have at least 12 characters.")
        ]
        assert weak not in answer.text
        assert 'value="new-caseworker"' in answer.text
        assert 'value="New Caseworker"' in answer.text
        assert '<option value="bawso" selected>' in answer.text
        assert checked_roles(answer.text) == {"auditor"}
        assert await events(db, "user.created", admin) == []

    async def test_roles_the_api_refuses_together_are_422_with_its_words(
        self, client: httpx.AsyncClient, csrf: str, db: AsyncSession
    ) -> None:
        answer = await client.post(
            "/admin/users/new",
            data={"csrf_token": csrf, **new_user_form(roles=["admin", "first_responder"])},
        )
        assert answer.status_code == 422
        [(href, text)] = error_summary(answer.text)
        assert href == "#roles"
        assert text.startswith("The admin role must be held alone")
        assert checked_roles(answer.text) == {"admin", "first_responder"}
        assert await db.scalar(select(User).where(User.username == "new-caseworker")) is None

    async def test_a_taken_username_is_409_beside_the_username(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, db: AsyncSession
    ) -> None:
        taken = await make_user(app, db, Role.FIRST_RESPONDER)
        answer = await client.post(
            "/admin/users/new", data={"csrf_token": csrf, **new_user_form(username=taken.username)}
        )
        assert answer.status_code == 409
        assert error_summary(answer.text) == [
            ("#username", f"The username {taken.username} is taken: choose another.")
        ]


class TestChangeUser:
    async def test_roles_change_with_the_apis_event(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, admin: AppUser, db: AsyncSession
    ) -> None:
        user = await make_user(app, db, Role.DECISION_MAKER)
        page = await client.get(f"/admin/users/{user.id}")
        assert checked_roles(page.text) == {"decision_maker"}
        answer = await client.post(
            f"/admin/users/{user.id}/roles",
            data={"csrf_token": csrf, "roles": ["senior_decision_maker", "panel_member"]},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/admin/users/{user.id}?done=roles"
        [event] = await events(db, "user.updated", admin)
        assert event.changes["roles"] == {
            "before": ["decision_maker"],
            "after": ["panel_member", "senior_decision_maker"],
        }
        shown = await client.get(answer.headers["location"])
        assert checked_roles(shown.text) == {"senior_decision_maker", "panel_member"}

    async def test_a_role_the_api_refuses_is_422_keeping_the_choice(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, admin: AppUser, db: AsyncSession
    ) -> None:
        user = await make_user(app, db, Role.DECISION_MAKER)
        answer = await client.post(
            f"/admin/users/{user.id}/roles",
            data={"csrf_token": csrf, "roles": ["decision_maker", "auditor"]},
        )
        assert answer.status_code == 422
        [(href, text)] = error_summary(answer.text)
        assert href == "#roles"
        assert text.startswith("The auditor role cannot be held beside the decision maker role")
        assert checked_roles(answer.text) == {"decision_maker", "auditor"}
        assert await events(db, "user.updated", admin) == []
        none = await client.post(f"/admin/users/{user.id}/roles", data={"csrf_token": csrf})
        assert none.status_code == 422
        assert error_summary(none.text) == [("#roles", "Select at least one role")]

    async def test_a_deactivated_user_can_no_longer_sign_in_and_may_be_reactivated(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, admin: AppUser, db: AsyncSession
    ) -> None:
        user = await make_user(app, db, Role.FIRST_RESPONDER)
        assert await can_sign_in(app, user.username, PASSWORD)
        answer = await client.post(
            f"/admin/users/{user.id}/active", data={"csrf_token": csrf, "active": "false"}
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/admin/users/{user.id}?done=deactivated"
        assert not await can_sign_in(app, user.username, PASSWORD)
        api = await client.get("/api/v1/me", headers=user.headers)
        assert api.status_code == 401
        [event] = await events(db, "user.updated", admin)
        assert event.changes["active"] == {"before": True, "after": False}
        assert "Reactivate the account" in (await client.get(answer.headers["location"])).text
        back = await client.post(
            f"/admin/users/{user.id}/active", data={"csrf_token": csrf, "active": "true"}
        )
        assert back.headers["location"] == f"/admin/users/{user.id}?done=reactivated"
        assert await can_sign_in(app, user.username, PASSWORD)

    async def test_the_last_active_admin_stays_409(
        self, client: httpx.AsyncClient, csrf: str, admin: AppUser, db: AsyncSession
    ) -> None:
        answer = await client.post(
            f"/admin/users/{admin.id}/active", data={"csrf_token": csrf, "active": "false"}
        )
        assert answer.status_code == 409
        [(href, text)] = error_summary(answer.text)
        assert href == "#active"
        assert text.startswith("This is the last active administrator.")
        assert await events(db, "user.updated", admin) == []

    async def test_an_unknown_user_is_404(self, client: httpx.AsyncClient, csrf: str) -> None:
        assert (await client.get(f"/admin/users/{uuid.uuid4()}")).status_code == 404
        assert (await client.get("/admin/users/not-an-id")).status_code == 404
        sent = await client.post(
            f"/admin/users/{uuid.uuid4()}/roles", data={"csrf_token": csrf, "roles": "auditor"}
        )
        assert sent.status_code == 404

    async def test_a_form_without_the_sessions_token_is_403_and_changes_nothing(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, admin: AppUser, db: AsyncSession
    ) -> None:
        del csrf
        user = await make_user(app, db, Role.FIRST_RESPONDER)
        for path, data in (
            (f"/admin/users/{user.id}/active", {"active": "false"}),
            (f"/admin/users/{user.id}/roles", {"roles": "auditor"}),
            ("/admin/users/new", new_user_form()),
            ("/admin/organisations/new", {"code": "x-org", "name": "X", "sector": "charity"}),
        ):
            answer = await client.post(path, data={**data, "csrf_token": "forged"})
            assert answer.status_code == 403, path
        assert await can_sign_in(app, user.username, PASSWORD)
        changed = select(AuditEvent).where(
            AuditEvent.actor_id == admin.id, AuditEvent.track == "admin"
        )
        assert await db.scalar(changed) is None


class TestWelsh:
    async def test_the_admin_pages_in_welsh_show_no_english_sentence(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, db: AsyncSession
    ) -> None:
        del csrf
        user = await make_user(app, db, Role.SENIOR_DECISION_MAKER)
        sentences = _english_sentences()
        pages = ["/admin", "/admin/users/new", "/admin/organisations/new"]
        for path in [*pages, f"/admin/users/{user.id}"]:
            page = await client.get(path + "?lang=cy")
            assert page.status_code == 200
            assert '<html lang="cy"' in page.text
            text = _text(page.text)
            assert [s for s in sentences if s in text] == [], path
        shown = (await client.get(f"/admin/users/{user.id}?lang=cy")).text
        assert "Uwch wneuthurwr penderfyniadau" in shown  # the role by its Welsh name
        assert "Uned Penderfyniadau Cymru Gyfan" in shown  # the organisation's `name_cy`
        assert "All-Wales Decision Unit" not in shown

    async def test_a_refusal_reads_in_welsh(self, client: httpx.AsyncClient, csrf: str) -> None:
        form = new_user_form(username="x", roles=["admin", "immigration_officer"])
        answer = await client.post("/admin/users/new?lang=cy", data={"csrf_token": csrf, **form})
        assert answer.status_code == 422
        [(_, username), (_, roles)] = error_summary(answer.text)
        assert username.startswith("Defnyddiwch rhwng 3 a 64 o lythrennau, digidau")
        assert roles.startswith("Rhaid i rolau gweinyddwr a swyddog mewnfudo gael eu dal ar wahân")
        assert not [s for s in _english_sentences() if s in _text(answer.text)]

    async def test_a_language_not_chosen_yet_reads_so_with_no_choice_ticked(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, db: AsyncSession
    ) -> None:
        del csrf
        user = await make_user(app, db, Role.FIRST_RESPONDER)
        page = (await client.get(f"/admin/users/{user.id}")).text
        assert 'name="language" type="radio"' in page  # PATCH /users/{id} takes `language`
        assert 'name="language" type="radio" value="en" checked' not in page
        assert "Not chosen yet" in page

    async def test_the_admins_own_language_opens_the_admin_page_in_welsh(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, admin: AppUser
    ) -> None:
        saved = await client.post("/me", data={"language": "cy", "csrf_token": csrf})
        assert saved.status_code == 303
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as fresh:
            await sign_in(fresh, admin.username)
            home = await fresh.get("/")
            assert '<html lang="cy"' in home.text
            assert 'href="/admin"' in home.text
