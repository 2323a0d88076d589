"""Contact details and the outbox on the web pages (WEB.md `/admin`, `/me`): a user's e-mail
and language, an organisation's shared mailbox and a person's own address, changed through the
services of `PATCH /users/{id}`, `PATCH /organisations/{code}` and `PATCH /me` with their rules
and audit events; and `/admin/notifications`, the outbox of `GET /notifications` with its
filters and paging, and the retry of `POST /notifications/{id}/retry`."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import labels
from app.identity.models import Organisation, User
from app.identity.roles import Role, Sector
from app.notifications.models import Notification
from tests.factories import AppUser, make_organisation, make_user
from tests.referrals.builders import Cast, file_case, make_cast_quickly
from tests.web.admin_helpers import events, new_user_form
from tests.web.conftest import SignedIn
from tests.web.helpers import error_summary, key_of, sign_in
from tests.web.test_language import _english_sentences, _text

BAD = "not an address"
WORDS = "Give an e-mail address, such as team@example.org.uk."


@pytest.fixture
async def admin(app: FastAPI, db: AsyncSession) -> AppUser:
    oversight = await make_organisation(db, sector=Sector.OVERSIGHT)
    return await make_user(app, db, Role.ADMIN, organisation=oversight.code)


@pytest.fixture
async def csrf(client: httpx.AsyncClient, admin: AppUser) -> str:
    return await sign_in(client, admin.username)


async def saved_user(db: AsyncSession, user: AppUser) -> User:
    db.expire_all()
    found = await db.scalar(select(User).where(User.id == user.id))
    assert found is not None
    return found


class TestUsersContact:
    async def test_an_admin_sets_a_users_email_and_language_with_the_apis_event(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, admin: AppUser, db: AsyncSession
    ) -> None:
        user = await make_user(app, db, Role.DECISION_MAKER)
        path = f"/admin/users/{user.id}"
        sent = await client.post(
            path + "/email", data={"csrf_token": csrf, "email": " dm@example.org.uk "}
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == path + "?done=email"
        assert (await saved_user(db, user)).email == "dm@example.org.uk"
        chosen = await client.post(path + "/language", data={"csrf_token": csrf, "language": "cy"})
        assert chosen.status_code == 303
        assert (await saved_user(db, user)).language == "cy"
        changes = [e.changes for e in await events(db, "user.updated", admin)]
        assert changes[0]["email"] == {"before": False, "after": True}
        assert changes[1]["language"] == {"before": None, "after": "cy"}
        assert "dm@example.org.uk" not in str(changes)  # never the address
        page = (await client.get(sent.headers["location"])).text
        assert "The e-mail address has been saved." in page
        assert 'value="dm@example.org.uk"' in page
        assert 'name="language" type="radio" value="cy" checked' in page

    async def test_a_bad_address_is_422_keeping_what_was_typed(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, db: AsyncSession
    ) -> None:
        user = await make_user(app, db, Role.DECISION_MAKER)
        answer = await client.post(
            f"/admin/users/{user.id}/email", data={"csrf_token": csrf, "email": BAD}
        )
        assert answer.status_code == 422
        assert error_summary(answer.text) == [("#email", WORDS)]
        assert f'value="{BAD}"' in answer.text
        assert (await saved_user(db, user)).email is None
        wrong = await client.post(
            f"/admin/users/{user.id}/language", data={"csrf_token": csrf, "language": "fr"}
        )
        assert wrong.status_code == 422
        assert [href for href, _ in error_summary(wrong.text)] == ["#language"]

    async def test_a_blank_address_removes_it(
        self, app: FastAPI, client: httpx.AsyncClient, csrf: str, db: AsyncSession
    ) -> None:
        user = await make_user(app, db, Role.DECISION_MAKER)
        await db.execute(update(User).where(User.id == user.id).values(email="a@example.org"))
        await db.commit()
        sent = await client.post(
            f"/admin/users/{user.id}/email", data={"csrf_token": csrf, "email": "  "}
        )
        assert sent.headers["location"].endswith("?done=no-email")
        assert (await saved_user(db, user)).email is None
        page = (await client.get(sent.headers["location"])).text
        assert "the user gets no notifications" in page

    async def test_a_new_user_and_a_new_organisation_take_an_address(
        self, client: httpx.AsyncClient, csrf: str, db: AsyncSession
    ) -> None:
        form = await client.get("/admin/users/new")
        data = {"csrf_token": csrf, "idempotency_key": key_of(form.text)}
        refused = await client.post("/admin/users/new", data={**data, **new_user_form(email=BAD)})
        assert refused.status_code == 422
        assert ("#email", WORDS) in error_summary(refused.text)
        assert f'value="{BAD}"' in refused.text
        made = await client.post(
            "/admin/users/new", data={**data, **new_user_form(email="new@example.org")}
        )
        assert made.status_code == 303
        user = await db.scalar(select(User).where(User.username == "new-caseworker"))
        assert user is not None
        assert user.email == "new@example.org"
        organisation = {"code": "x-org", "name": "X", "sector": "charity", "email": BAD}
        form = await client.get("/admin/organisations/new")
        data = {"csrf_token": csrf, "idempotency_key": key_of(form.text)}
        refused = await client.post("/admin/organisations/new", data={**data, **organisation})
        assert refused.status_code == 422
        assert error_summary(refused.text) == [("#email", WORDS)]
        organisation["email"] = "team@x.example.org"
        assert (
            await client.post("/admin/organisations/new", data={**data, **organisation})
        ).is_redirect
        saved = await db.scalar(select(Organisation).where(Organisation.code == "x-org"))
        assert saved is not None
        assert saved.email == "team@x.example.org"


class TestMailbox:
    async def test_an_admin_sets_and_removes_an_organisations_mailbox(
        self, client: httpx.AsyncClient, csrf: str, admin: AppUser, db: AsyncSession
    ) -> None:
        listed = (await client.get("/admin")).text
        assert 'href="/admin/organisations/bawso/email"' in listed
        path = "/admin/organisations/bawso/email"
        refused = await client.post(path, data={"csrf_token": csrf, "email": BAD})
        assert refused.status_code == 422
        assert error_summary(refused.text) == [("#email", WORDS)]
        assert f'value="{BAD}"' in refused.text
        sent = await client.post(path, data={"csrf_token": csrf, "email": "team@bawso.org.uk"})
        assert sent.headers["location"] == path + "?done=email"
        db.expire_all()
        bawso = await db.scalar(select(Organisation).where(Organisation.code == "bawso"))
        assert bawso is not None
        assert bawso.email == "team@bawso.org.uk"
        assert "team@bawso.org.uk" in (await client.get("/admin")).text
        removed = await client.post(path, data={"csrf_token": csrf, "email": ""})
        assert removed.headers["location"] == path + "?done=no-email"
        await db.refresh(bawso)
        assert bawso.email is None
        changes = [e.changes["email"] for e in await events(db, "organisation.updated", admin)]
        assert changes == [{"before": False, "after": True}, {"before": True, "after": False}]
        assert (await client.get("/admin/organisations/no-such-org/email")).status_code == 404


class TestOwnAddress:
    async def test_a_person_sets_their_own_address_on_me(
        self, client: httpx.AsyncClient, signed_in: SignedIn, db: AsyncSession, responder: AppUser
    ) -> None:
        csrf = signed_in.csrf
        refused = await client.post("/me/email", data={"csrf_token": csrf, "email": BAD})
        assert refused.status_code == 422
        assert error_summary(refused.text) == [("#email", WORDS)]
        assert f'value="{BAD}"' in refused.text
        sent = await client.post("/me/email", data={"csrf_token": csrf, "email": "me@example.org"})
        assert sent.headers["location"] == "/me?saved=email"
        assert (await saved_user(db, responder)).email == "me@example.org"
        page = (await client.get("/me?saved=email")).text
        assert "Your e-mail address is saved." in page
        assert 'value="me@example.org"' in page
        [event] = await events(db, "user.updated", responder)
        assert event.changes["email"] == {"before": False, "after": True}
        removed = await client.post("/me/email", data={"csrf_token": csrf, "email": ""})
        assert removed.headers["location"] == "/me?saved=no-email"
        assert (await saved_user(db, responder)).email is None
        forged = await client.post("/me/email", data={"csrf_token": "forged", "email": "x@y.org"})
        assert forged.status_code == 403
        assert (await saved_user(db, responder)).email is None


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def failed_one(db: AsyncSession, kind: str = "referral.received") -> Notification:
    """A notification failed here, as the worker leaves one after its last attempt."""
    row = await db.scalar(select(Notification).where(Notification.kind == kind))
    assert row is not None
    row.status, row.attempts, row.last_error = "failed", 8, "refused by the test"
    await db.commit()
    return row


def rows_of(html: str) -> list[str]:
    return re.findall(r'data-row="([^"]+)"', html)


class TestNotifications:
    async def test_the_outbox_is_listed_in_words_and_filtered(
        self, client: httpx.AsyncClient, cast: Cast, csrf: str, db: AsyncSession
    ) -> None:
        case = await file_case(client, cast.responder)
        await failed_one(db)
        home = (await client.get("/admin")).text
        assert 'href="/admin/notifications"' in home
        page = (await client.get("/admin/notifications")).text
        assert page.count(case.reference) >= 2
        assert "Referral received" in page
        assert "Referral sent to a decision unit" in page
        assert "Waiting to be sent" in page
        assert "Failed" in page
        assert "refused by the test" in page
        assert cast.responder.username in page
        failed = (await client.get("/admin/notifications?status=failed")).text
        assert len(rows_of(failed)) == 1
        assert len(re.findall(r'action="/admin/notifications/[^"]+/retry"', failed)) == 1
        routed = (await client.get("/admin/notifications?kind=referral.routed")).text
        kinds = (await db.scalars(select(Notification.kind))).all()
        assert len(rows_of(routed)) == kinds.count("referral.routed") > 0
        assert "/retry" not in routed  # none of them failed

    @pytest.mark.parametrize(
        ("query", "field"), [("status=lost", "#status"), ("kind=referral.lost", "#kind")]
    )
    async def test_a_filter_the_api_refuses_is_422_by_its_field(
        self, client: httpx.AsyncClient, csrf: str, query: str, field: str
    ) -> None:
        del csrf
        answer = await client.get(f"/admin/notifications?{query}")
        assert answer.status_code == 422
        assert [href for href, _ in error_summary(answer.text)] == [field]

    @pytest.mark.parametrize("param", ["cursor", "after"])
    async def test_a_cursor_without_a_time_zone_starts_again_at_the_first_page(
        self, client: httpx.AsyncClient, cast: Cast, csrf: str, param: str
    ) -> None:
        # The page's cursors were once this unsigned `created_at|id`: one of them, as a link
        # of then gave it (`after`) or as a cursor now, is the first page again.
        del csrf
        case = await file_case(client, cast.responder)
        after = "2026-01-01T00:00:00|00000000-0000-0000-0000-000000000000"
        answer = await client.get("/admin/notifications", params={param: after})
        assert answer.status_code == 200
        assert case.reference in answer.text
        assert "First page" not in answer.text

    async def test_pages_follow_one_another_without_repeats(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        csrf: str,
        db: AsyncSession,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from app.web import notifications_page

        monkeypatch.setattr(notifications_page, "PAGE_SIZE", 2)
        await file_case(client, cast.responder)
        ids = list((await db.scalars(select(Notification.id))).all())
        seen: list[str] = []
        path: str | None = "/admin/notifications"
        while path:
            page = (await client.get(path)).text
            seen += rows_of(page)
            found = re.search(r'href="(/admin/notifications\?cursor=[^"]+)"[^>]*rel="next"', page)
            path = found.group(1).replace("&amp;", "&") if found else None
        assert sorted(seen) == sorted(str(i) for i in ids)
        assert len(ids) > 2

    async def test_a_failed_one_is_queued_again_and_any_other_refused_with_the_409(
        self, client: httpx.AsyncClient, cast: Cast, csrf: str, db: AsyncSession
    ) -> None:
        await file_case(client, cast.responder)
        row = await failed_one(db)
        sent = await client.post(
            f"/admin/notifications/{row.id}/retry", data={"csrf_token": csrf, "status": "failed"}
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == "/admin/notifications?status=failed&done=retried"
        await db.refresh(row)
        assert (row.status, row.attempts) == ("queued", 0)
        assert "queued again" in (await client.get(sent.headers["location"])).text
        again = await client.post(f"/admin/notifications/{row.id}/retry", data={"csrf_token": csrf})
        assert again.status_code == 409
        assert "This notification is queued: only a failed notification can be retried." in (
            _text(again.text)
        )
        welsh = await client.post(
            f"/admin/notifications/{row.id}/retry?lang=cy", data={"csrf_token": csrf}
        )
        assert welsh.status_code == 409
        assert not [s for s in _english_sentences() if s in _text(welsh.text)]
        assert "queued" not in _text(welsh.text)
        unknown = await client.post(
            "/admin/notifications/00000000-0000-0000-0000-000000000000/retry",
            data={"csrf_token": csrf},
        )
        assert unknown.status_code == 404

    async def test_a_refused_retry_links_to_the_list_as_filtered_in_the_other_language(
        self, client: httpx.AsyncClient, cast: Cast, csrf: str, db: AsyncSession
    ) -> None:
        await file_case(client, cast.responder)
        row = await failed_one(db)
        retry = f"/admin/notifications/{row.id}/retry"
        sent = await client.post(retry, data={"csrf_token": csrf, "status": "failed"})
        assert sent.status_code == 303
        again = await client.post(retry, data={"csrf_token": csrf, "status": "failed"})
        assert again.status_code == 409
        link = re.search(r'href="([^"]+)" hreflang="cy"', again.text)
        assert link is not None
        assert link.group(1) == "/admin/notifications?status=failed&amp;lang=cy"
        welsh = await client.get("/admin/notifications?status=failed&lang=cy")
        assert welsh.status_code == 200
        assert '<html lang="cy"' in welsh.text

    async def test_a_retry_without_the_sessions_token_is_403_and_changes_nothing(
        self, client: httpx.AsyncClient, cast: Cast, csrf: str, db: AsyncSession
    ) -> None:
        del csrf
        await file_case(client, cast.responder)
        row = await failed_one(db)
        forged = await client.post(
            f"/admin/notifications/{row.id}/retry", data={"csrf_token": "forged"}
        )
        assert forged.status_code == 403
        await db.refresh(row)
        assert row.status == "failed"

    @pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
    async def test_only_admins(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient, role: Role
    ) -> None:
        someone = await make_user(app, db, role)
        csrf = await sign_in(client, someone.username)
        assert (await client.get("/admin/notifications")).status_code == 403
        assert (await client.get("/admin/organisations/bawso/email")).status_code == 403
        for path, data in (
            ("/admin/notifications/00000000-0000-0000-0000-000000000000/retry", {}),
            ("/admin/organisations/bawso/email", {"email": "x@y.org"}),
            (f"/admin/users/{someone.id}/email", {"email": "x@y.org"}),
            (f"/admin/users/{someone.id}/language", {"language": "cy"}),
        ):
            answer = await client.post(path, data={"csrf_token": csrf, **data})
            assert answer.status_code == 403, path


class TestWelsh:
    async def test_every_kind_and_status_has_its_name(self) -> None:
        from app.notifications.models import Kind, Status

        assert set(labels.NOTIFICATION_KINDS) == {k.value for k in Kind}
        assert set(labels.NOTIFICATION_STATUSES) == {s.value for s in Status}

    async def test_the_new_pages_in_welsh_show_no_english_sentence(
        self, app: FastAPI, client: httpx.AsyncClient, cast: Cast, csrf: str, db: AsyncSession
    ) -> None:
        await file_case(client, cast.responder)
        await failed_one(db)
        user = await make_user(app, db, Role.DECISION_MAKER)
        sentences = _english_sentences()
        for path in (
            "/admin/notifications",
            "/admin/organisations/bawso/email",
            f"/admin/users/{user.id}",
            "/me",
        ):
            page = await client.get(path + "?lang=cy")
            assert page.status_code == 200, path
            assert [s for s in sentences if s in _text(page.text)] == [], path
        shown = _text((await client.get("/admin/notifications?lang=cy")).text)
        assert "Atgyfeiriad wedi dod i law" in shown
        refused = await client.post(
            f"/admin/users/{user.id}/email?lang=cy", data={"csrf_token": csrf, "email": BAD}
        )
        assert error_summary(refused.text) == [
            ("#email", "Rhowch gyfeiriad e-bost, fel tim@example.org.uk.")
        ]
