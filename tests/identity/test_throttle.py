"""The log-in throttle: per username (known or not) and per client address, with backoff."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.identity import service
from app.identity.models import LoginThrottle
from app.identity.throttle import Counter, Policy
from app.settings import Settings
from tests.factories import PASSWORD, make_user

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WRONG = "not-the-password-at-all"


@contextmanager
def limits(app: FastAPI, **values: int) -> Iterator[Settings]:
    saved = app.state.settings
    app.state.settings = saved.model_copy(update=values)
    try:
        yield app.state.settings
    finally:
        app.state.settings = saved


async def _login(client: httpx.AsyncClient, username: str, password: str = WRONG) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


class TestByUsername:
    async def test_an_unknown_name_is_throttled_exactly_like_a_real_one(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        with limits(app, login_failures_allowed=3):
            for name in (user.username, "nobody-by-this-name"):
                answers = [(await _login(client, name)).status_code for _ in range(3)]
                assert answers == [401, 401, 401]
            real, unknown = (
                await _login(client, user.username),
                await _login(client, "nobody-by-this-name"),
            )
        assert real.status_code == unknown.status_code == 429
        assert real.json()["type"] == unknown.json()["type"] == "/problems/too-many-requests"
        assert real.json()["detail"] == unknown.json()["detail"]
        assert real.headers["retry-after"] == unknown.headers["retry-after"]
        throttled = await db.scalars(
            select(AuditEvent.actor_id).where(AuditEvent.action == "auth.login_throttled")
        )
        assert throttled.all() == [user.id, None]  # an unknown name's events are the system's

    async def test_the_refusal_says_when_to_try_again_in_words(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        with limits(app, login_failures_allowed=1, login_lockout_first_seconds=90):
            await _login(client, "someone")
            refused = await _login(client, "someone")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 90
        assert (
            refused.json()["detail"] == "Too many failed sign-in attempts: try again in 2 minutes."
        )

    async def test_a_right_password_forgets_the_names_failures(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        with limits(app, login_failures_allowed=3):
            for _ in range(2):
                assert (await _login(client, user.username)).status_code == 401
            assert (await _login(client, user.username, PASSWORD)).status_code == 200
            answers = [(await _login(client, user.username)).status_code for _ in range(4)]
        assert answers == [401, 401, 401, 429]


class TestByAddress:
    async def test_one_address_guessing_at_many_names_is_stopped_and_no_other(
        self, app: FastAPI, db: AsyncSession
    ) -> None:
        user = await make_user(app, db)
        allowed = {"login_failures_allowed": 10, "login_address_failures_allowed": 4}
        async with _client(app, "192.0.2.7") as guesser, _client(app, "198.51.100.9") as office:
            with limits(app, **allowed):
                for n in range(4):
                    assert (await _login(guesser, f"name-{n}")).status_code == 401
                refused = await _login(guesser, user.username, PASSWORD)
                elsewhere = await _login(office, user.username, PASSWORD)
        assert refused.status_code == 429
        assert elsewhere.status_code == 200

    async def test_right_passwords_never_count_against_an_address(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        user = await make_user(app, db)
        with limits(app, login_address_failures_allowed=2):
            for _ in range(5):
                assert (await _login(client, user.username, PASSWORD)).status_code == 200


class TestBackoff:
    POLICY = Policy(
        allowed=2,
        window=timedelta(minutes=15),
        first_lock=timedelta(minutes=1),
        longest_lock=timedelta(minutes=5),
    )

    def test_each_lock_is_twice_the_last_up_to_the_longest(self) -> None:
        counter, now, locks = Counter(), T0, []
        for _ in range(5):
            counter = counter.after_failure(self.POLICY, now)
            counter = counter.after_failure(self.POLICY, now)
            wait = counter.wait(now)
            assert wait is not None
            locks.append(wait)
            now += timedelta(seconds=wait)
            assert counter.wait(now) is None
        assert locks == [60, 120, 240, 300, 300]

    def test_a_key_quiet_for_a_window_after_its_lock_starts_again(self) -> None:
        counter = Counter().after_failure(self.POLICY, T0).after_failure(self.POLICY, T0)
        later = T0 + timedelta(minutes=1) + self.POLICY.window
        assert counter.as_of(later, self.POLICY.window) == Counter()
        again = counter.after_failure(self.POLICY, later).after_failure(self.POLICY, later)
        assert again.wait(later) == 60

    def test_failures_of_a_past_window_count_no_more(self) -> None:
        counter = Counter().after_failure(self.POLICY, T0)
        later = T0 + self.POLICY.window
        assert counter.after_failure(self.POLICY, later).wait(later) is None

    async def test_the_web_door_and_the_api_share_the_counts_and_the_growing_lock(
        self, app: FastAPI, db: AsyncSession
    ) -> None:
        settings = app.state.settings.model_copy(
            update={"login_failures_allowed": 2, "login_lockout_first_seconds": 60}
        )

        async def attempt(at: datetime) -> object:
            return await service.authenticate(
                db, settings, "target", WRONG, address="203.0.113.5", now=at
            )

        assert [await attempt(T0), await attempt(T0)] == [None, None]
        first = await attempt(T0 + timedelta(seconds=1))
        assert first == service.Throttled(59)
        after = T0 + timedelta(minutes=1)
        assert [await attempt(after), await attempt(after)] == [None, None]
        assert await attempt(after) == service.Throttled(120)


class TestTheTable:
    async def test_rows_that_mean_nothing_any_more_are_deleted(
        self, app: FastAPI, db: AsyncSession
    ) -> None:
        settings: Settings = app.state.settings
        for n in range(3):
            await service.authenticate(db, settings, f"gone-{n}", WRONG, address="a", now=T0)
        much_later = T0 + timedelta(days=1)
        await service.authenticate(db, settings, "fresh", WRONG, address="b", now=much_later)
        keys = await db.scalars(select(LoginThrottle.key).order_by(LoginThrottle.key))
        assert keys.all() == ["b", "fresh"]

    @pytest.mark.parametrize("length", [64, 5000])
    async def test_any_username_fits_its_row(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient, length: int
    ) -> None:
        assert (await _login(client, "x" * length)).status_code == 401
        count = await db.scalar(select(func.count()).select_from(LoginThrottle))
        assert count == 2
