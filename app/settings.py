"""Configuration of the service: one `Settings`, read from `NRM_*` environment variables.

Nothing here connects to anything. Production needs exactly three settings (`NRM_SECRET_KEY`,
`NRM_AUDIT_SIGNING_KEY` and a PostgreSQL `NRM_DATABASE_URL`); every other default is safe there.
`Settings` refuses values that are unsafe in production (the development secret, a short secret,
the test clock, SQLite) and accepts the plain database URL forms (`sqlite:///…`,
`postgresql://…`, `postgres://…`), choosing the service's async driver for them.
`docs/operations.md` and the README list every setting.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-secret-change-me-in-production"  # noqa: S105 - the refused default
STATISTICS_MAX_SPAN_DAYS = 3660
"""The default longest statistics period: ten years and their leap days, with a week to spare."""

# The URL schemes accepted, each with the async driver the service uses for it.
DATABASE_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg_async",
}
SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")
"""How `NRM_SMTP_URL` may reach the mail server: plain, upgraded with STARTTLS, or TLS."""


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
    # argon2-cffi's defaults are 3 passes over 64 MiB; the bounds keep a typo from hanging.
    argon2_time_cost: int | None = Field(default=None, ge=1, le=100)
    argon2_memory_kib: int | None = Field(default=None, ge=8, le=4 * 1024 * 1024)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_json: bool = True
    # The workflow's numbers (DESIGN §4).
    rg_due_working_days: int = Field(default=5, ge=1)
    recovery_period_days: int = Field(default=30, ge=1)
    panel_review_working_days: int = Field(default=10, ge=1)
    reconsideration_working_days: int = Field(default=5, ge=1)
    guidance_version: str = Field(default="rg-2023-07", min_length=1, max_length=64)
    # Audit checkpoints are signed with this Ed25519 seed (base64 of 32 bytes).
    audit_signing_key: str | None = None
    suppression_threshold: int = Field(default=5, ge=1)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    # Log-in throttling (app.identity.throttle): this many failed log-ins of one username,
    # whether or not it exists, or from one client address within the window lock that key:
    # attempts get 429 until the lock ends. The first lock lasts `login_lockout_first_seconds`,
    # each next one twice as long, up to `login_lockout_longest_minutes`. The address is the
    # TCP peer (behind a proxy, uvicorn's --proxy-headers and --forwarded-allow-ips decide it).
    login_failures_allowed: int = Field(default=10, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)
    login_address_failures_allowed: int = Field(default=100, ge=1)
    login_lockout_first_seconds: int = Field(default=60, ge=1)
    login_lockout_longest_minutes: int = Field(default=60, ge=1)
    # Denial of service (docs/operations.md "Time limits"): the longest statistics period, in
    # days; the time limit of one statement of a request (PostgreSQL `statement_timeout`, a
    # progress handler on SQLite), and the longer one that `GET /audit/verify` walks under.
    statistics_max_span_days: int = Field(default=STATISTICS_MAX_SPAN_DAYS, ge=1, le=36_600)
    statement_timeout_ms: int = Field(default=30_000, ge=100)
    audit_verify_timeout_ms: int = Field(default=900_000, ge=100)
    # Admission control (app.admission, docs/performance.md "Overload"): requests in flight
    # per worker process, far above ordinary use; one beyond them waits up to the admission
    # wait for a slot, then gets 503 `overloaded`. The probes and /metrics are never counted.
    max_concurrent_requests: int = Field(default=200, ge=1, le=100_000)
    admission_wait_ms: int = Field(default=100, ge=0, le=10_000)
    # Uvicorn worker processes of `nrm serve` (its `--workers` wins when given).
    workers: int = Field(default=1, ge=1, le=64)
    # The web service (WEB.md "Sessions and safety"): a session ends after this many minutes
    # without a request (real clock); its cookie is `Secure` in production.
    web_session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Notifications (docs/notifications.md): links start with the public URL; mail goes by SMTP
    # when `smtp_url` is set (smtp://, smtp+starttls://, smtps://, credentials in the URL),
    # else into `.eml` files in `mail_dir`. `nrm serve` runs a worker in-process unless
    # `worker` is `external` (then run `nrm worker` beside it).
    public_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s]+$")
    smtp_url: str | None = None
    mail_from: str = Field(default="Wales NRM <nrm@localhost>", min_length=3, max_length=320)
    mail_dir: str = "./mail"
    mail_max_attempts: int = Field(default=8, ge=1, le=50)
    # The wait after a first failed attempt; each next one doubles it (at most six hours).
    mail_retry_seconds: float = Field(default=60.0, ge=0, le=86_400)
    worker: Literal["in-process", "external"] = "in-process"
    worker_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Decision letters (docs/letters.md): the folder of the DejaVu Sans TTF files embedded in
    # every letter (Debian's `fonts-dejavu-core`, which `make` and the image install).
    letter_font_dir: str = "/usr/share/fonts/truetype/dejavu"
    # Reserved for the encryption of personal data at rest (later work); accepted, not yet used.
    data_keys: str | None = None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        """`sqlite:///x.db` → `sqlite+aiosqlite:///x.db`, `postgres[ql]://` → `+psycopg`."""
        scheme, separator, rest = url.partition("://")
        driver = DATABASE_SCHEMES.get(scheme.lower())
        if not separator or driver is None:
            raise ValueError(
                "NRM_DATABASE_URL must be a SQLite (sqlite:///path) or PostgreSQL "
                "(postgresql://user:password@host:5432/name) URL"
            )
        return f"{driver}://{rest}"

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, url: str | None) -> str | None:
        if not url:
            return None
        if url.partition("://")[0].lower() not in SMTP_SCHEMES:
            raise ValueError(
                "NRM_SMTP_URL must start with smtp://, smtp+starttls:// or smtps:// "
                "(smtp://user:password@host:587)"
            )
        return url

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, level: object) -> object:
        return level.upper() if isinstance(level, str) else level

    @field_validator("audit_signing_key")
    @classmethod
    def _ed25519_seed(cls, key: str | None) -> str | None:
        """Refused at start, not at the first checkpoint: base64 of exactly 32 bytes."""
        if not key:
            return None
        try:
            seed = base64.b64decode(key, validate=True)
        except binascii.Error:
            seed = b""
        if len(seed) != 32:
            raise ValueError(
                "NRM_AUDIT_SIGNING_KEY must be the base64 of 32 bytes (make one with "
                "`nrm audit keygen`)"
            )
        return key

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
        if self.is_sqlite:
            raise ValueError("NRM_DATABASE_URL must be a PostgreSQL URL in production, not SQLite")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
