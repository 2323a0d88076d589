"""Configuration of the service: one `Settings`, read from `NRM_*` environment variables.

Nothing here connects to anything. `Settings` refuses values that are unsafe in production
(the development secret, a short secret, the test clock); `docs/operations.md` and the README
list every setting.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-secret-change-me-in-production"  # noqa: S105 - the refused default


class Environment(StrEnum):
    """Where the service runs: `production` turns on every safety check."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting of the service; see the README's table."""

    model_config = SettingsConfigDict(env_prefix="NRM_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./nrm.db"
    secret_key: str = DEVELOPMENT_SECRET
    token_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    test_clock: bool = False
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    argon2_time_cost: int | None = Field(default=None, ge=1)
    argon2_memory_kib: int | None = Field(default=None, ge=8)
    log_level: str = "INFO"
    log_json: bool = True
    # The workflow's numbers (DESIGN §4).
    rg_due_working_days: int = Field(default=5, ge=1)
    recovery_period_days: int = Field(default=30, ge=1)
    panel_review_working_days: int = Field(default=10, ge=1)
    reconsideration_working_days: int = Field(default=5, ge=1)
    guidance_version: str = "rg-2023-07"
    # Audit checkpoints are signed with this Ed25519 seed (base64 of 32 bytes).
    audit_signing_key: str | None = None
    suppression_threshold: int = Field(default=5, ge=1)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    # Log-in throttling: this many failed log-ins of one user within the window refuse the
    # next attempts with 429 until the oldest of them leaves the window.
    login_failures_allowed: int = Field(default=10, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        # Like the template's _enforce_non_default_secrets: fail at start, never run unsafely.
        if self.env is not Environment.PRODUCTION:
            return self
        if self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("NRM_SECRET_KEY must be set in production")
        if len(self.secret_key.encode()) < 32:
            raise ValueError("NRM_SECRET_KEY must be at least 32 bytes in production")
        if self.test_clock:
            raise ValueError("NRM_TEST_CLOCK is refused in production")
        if not self.audit_signing_key:
            raise ValueError("NRM_AUDIT_SIGNING_KEY must be set in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
