"""The `nrm` command against a fresh database of its own."""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select

from app import clock
from app.audit.models import AuditEvent
from app.cli import main
from app.db import create_sessionmaker, transaction
from app.identity.models import LocalAuthority, Organisation, User, UserRole
from app.identity.security import verify_password
from app.settings import get_settings
from tests.conftest import fresh_engine
from tests.databases import Backend

SEED = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # base64 of 32 bytes
ADMIN = ["--organisation", "all-wales-decision-unit", "--role", "admin"]
PASSWORD = ["--password", "Tq7-vx9-Lm2-pw8-Zk4-checkpoint"]


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

    def test_warns_of_a_user_holding_roles_that_may_not_be_combined(
        self, nrm_env: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["db", "upgrade"]) == 0
        asyncio.run(_store_legacy_user(nrm_env, "legacy-mixed", ["auditor", "decision_maker"]))
        capsys.readouterr()

        assert main(["db", "upgrade"]) == 0

        err = capsys.readouterr().err
        assert "warning: user legacy-mixed holds roles that may not be held together" in err
        assert "auditor, decision_maker" in err


async def _store_legacy_user(url: str, username: str, roles: list[str]) -> None:
    """A user written straight to the tables, as a row from before the role rule would be."""
    engine = fresh_engine(url)
    async with transaction(create_sessionmaker(engine)) as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.code == "all-wales-decision-unit")
        )
        assert org is not None
        session.add(
            User(
                username=username,
                display_name="Legacy",
                password_hash="!unusable",
                organisation_id=org.id,
                is_active=True,
                created_at=clock.real_now(),
                role_rows=[UserRole(role=r) for r in roles],
            )
        )
    await engine.dispose()


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
            ]
        )
        assert code == 0
        assert _count(nrm_env, User) == 1

    def test_reads_the_password_from_standard_input_for_a_dash(
        self, nrm_env: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        main(["db", "upgrade"])
        monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-from-stdin\n"))
        args = ["--username", "ops-admin", "--password", "-", *ADMIN]
        assert main(["users", "create", *args]) == 0

        async def stored_hash() -> str:
            engine = fresh_engine(nrm_env)
            async with engine.connect() as connection:
                value = await connection.scalar(select(User.password_hash))
            await engine.dispose()
            return str(value)

        settings = get_settings()
        assert verify_password(settings, asyncio.run(stored_hash()), "a-long-password-from-stdin")

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


def _production(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Only the three settings production needs, nothing else of NRM_."""
    for name in [n for n in os.environ if n.startswith("NRM_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NRM_ENV", "production")
    monkeypatch.setenv("NRM_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("NRM_AUDIT_SIGNING_KEY", SEED)
    monkeypatch.setenv("NRM_DATABASE_URL", url)
    get_settings.cache_clear()


def _privileges(url: str, role: str, table: str) -> set[str]:
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        return {
            kind
            for kind in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            if connection.execute(
                "SELECT has_table_privilege(%s, %s, %s)", (role, table, kind)
            ).fetchone()
            == (True,)
        }


class TestDbUpgradeInProduction:
    def test_runs_with_only_the_three_production_settings(
        self, backend: Backend, fresh_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if backend.name != "postgresql":
            pytest.skip("production runs on PostgreSQL only")
        _production(monkeypatch, fresh_url.replace("postgresql+psycopg://", "postgresql://"))
        try:
            assert main(["db", "upgrade"]) == 0
        finally:
            get_settings.cache_clear()
        assert _count(fresh_url, LocalAuthority) == 22

    def test_grants_a_role_the_service_privileges_but_no_change_to_audit_events(
        self, backend: Backend, nrm_env: str
    ) -> None:
        if backend.name != "postgresql":
            pytest.skip("roles exist on PostgreSQL only")
        role = f"nrm_app_{os.urandom(4).hex()}"
        admin = nrm_env.replace("+psycopg", "")
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"CREATE ROLE {role}")
        try:
            assert main(["db", "upgrade", "--grant-to", role]) == 0
            assert _privileges(nrm_env, role, "audit_events") == {"SELECT", "INSERT"}
            assert _privileges(nrm_env, role, "alembic_version") == {"SELECT"}
            assert {"SELECT", "INSERT", "UPDATE", "DELETE"} <= _privileges(nrm_env, role, "users")
        finally:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f"DROP OWNED BY {role}")
                connection.execute(f"DROP ROLE {role}")

    def test_grant_to_is_refused_on_sqlite_in_one_line(
        self, backend: Backend, nrm_env: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        if backend.name != "sqlite":
            pytest.skip("SQLite only")
        assert main(["db", "upgrade", "--grant-to", "nrm_app"]) == 2
        assert (
            capsys.readouterr().err == "error: --grant-to needs PostgreSQL: SQLite has no roles\n"
        )

    def test_a_plain_sqlite_url_migrates(
        self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url = f"sqlite:///{tmp_path / 'plain.db'}"
        monkeypatch.setenv("NRM_DATABASE_URL", url)
        monkeypatch.setenv("NRM_ENV", "test")
        get_settings.cache_clear()
        try:
            assert main(["db", "upgrade"]) == 0
        finally:
            get_settings.cache_clear()
        assert _count(url.replace("sqlite://", "sqlite+aiosqlite://"), LocalAuthority) == 22


class TestSeedDemoInProduction:
    def test_is_refused_in_one_line_and_creates_nobody(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # Refused before any connection: this server does not exist.
        _production(monkeypatch, "postgresql://nobody@127.0.0.1:9/none")
        try:
            assert main(["seed", "demo"]) == 1
        finally:
            get_settings.cache_clear()
        assert capsys.readouterr().err == (
            "error: demo data are refused in production: "
            "the demo users share a published password\n"
        )


class TestServe:
    @pytest.mark.parametrize(
        "args", [["--port", "99999"], ["--port", "0"], ["--port", "http"], ["--workers", "0"]]
    )
    def test_refuses_a_port_or_worker_count_it_could_not_honour(
        self, args: list[str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as exit_:
            main(["serve", *args])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert "give a whole number from" in err
        assert "serving on" not in err

    def test_prints_its_address_then_starts_uvicorn_with_nrm_workers(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        import uvicorn

        started: dict[str, Any] = {}

        def run(app: str, **options: Any) -> None:
            started.update(options, printed=capsys.readouterr().out)

        monkeypatch.setattr(uvicorn, "run", run)
        monkeypatch.setenv("NRM_WORKERS", "3")
        get_settings.cache_clear()
        try:
            assert main(["serve", "--host", "0.0.0.0", "--port", "8080"]) == 0
        finally:
            get_settings.cache_clear()
        assert started["printed"] == (
            "Wales NRM serving on http://0.0.0.0:8080 (API docs at /docs)\n"
        )
        assert (started["host"], started["port"], started["workers"]) == ("0.0.0.0", 8080, 3)


class TestAuditTimes:
    """The CLI reads times as the API reads `since`/`until` (app.schemas.Moment)."""

    @pytest.mark.parametrize(
        ("given", "why"),
        [
            ("2031-06-01T12:00:00", "timezone"),
            ("2031-06-01", "RFC 3339"),
            ("99999999999", "RFC 3339"),
            ("9999-12-31T23:59:59-05:00", "between the years 1 and 9999"),
            ("0001-01-01T00:00:00+05:00", "between the years 1 and 9999"),
        ],
    )
    def test_a_time_the_api_refuses_is_refused_in_one_line(
        self, given: str, why: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        period = ["--since", given, "--until", "2031-06-02T00:00:00Z"]
        with pytest.raises(SystemExit) as exit_:
            main(["audit", "export", *period])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert why in err
        assert "Traceback" not in err

    def test_an_offset_is_honoured_and_read_in_utc(self) -> None:
        from app.audit.cli import parse_moment

        moment = parse_moment("2031-06-01T13:00:00+01:00")
        assert moment.utcoffset() == timedelta(0)
        assert moment.isoformat() == "2031-06-01T12:00:00+00:00"


class TestCheckpointClock:
    def test_a_checkpoint_made_from_the_cli_is_stamped_by_the_service_clock(
        self, throwaway: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("NRM_DATABASE_URL", throwaway)
        monkeypatch.setenv("NRM_ENV", "test")
        monkeypatch.setenv("NRM_TEST_CLOCK", "1")
        monkeypatch.setenv("NRM_AUDIT_SIGNING_KEY", SEED)
        get_settings.cache_clear()
        try:
            assert main(["users", "create", "--username", "ops-admin", *PASSWORD, *ADMIN]) == 0
            asyncio.run(_advance_test_clock(throwaway, days=40))
            capsys.readouterr()
            assert main(["audit", "checkpoint"]) == 0
        finally:
            get_settings.cache_clear()
        at = json.loads(capsys.readouterr().out)["at"]
        assert at[:10] >= (clock.real_now() + timedelta(days=39)).date().isoformat()


async def _advance_test_clock(url: str, *, days: int) -> None:
    engine = fresh_engine(url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            await clock.advance(session, days)
    finally:
        await engine.dispose()
