"""Settings refuse unsafe production values (template's _enforce_non_default_secrets)."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from app.settings import DEVELOPMENT_SECRET, Settings

SAFE = {
    "env": "production",
    "secret_key": "k" * 32,
    "audit_signing_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "database_url": "postgresql://nrm_app@db.internal/nrm",
}


class TestProductionSettings:
    def test_refuses_the_development_secret(self) -> None:
        with pytest.raises(ValidationError, match="NRM_SECRET_KEY must be set"):
            Settings.model_validate({**SAFE, "secret_key": DEVELOPMENT_SECRET})

    def test_refuses_a_secret_shorter_than_32_bytes(self) -> None:
        with pytest.raises(ValidationError, match="at least 32 bytes"):
            Settings.model_validate({**SAFE, "secret_key": "k" * 31})

    def test_refuses_the_test_clock(self) -> None:
        with pytest.raises(ValidationError, match="TEST_CLOCK"):
            Settings.model_validate({**SAFE, "test_clock": True})

    def test_accepts_a_safe_configuration(self) -> None:
        assert Settings.model_validate(SAFE).secret_key == "k" * 32

    def test_reads_nrm_prefixed_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NRM_TOKEN_TTL_MINUTES", "7")
        monkeypatch.setenv("NRM_MAX_BODY_BYTES", "4096")
        monkeypatch.setenv("NRM_MAX_CONCURRENT_REQUESTS", "64")
        monkeypatch.setenv("NRM_ADMISSION_WAIT_MS", "0")
        settings = Settings()
        assert (settings.token_ttl_minutes, settings.max_body_bytes) == (7, 4096)
        assert (settings.max_concurrent_requests, settings.admission_wait_ms) == (64, 0)

    def test_development_allows_the_default(self) -> None:
        assert Settings.model_validate({"env": "development"}).secret_key == DEVELOPMENT_SECRET

    def test_production_refuses_to_start_from_the_command_line(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from app.main import app_from_env
        from app.settings import get_settings

        monkeypatch.setenv("NRM_ENV", "production")
        monkeypatch.delenv("NRM_SECRET_KEY", raising=False)
        get_settings.cache_clear()
        try:
            with pytest.raises(ValidationError):
                app_from_env()
        finally:
            get_settings.cache_clear()


SEED = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # base64 of 32 bytes
PRODUCTION_ENV = {
    "NRM_ENV": "production",
    "NRM_SECRET_KEY": "s" * 32,
    "NRM_AUDIT_SIGNING_KEY": SEED,
    "NRM_DATABASE_URL": "postgresql://nrm_app:secret@db.internal:5432/nrm",
}


@pytest.fixture
def only(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No NRM_ variable in the environment but those the test sets."""
    for name in [n for n in os.environ if n.startswith("NRM_")]:
        monkeypatch.delenv(name)
    return monkeypatch


class TestProductionNeedsExactlyThreeSettings:
    def test_the_three_and_nothing_else_validate(self, only: pytest.MonkeyPatch) -> None:
        for name, value in PRODUCTION_ENV.items():
            only.setenv(name, value)
        settings = Settings()
        assert settings.database_url == "postgresql+psycopg://nrm_app:secret@db.internal:5432/nrm"

    @pytest.mark.parametrize(
        ("missing", "message"),
        [
            ("NRM_SECRET_KEY", "NRM_SECRET_KEY must be set in production"),
            ("NRM_AUDIT_SIGNING_KEY", "NRM_AUDIT_SIGNING_KEY must be set in production"),
            ("NRM_DATABASE_URL", "NRM_DATABASE_URL must be a PostgreSQL URL in production"),
        ],
    )
    def test_without_one_of_them_a_clear_error_names_it(
        self, only: pytest.MonkeyPatch, missing: str, message: str
    ) -> None:
        for name, value in PRODUCTION_ENV.items():
            if name != missing:
                only.setenv(name, value)
        with pytest.raises(ValidationError, match=message):
            Settings()

    def test_refuses_sqlite_in_production(self) -> None:
        with pytest.raises(ValidationError, match="PostgreSQL URL in production, not SQLite"):
            Settings.model_validate({**SAFE, "database_url": "sqlite:///./nrm.db"})

    def test_every_other_default_is_safe_in_production(self, only: pytest.MonkeyPatch) -> None:
        for name, value in PRODUCTION_ENV.items():
            only.setenv(name, value)
        settings = Settings()
        assert settings.test_clock is False
        assert settings.log_json is True
        assert settings.log_level == "INFO"
        assert settings.token_ttl_minutes == 30
        assert settings.max_body_bytes == 1024 * 1024
        # None: argon2-cffi's own (RFC 9106) costs; only NRM_ENV=test lowers them.
        assert (settings.argon2_time_cost, settings.argon2_memory_kib) == (None, None)
        assert settings.workers == 1
        # Far above ordinary use (a few dozen at once), docs/performance.md "Overload".
        assert (settings.max_concurrent_requests, settings.admission_wait_ms) == (200, 100)

    def test_accepts_the_reserved_data_keys(self) -> None:
        assert Settings.model_validate({**SAFE, "data_keys": "k1:abc"}).data_keys == "k1:abc"


class TestDatabaseUrl:
    @pytest.mark.parametrize(
        ("given", "used"),
        [
            ("sqlite:///nrm.db", "sqlite+aiosqlite:///nrm.db"),
            ("sqlite:////var/lib/nrm/nrm.db", "sqlite+aiosqlite:////var/lib/nrm/nrm.db"),
            ("sqlite+aiosqlite:///nrm.db", "sqlite+aiosqlite:///nrm.db"),
            ("postgresql://u:p@h:5432/nrm", "postgresql+psycopg://u:p@h:5432/nrm"),
            ("postgres://u:p@h/nrm", "postgresql+psycopg://u:p@h/nrm"),
            ("postgresql+psycopg://u@h/nrm", "postgresql+psycopg://u@h/nrm"),
        ],
    )
    def test_plain_forms_get_the_async_driver(self, given: str, used: str) -> None:
        assert Settings.model_validate({"database_url": given}).database_url == used

    @pytest.mark.parametrize(
        "given",
        ["mysql://u@h/nrm", "postgresql+psycopg2://u@h/nrm", "sqlite+pysqlite:///x", "nrm.db"],
    )
    def test_other_drivers_are_refused_in_words(self, given: str) -> None:
        with pytest.raises(ValidationError, match=r"must be a SQLite .* or PostgreSQL"):
            Settings.model_validate({"database_url": given})


class TestValuesRefusedAtStart:
    """A typo in a setting is one line at start, never a traceback later (issue 9, item 12)."""

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("log_level", "LOUD"),
            ("argon2_memory_kib", 99_999_999_999),
            ("argon2_time_cost", 10_000),
            ("guidance_version", ""),
            ("audit_signing_key", "notbase64!!"),
            ("audit_signing_key", "c2hvcnQ="),  # base64 of 5 bytes
            ("max_concurrent_requests", 0),
            ("admission_wait_ms", -1),
            ("admission_wait_ms", 60_000),
        ],
    )
    def test_is_refused(self, name: str, value: object) -> None:
        with pytest.raises(ValidationError) as error:
            Settings.model_validate({name: value})
        assert [e["loc"] for e in error.value.errors()] == [(name,)]

    def test_a_log_level_is_read_in_any_case(self) -> None:
        assert Settings.model_validate({"log_level": "warning"}).log_level == "WARNING"

    def test_a_key_from_keygen_is_accepted(self) -> None:
        key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        assert Settings.model_validate({"audit_signing_key": key}).audit_signing_key == key
