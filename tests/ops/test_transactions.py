"""One request, one transaction: the commit runs before the response is sent (STYLE.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.identity.models import Organisation
from app.identity.roles import Role
from tests.factories import make_user

APP = Path(__file__).resolve().parents[2] / "app"


class TestCommitBeforeResponse:
    async def test_a_failed_commit_is_a_problem_never_a_2xx_and_leaves_no_event(
        self,
        app: FastAPI,
        db: AsyncSession,
        client: httpx.AsyncClient,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        admin = await make_user(app, db, Role.ADMIN)

        async def failing_commit(self: AsyncSession) -> None:
            raise IntegrityError("COMMIT", {}, Exception("forced"))

        monkeypatch.setattr(AsyncSession, "commit", failing_commit)
        response = await client.post(
            "/api/v1/organisations",
            json={"code": "never-saved", "name": "Never", "sector": "charity"},
            headers=admin.headers,
        )
        monkeypatch.undo()
        assert response.status_code >= 500
        assert response.headers["content-type"] == "application/problem+json"
        assert "forced" not in response.text
        assert (
            await db.scalar(select(Organisation).where(Organisation.code == "never-saved")) is None
        )
        assert (
            await db.scalar(
                select(AuditEvent).where(
                    AuditEvent.action == "organisation.created", AuditEvent.actor_id == admin.id
                )
            )
            is None
        )


class TestConventions:
    def test_nothing_but_app_db_commits_or_rolls_back(self) -> None:
        pattern = re.compile(r"\.(commit|rollback)\(")
        offenders: list[Any] = [
            path.relative_to(APP).as_posix()
            for path in APP.rglob("*.py")
            if path.name != "db.py" and pattern.search(path.read_text())
        ]
        assert offenders == []
