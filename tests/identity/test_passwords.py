"""New passwords: at least 12 characters and hard to guess (app.identity.passwords), in words,
for `POST /users` and `nrm users create` alike."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli import main
from app.demo import DEMO_PASSWORD
from app.identity import passwords
from app.identity.models import User
from app.identity.roles import Role
from app.settings import get_settings
from tests.factories import PASSWORD, make_user

WEAK = [" " * 12, "a" * 12, "password1234", "123456789012", "qwertyuiopas", "Password1234"]
NEW_USER = {
    "username": "new-caseworker",
    "display_name": "New Caseworker",
    "organisation": "bawso",
    "roles": ["first_responder"],
}


class TestTheRule:
    @pytest.mark.parametrize("password", WEAK)
    def test_common_and_trivial_passwords_are_refused_with_advice(self, password: str) -> None:
        problem = passwords.problem(password)
        assert problem is not None
        assert problem.startswith("This password is too easy to guess.")

    @pytest.mark.parametrize(
        "password", [DEMO_PASSWORD, PASSWORD, "a-long-enough-password", "a-long-password-1"]
    )
    def test_the_demo_and_test_passwords_pass(self, password: str) -> None:
        assert passwords.problem(password) is None

    def test_the_length_rules_read_as_characters(self) -> None:
        assert passwords.problem("elevenchars") == "The password must have at least 12 characters."
        too_long = "correct-horse-battery-staple " * 40
        assert passwords.problem(too_long) == "The password must have at most 1024 characters."

    def test_the_accounts_own_names_are_easy_to_guess(self) -> None:
        assert passwords.problem("new-caseworker-1") is None
        assert passwords.problem("new-caseworker-1", context=["new-caseworker"]) is not None


class TestPostUsers:
    @pytest.mark.parametrize("password", [*WEAK, "elevenchars"])
    async def test_a_weak_password_is_422_on_password_in_words(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient, password: str
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        body = {**NEW_USER, "password": password}
        response = await client.post("/api/v1/users", json=body, headers=admin.headers)
        assert response.status_code == 422, response.text
        assert response.json()["type"] == "/problems/validation-failed"
        [error] = response.json()["errors"]
        assert error["field"] == "password"
        assert error["message"] == passwords.problem(password)
        assert await db.scalar(select(User.id).where(User.username == "new-caseworker")) is None

    async def test_the_password_may_not_be_the_username(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        body = {**NEW_USER, "username": "gwen-caseworker", "password": "gwen-caseworker1"}
        response = await client.post("/api/v1/users", json=body, headers=admin.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "password"

    async def test_the_schema_still_shows_the_lengths(self, app: FastAPI) -> None:
        schema = app.openapi()["components"]["schemas"]["UserCreate"]["properties"]["password"]
        assert (schema["minLength"], schema["maxLength"]) == (12, 1024)


@pytest.fixture
def nrm_env(throwaway: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`nrm` pointed at a migrated database of the test's own."""
    monkeypatch.setenv("NRM_DATABASE_URL", throwaway)
    monkeypatch.setenv("NRM_ENV", "test")
    get_settings.cache_clear()
    yield throwaway
    get_settings.cache_clear()


def _create(password: str, *roles: str) -> list[str]:
    args = ["users", "create", "--username", "ops-person", "--password", password]
    args += ["--organisation", "all-wales-decision-unit"]
    for role in roles or ("auditor",):
        args += ["--role", role]
    return args


@pytest.mark.committing
class TestUsersCreateCommand:
    @pytest.mark.parametrize("password", ["password1234", "a" * 12, "elevenchars"])
    def test_refuses_a_weak_password_in_words(
        self, nrm_env: str, capsys: pytest.CaptureFixture[str], password: str
    ) -> None:
        assert main(_create(password)) == 1
        err = capsys.readouterr().err
        assert "password" in err
        assert str(passwords.problem(password)) in err

    def test_refuses_a_solitary_role_beside_another(
        self, nrm_env: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(_create(PASSWORD, "admin", "auditor")) == 1
        err = capsys.readouterr().err
        assert "roles" in err
        assert "The admin role must be held alone" in err

    def test_creates_a_user_with_a_good_password(self, nrm_env: str) -> None:
        assert main(_create(PASSWORD, "admin")) == 0
