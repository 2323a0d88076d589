"""Cursors are opaque and signed (app/http.py): a cursor the service did not sign for this list
is 422 on `cursor`, whatever it holds, before anything reads what is inside it (issue 9, item 5:
a cursor of deeply nested JSON was a RecursionError, a time near the year 9999 with a negative
offset an OverflowError, both 500 on every list)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.http import cursor_key, decode_cursor, encode_cursor
from app.identity.roles import Role
from app.settings import Settings
from tests.factories import AppUser, make_user

KEY = cursor_key(Settings(secret_key="k" * 32))
LISTS = ("/api/v1/referrals", "/api/v1/queue", "/api/v1/organisations", "/api/v1/audit/events")


def unsigned(text: str) -> str:
    """A cursor as a client could forge it: base64 of any JSON, as cursors once were."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


FORGED = {
    "deeply nested JSON": unsigned("[" * 1400 + "]" * 1),
    "a time near 9999 with a negative offset": unsigned(
        json.dumps({"created_at": "9999-12-31T23:59:59-05:00", "id": "0" * 32})
    ),
    "a seq": unsigned('{"seq": 1}'),
    "a signature of another key": encode_cursor(
        {"seq": 1}, key=cursor_key(Settings(secret_key="x" * 32)), scope="/api/v1/audit/events"
    ),
    "no signature": "eyJzZXEiOjF9.",
    "not base64": "not a cursor!",
}


@pytest.fixture
async def reader(app: FastAPI, db: AsyncSession) -> AppUser:
    # Auditors read the trail, the referrals and the organisations (any user may).
    return await make_user(app, db, Role.AUDITOR)


@pytest.fixture
async def decider(app: FastAPI, db: AsyncSession) -> AppUser:
    # The queue is the deciders' (an auditor never also decides: docs/separation.md).
    return await make_user(app, db, Role.DECISION_MAKER)


@pytest.fixture
async def admin(app: FastAPI, db: AsyncSession) -> AppUser:
    # The outbox is the admins'.
    return await make_user(app, db, Role.ADMIN)


class TestSignedCursors:
    def test_reads_back_what_it_signed(self) -> None:
        cursor = encode_cursor({"seq": 7, "at": "x"}, key=KEY, scope="/list")

        assert decode_cursor(cursor, key=KEY, scope="/list") == {"seq": 7, "at": "x"}

    @pytest.mark.parametrize(
        ("key", "scope"),
        [(cursor_key(Settings(secret_key="y" * 32)), "/list"), (KEY, "/another-list")],
    )
    def test_refuses_a_cursor_signed_with_another_key_or_for_another_list(
        self, key: bytes, scope: str
    ) -> None:
        cursor = encode_cursor({"seq": 7}, key=key, scope=scope)

        with pytest.raises(ValidationFailed) as refused:
            decode_cursor(cursor, key=KEY, scope="/list")
        assert [e.field for e in refused.value.errors] == ["cursor"]

    def test_refuses_a_cursor_whose_content_was_changed(self) -> None:
        mac = encode_cursor({"seq": 7}, key=KEY, scope="/list").split(".")[1]
        changed = f"{unsigned(json.dumps({'seq': 1}))}.{mac}"

        with pytest.raises(ValidationFailed):
            decode_cursor(changed, key=KEY, scope="/list")

    def test_derives_its_key_from_the_secret_without_being_the_secret(self) -> None:
        secret = "k" * 32
        derived = cursor_key(Settings(secret_key=secret))
        assert derived == KEY
        assert secret.encode() not in derived
        assert cursor_key(Settings(secret_key="l" * 32)) != derived


class TestForgedCursorsOnEveryList:
    @pytest.mark.parametrize("path", LISTS)
    @pytest.mark.parametrize("forged", FORGED.values(), ids=FORGED.keys())
    async def test_are_422_on_cursor(
        self,
        client: httpx.AsyncClient,
        reader: AppUser,
        decider: AppUser,
        path: str,
        forged: str,
    ) -> None:
        user = decider if path.endswith("/queue") else reader
        response = await client.get(path, params={"cursor": forged}, headers=user.headers)

        assert response.status_code == 422, response.text
        assert response.json()["type"] == "/problems/validation-failed"
        assert [e["field"] for e in response.json()["errors"]] == ["cursor"]

    async def test_a_cursor_of_one_list_is_refused_by_another(
        self, client: httpx.AsyncClient, reader: AppUser
    ) -> None:
        first = await client.get(
            "/api/v1/organisations", params={"limit": 1}, headers=reader.headers
        )
        cursor = first.json()["next_cursor"]
        assert cursor is not None  # the reference data holds many organisations

        followed = await client.get(
            "/api/v1/organisations", params={"cursor": cursor}, headers=reader.headers
        )
        elsewhere = await client.get(
            "/api/v1/referrals", params={"cursor": cursor}, headers=reader.headers
        )

        assert followed.status_code == 200
        assert elsewhere.status_code == 422
        assert [e["field"] for e in elsewhere.json()["errors"]] == ["cursor"]


SIGNED_BUT_UNUSABLE = {
    "/api/v1/organisations": [{}, {"seq": 1}, {"code": 7}],
    "/api/v1/referrals": [
        {},
        {"created_at": "9999-12-31T23:59:59-05:00", "id": "0" * 32},
        {"created_at": "0001-01-01T00:00:00+05:00", "id": "0" * 32},
        {"created_at": "2026-01-01T00:00:00", "id": "0" * 32},
    ],
    "/api/v1/audit/events": [{}, {"seq": "1"}, {"seq": -1}],
    "/api/v1/queue": [{}, {"due": 1, "reference": "NRM-W-2026-000001"}, {"due": "2026-12-04"}],
    "/api/v1/notifications": [
        {},
        {"created_at": "2026-01-01T00:00:00+00:00", "id": "not a uuid"},
        {"created_at": "2026-01-01T00:00:00", "id": "0" * 32},
        {"created_at": "9999-12-31T23:59:59-05:00", "id": "0" * 32},
    ],
}


class TestSignedCursorsWithValuesAListCannotUse:
    """Whoever holds the secret (a development install keeps the default) can sign anything:
    a list still answers 422 on `cursor`, never 500, for values it cannot use."""

    @pytest.mark.parametrize(
        ("path", "values"),
        [(path, values) for path, cases in SIGNED_BUT_UNUSABLE.items() for values in cases],
    )
    async def test_are_422_on_cursor(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        reader: AppUser,
        decider: AppUser,
        admin: AppUser,
        path: str,
        values: dict[str, object],
    ) -> None:
        cursor = encode_cursor(values, key=cursor_key(app.state.settings), scope=path)
        user = {"/api/v1/queue": decider, "/api/v1/notifications": admin}.get(path, reader)

        response = await client.get(path, params={"cursor": cursor}, headers=user.headers)

        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["cursor"]
