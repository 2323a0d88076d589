"""Settings refuse unsafe production values (template's _enforce_non_default_secrets)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import DEVELOPMENT_SECRET, Settings

SAFE = {"env": "production", "secret_key": "k" * 32, "audit_signing_key": "seed"}


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
        settings = Settings()
        assert (settings.token_ttl_minutes, settings.max_body_bytes) == (7, 4096)

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
