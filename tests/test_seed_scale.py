"""`nrm seed scale --referrals N`: data generated inside PostgreSQL, with valid audit chains."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.verify import verify_trail
from app.cli import main
from app.db import create_sessionmaker
from app.referrals.models import Decision, Note, Referral
from app.referrals.queries import full_load
from app.referrals.workflow import Stage, Status
from app.reports import service
from app.reports.queries import Period
from app.reports.schemas import REFERRAL_BREAKDOWNS, Breakdown
from app.settings import get_settings
from tests.conftest import fresh_engine
from tests.databases import Backend
from tests.referrals.test_queue_position import expected

REFERRALS = 200
EVENTS_EACH = 20
SEED = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # base64 of 32 bytes
EVERYTHING = Period(date(2023, 1, 1), date(2026, 12, 31))


def _use(monkeypatch: pytest.MonkeyPatch, url: str, env: str = "test") -> None:
    monkeypatch.setenv("NRM_DATABASE_URL", url)
    monkeypatch.setenv("NRM_ENV", env)
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def seeded(backend: Backend) -> Iterator[str]:
    """A database of its own, seeded once with `nrm seed scale --referrals 200`."""
    if backend.name != "postgresql":
        pytest.skip("seed scale generates its data with PostgreSQL's functions")
    url = backend.copy("nrm_x")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _use(monkeypatch, url)
        try:
            assert main(["seed", "scale", "--referrals", str(REFERRALS)]) == 0
        finally:
            get_settings.cache_clear()
    try:
        yield url
    finally:
        backend.drop(url)


@pytest.mark.committing
class TestSeedScale:
    async def test_every_status_appears_with_decisions_and_notes(self, seeded: str) -> None:
        engine = fresh_engine(seeded)
        try:
            async with engine.connect() as connection:
                statuses = set(await connection.scalars(select(Referral.status).distinct()))
                decisions = await connection.scalar(select(func.count(Decision.id)))
                notes = await connection.scalar(select(func.count(Note.id)))
        finally:
            await engine.dispose()
        assert statuses == {s.value for s in Status}
        assert decisions
        assert notes

    async def test_each_referral_holds_its_place_in_the_queue(self, seeded: str) -> None:
        engine = fresh_engine(seeded)
        try:
            async with AsyncSession(engine) as session:
                referrals = (await session.scalars(select(Referral).options(*full_load()))).all()
                positions = [((r.next_action, r.queue_due), expected(r)) for r in referrals]
        finally:
            await engine.dispose()
        assert {stored for stored, _ in positions if stored[0]}  # some wait in the queue
        assert all(stored == worked_out for stored, worked_out in positions)

    async def test_the_audit_trail_verifies_with_twenty_events_a_referral(
        self, seeded: str
    ) -> None:
        engine = fresh_engine(seeded)
        try:
            async with create_sessionmaker(engine)() as session:
                report = await verify_trail(session)
        finally:
            await engine.dispose()
        assert report.valid, report
        # Besides the referrals' streams, the template's reference data event.
        assert REFERRALS * EVENTS_EACH <= report.events_checked <= REFERRALS * EVENTS_EACH + 5

    async def test_statistics_answer_over_the_generated_data(self, seeded: str) -> None:
        engine = fresh_engine(seeded)
        view, threshold = service.AUDITOR_VIEW, 5
        try:
            async with create_sessionmaker(engine)() as session:
                for by in sorted(REFERRAL_BREAKDOWNS):
                    stats = await service.referral_statistics(
                        session, view, by=by, period=EVERYTHING, threshold=threshold
                    )
                    assert stats.rows
                for stage in Stage:
                    for by in Breakdown:
                        await service.decision_statistics(
                            session,
                            view,
                            by=by,
                            stage=stage,
                            period=EVERYTHING,
                            threshold=threshold,
                        )
                        await service.disparity_statistics(
                            session,
                            view,
                            by=by,
                            stage=stage,
                            period=EVERYTHING,
                            threshold=threshold,
                        )
        finally:
            await engine.dispose()


class TestSeedScaleRefused:
    def test_on_sqlite_in_one_line_with_status_2(
        self, tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        _use(monkeypatch, f"sqlite:///{tmp_path}/scale.db")
        try:
            assert main(["seed", "scale", "--referrals", "10"]) == 2
        finally:
            get_settings.cache_clear()
        assert capsys.readouterr().err == (
            "error: seed scale needs PostgreSQL: SQLite cannot generate the data\n"
        )

    def test_in_production_in_one_line_with_status_1(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # Refused before any connection: this server does not exist.
        _use(monkeypatch, "postgresql://nobody@127.0.0.1:9/none", env="production")
        monkeypatch.setenv("NRM_SECRET_KEY", "s" * 32)
        monkeypatch.setenv("NRM_AUDIT_SIGNING_KEY", SEED)
        try:
            assert main(["seed", "scale", "--referrals", "10"]) == 1
        finally:
            get_settings.cache_clear()
        assert capsys.readouterr().err == (
            "error: scale data are refused in production: they go round the workflow's rules\n"
        )
