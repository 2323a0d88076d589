"""The `nrm` command against a fresh database of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cli import main
from app.identity.models import LocalAuthority, Organisation, User
from app.settings import get_settings
from tests.conftest import fresh_engine
from tests.databases import Backend


@pytest.fixture
def fresh_url(backend: Backend) -> Iterator[str]:
    """An empty database (not even migrated)."""
    url = backend.empty()
    try:
        yield url
    finally:
        backend.drop(url)


@pytest.fixture
def nrm_env(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("NRM_DATABASE_URL", fresh_url)
    monkeypatch.setenv("NRM_ENV", "test")
    get_settings.cache_clear()
    yield fresh_url
    get_settings.cache_clear()


def _count(url: str, model: type) -> int:
    async def count() -> int:
        engine = fresh_engine(url)
        async with engine.connect() as connection:
            value = await connection.scalar(select(func.count()).select_from(model))
        await engine.dispose()
        return int(value or 0)

    return asyncio.run(count())


class TestDbUpgrade:
    def test_migrates_and_loads_reference_data_once_after_two_upgrades(
        self, nrm_env: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["db", "upgrade"]) == 0
        organisations = _count(nrm_env, Organisation)
        assert _count(nrm_env, LocalAuthority) == 22
        events = _count(nrm_env, AuditEvent)
        assert main(["db", "upgrade"]) == 0
        assert "0 rows changed" in capsys.readouterr().out.splitlines()[-1]
        assert _count(nrm_env, Organisation) == organisations
        assert _count(nrm_env, LocalAuthority) == 22
        assert _count(nrm_env, AuditEvent) == events


class TestUsersCreate:
    def test_creates_a_user_who_can_then_exist(self, nrm_env: str) -> None:
        main(["db", "upgrade"])
        code = main(
            [
                "users",
                "create",
                "--username",
                "ops-admin",
                "--password",
                "a-long-password-1",
                "--organisation",
                "all-wales-decision-unit",
                "--role",
                "admin",
                "--role",
                "auditor",
            ]
        )
        assert code == 0
        assert _count(nrm_env, User) == 1

    def test_refuses_a_short_password_with_status_1(
        self, nrm_env: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        main(["db", "upgrade"])
        code = main(
            [
                "users",
                "create",
                "--username",
                "ops-admin",
                "--password",
                "short",
                "--organisation",
                "all-wales-decision-unit",
                "--role",
                "admin",
            ]
        )
        assert code == 1
        assert "password" in capsys.readouterr().err
        assert _count(nrm_env, User) == 0


class TestSeedDemo:
    def test_seeds_one_user_per_role_and_is_idempotent(self, nrm_env: str) -> None:
        main(["db", "upgrade"])
        assert main(["seed", "demo"]) == 0
        users = _count(nrm_env, User)
        assert users >= 7
        assert main(["seed", "demo"]) == 0
        assert _count(nrm_env, User) == users
