"""Password hashing (Argon2) and signed, expiring bearer tokens (JWT, HS256).

Token expiry runs on the real clock, never the test clock (API.md). Under `NRM_ENV=test` the
Argon2 cost is lowered so the suite stays fast; production uses argon2-cffi's defaults unless
the settings say otherwise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.clock import real_now
from app.settings import Environment, Settings

ALGORITHM = "HS256"
# A hash nobody's password matches, so an unknown user costs as much as a wrong password.
_DUMMY_PASSWORD = "not-a-real-password-but-long-enough"  # noqa: S105


@lru_cache(maxsize=8)
def _hasher(time_cost: int | None, memory_kib: int | None) -> PasswordHasher:
    if time_cost is None and memory_kib is None:
        return PasswordHasher()
    defaults = PasswordHasher()
    return PasswordHasher(
        time_cost=time_cost or defaults.time_cost,
        memory_cost=memory_kib or defaults.memory_cost,
        parallelism=1,
    )


def hasher(settings: Settings) -> PasswordHasher:
    """The password hasher for these settings (cheap under `NRM_ENV=test`)."""
    if settings.env is Environment.TEST:
        return _hasher(settings.argon2_time_cost or 1, settings.argon2_memory_kib or 8)
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib)


def hash_password(settings: Settings, password: str) -> str:
    """An Argon2id hash of the password."""
    return hasher(settings).hash(password)


def verify_password(settings: Settings, password_hash: str | None, password: str) -> bool:
    """Whether the password matches; with no hash, burns the same time and says no."""
    ph = hasher(settings)
    try:
        if password_hash is None:
            ph.verify(_dummy_hash(settings), password + "x")
            return False
        return ph.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash(settings: Settings) -> str:
    return _dummy_hash_for(settings.env, settings.argon2_time_cost, settings.argon2_memory_kib)


@lru_cache(maxsize=4)
def _dummy_hash_for(env: Environment, time_cost: int | None, memory_kib: int | None) -> str:
    settings = Settings(env=env, argon2_time_cost=time_cost, argon2_memory_kib=memory_kib)
    return hasher(settings).hash(_DUMMY_PASSWORD)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A bearer token and how many seconds it lives."""

    access_token: str
    expires_in: int


def issue_token(settings: Settings, user_id: uuid.UUID, *, generation: int = 0) -> IssuedToken:
    """A signed token naming the user and their token generation (`users.token_generation`, 0
    for a user never deactivated); roles are re-read from the database on every request."""
    now = real_now()
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    claims = {
        "sub": str(user_id),
        "gen": generation,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)
    return IssuedToken(access_token=token, expires_in=int(ttl.total_seconds()))


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says: whose it is, and the generation it was issued in."""

    user_id: uuid.UUID
    generation: int


def read_token(settings: Settings, token: str) -> TokenClaims | None:
    """The claims of a valid, unexpired token; None for anything else. A token from before
    generations existed has none and counts as generation 0."""
    try:
        claims = jwt.decode(
            token, settings.secret_key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
        generation = claims.get("gen", 0)
        if not isinstance(generation, int) or isinstance(generation, bool):
            return None
        return TokenClaims(uuid.UUID(str(claims["sub"])), generation)
    except (jwt.PyJWTError, ValueError):
        return None
