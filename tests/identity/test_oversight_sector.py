"""The sector `oversight` (API.md: inspectors and auditors; decides nothing), and revision 0006
that admits it and moves the demo's oversight office into it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli import alembic_config
from app.identity.roles import Role
from tests.conftest import fresh_engine
from tests.databases import Backend
from tests.factories import make_user


class TestTheSector:
    async def test_an_admin_creates_an_oversight_organisation(
        self, app: FastAPI, db: AsyncSession, client: httpx.AsyncClient
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)
        body = {"code": "inspectorate", "name": "Inspectorate", "sector": "oversight"}
        response = await client.post("/api/v1/organisations", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        assert response.json()["sector"] == "oversight"


@pytest.fixture
def empty_url(backend: Backend) -> Iterator[str]:
    url = backend.empty()
    try:
        yield url
    finally:
        backend.drop(url)


async def _sql(url: str, statement: str, **params: object) -> object:
    engine = fresh_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


def _organisation(url: str, code: str, sector: str) -> None:
    insert = (
        "INSERT INTO organisations (id, code, name, name_cy, sector)"
        " VALUES (:id, :code, :code, :code, :sector)"
    )
    asyncio.run(_sql(url, insert, id=uuid.uuid4().hex, code=code, sector=sector))


def _sector(url: str, code: str) -> object:
    return asyncio.run(_sql(url, "SELECT sector FROM organisations WHERE code = :c", c=code))


class TestRevision0006:
    def test_moves_the_demo_oversight_office_and_admits_the_sector(self, empty_url: str) -> None:
        config = alembic_config(empty_url)
        command.upgrade(config, "0005")
        _organisation(empty_url, "wales-nrm-oversight", "decision_unit")
        _organisation(empty_url, "cardiff-child-decision-panel", "decision_unit")
        with pytest.raises(IntegrityError, match=r"(?i)check"):
            _organisation(empty_url, "too-early", "oversight")
        command.upgrade(config, "0006")
        assert _sector(empty_url, "wales-nrm-oversight") == "oversight"
        assert _sector(empty_url, "cardiff-child-decision-panel") == "decision_unit"
        _organisation(empty_url, "inspectorate", "oversight")
        command.downgrade(config, "0005")
        assert _sector(empty_url, "wales-nrm-oversight") == "decision_unit"
