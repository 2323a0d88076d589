"""Signed checkpoints: made in batches, stored, served, and proof that no stream was cut or removed.

Real commits on a database of each test's own; tampering drops the append-only triggers first.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.audit import checkpoints, fences, proofs
from app.audit import service as audit
from app.audit.models import AuditCheckpoint, AuditEvent, AuditStream, Track
from app.audit.verify import verify_trail
from app.db import create_sessionmaker, transaction
from app.identity.roles import Role
from app.settings import Settings
from tests.audit.tampering import as_stored, event_row, swap_seqs, tamper
from tests.conftest import fresh_engine
from tests.databases import Backend, settings_for
from tests.factories import make_user

pytestmark = pytest.mark.committing

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DOCUMENT_KEYS = {"at", "seq", "streams", "root", "signature", "public_key"}


@dataclass
class Log:
    """A database of the test's own with its settings (signing key included)."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings

    async def append(self, stream: str, count: int) -> list[int]:
        async with transaction(self.sessions) as session:
            return [
                (
                    await audit.record(
                        session,
                        audit.SYSTEM,
                        action="test.appended",
                        track=Track.ADMIN,
                        now=NOW,
                        stream=stream,
                        changes={"n": {"after": n}},
                    )
                ).seq
                for n in range(count)
            ]

    async def checkpoint(self, *, now: datetime = NOW, force: bool = True) -> dict[str, Any] | None:
        return await checkpoints.make_checkpoint(self.sessions, self.settings, now=now, force=force)

    async def tamper(self, *statements: Any) -> None:
        await tamper(self.engine, *statements)

    async def heads(self) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = await session.execute(select(AuditStream).order_by(AuditStream.stream))
            return [{"stream": s.stream, "length": s.length, "head": s.head} for (s,) in rows.all()]

    async def stored(self) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count(AuditCheckpoint.id))) or 0)

    async def verify(self, document: dict[str, Any]) -> Any:
        async with transaction(self.sessions) as session:
            return await verify_trail(
                session,
                checkpoints=[document],
                public_key=checkpoints.public_key(self.settings),
            )


@pytest.fixture
async def log(throwaway: str) -> AsyncIterator[Log]:
    engine = fresh_engine(throwaway)
    try:
        yield Log(engine, create_sessionmaker(engine), settings_for(throwaway))
    finally:
        await engine.dispose()


def _streams() -> tuple[str, str]:
    return f"test:{uuid.uuid4()}", f"test:{uuid.uuid4()}"


class TestSigningKey:
    async def test_refuses_to_make_one_without_a_key_in_production_and_stores_nothing(
        self, log: Log
    ) -> None:
        # Settings refuse to start production without a key; this is the second line.
        log.settings = log.settings.model_copy(
            update={"audit_signing_key": None, "env": "production"}
        )
        with pytest.raises(checkpoints.CheckpointError, match="nrm audit keygen"):
            await log.checkpoint()
        assert await log.stored() == 0

    async def test_signs_with_a_key_derived_from_the_secret_outside_production(
        self, log: Log
    ) -> None:
        log.settings = log.settings.model_copy(update={"audit_signing_key": None})
        document = await log.checkpoint()
        derived = checkpoints.public_key(log.settings)
        assert document is not None
        assert proofs.verify_checkpoint_signature(document, expected_public_key=derived)
        other = log.settings.model_copy(update={"secret_key": "another-development-secret"})
        assert checkpoints.public_key(other) != derived

    async def test_refuses_a_key_that_is_not_an_ed25519_seed(self, log: Log) -> None:
        log.settings = log.settings.model_copy(update={"audit_signing_key": "c2hvcnQ="})
        with pytest.raises(checkpoints.CheckpointError, match="32-byte"):
            await log.checkpoint()


class TestMakeCheckpoint:
    async def test_signs_every_streams_length_and_head_under_the_merkle_root(
        self, log: Log
    ) -> None:
        one, two = _streams()
        await log.append(one, 3)
        seqs = await log.append(two, 2)
        document = await log.checkpoint()
        assert document is not None
        assert set(document) == DOCUMENT_KEYS
        assert document["at"] == "2026-11-30T09:00:00.000000Z"
        assert document["seq"] == seqs[-1]
        assert document["streams"] == await log.heads()
        leaves = [
            proofs.stream_leaf(e["stream"], e["length"], e["head"]) for e in document["streams"]
        ]
        assert document["root"] == proofs.merkle_root(leaves)
        assert document["public_key"] == checkpoints.public_key(log.settings)
        assert proofs.verify_checkpoint_signature(
            document, expected_public_key=checkpoints.public_key(log.settings)
        )
        assert await log.stored() == 1

    async def test_extends_the_previous_checkpoint_with_the_events_after_it(self, log: Log) -> None:
        one, two = _streams()
        await log.append(one, 2)
        first = await log.checkpoint()
        await log.append(one, 2)
        seqs = await log.append(two, 1)
        second = await log.checkpoint()
        assert first is not None
        assert second is not None
        assert second["seq"] == seqs[-1] > first["seq"]
        assert second["streams"] == await log.heads()
        assert {"stream": one, "length": 4} == {
            k: v
            for e in second["streams"]
            if e["stream"] == one
            for k, v in e.items()
            if k != "head"
        }

    async def test_without_force_makes_none_when_nothing_was_appended(self, log: Log) -> None:
        await log.append(_streams()[0], 1)
        assert await log.checkpoint(force=False) is not None
        assert await log.checkpoint(force=False) is None
        assert await log.stored() == 1
        assert await log.checkpoint() is not None  # `nrm audit checkpoint` always makes one

    async def test_refuses_to_sign_events_that_do_not_extend_their_chains(self, log: Log) -> None:
        one, _ = _streams()
        await log.append(one, 1)
        await log.checkpoint()
        seqs = await log.append(one, 2)
        await log.tamper(update(AuditEvent).where(AuditEvent.seq == seqs[0]).values(hash="0" * 64))
        with pytest.raises(checkpoints.CheckpointError, match=f"seq {seqs[0]}"):
            await log.checkpoint()
        assert await log.stored() == 1

    async def test_refuses_to_sign_a_stream_whose_seqs_were_swapped(self, log: Log) -> None:
        one, _ = _streams()
        await log.append(one, 1)
        await log.checkpoint()
        seqs = await log.append(one, 3)
        await log.tamper(*swap_seqs(seqs[0], seqs[2]))
        with pytest.raises(checkpoints.CheckpointError, match=f"seq {seqs[1]} does not extend"):
            await log.checkpoint()
        assert await log.stored() == 1

    async def test_starts_afresh_when_the_stored_checkpoint_is_not_validly_signed(
        self, log: Log
    ) -> None:
        one, two = _streams()
        await log.append(one, 2)
        await log.checkpoint()
        async with log.engine.begin() as connection:  # claim the stream was longer
            document = await connection.scalar(select(AuditCheckpoint.document))
            assert document is not None
            forged = document.replace('"length":2', '"length":9')
            await connection.execute(update(AuditCheckpoint).values(document=forged))
        await log.append(two, 1)
        document = await log.checkpoint()
        assert document is not None
        assert document["streams"] == await log.heads()

    async def test_runs_one_batch_at_a_time_across_workers(
        self, backend: Backend, log: Log
    ) -> None:
        if backend.name != "postgresql":
            pytest.skip("SQLite's IMMEDIATE transactions serialise batches anyway")
        await log.append(_streams()[0], 1)
        async with log.engine.connect() as other_worker:
            await other_worker.execute(select(func.pg_advisory_xact_lock(fences.BATCH_LOCK_KEY)))
            batch = asyncio.create_task(log.checkpoint())
            done, _ = await asyncio.wait({batch}, timeout=0.5)
            assert not done
            await other_worker.rollback()
        assert await batch is not None


class TestCoverage:
    async def test_an_intact_trail_covers_its_checkpoint_and_may_grow(self, log: Log) -> None:
        one, two = _streams()
        await log.append(one, 3)
        await log.append(two, 2)
        document = await log.checkpoint()
        assert document is not None
        await log.append(one, 2)
        report = await log.verify(document)
        assert (report.valid, report.problems, report.checkpoint_seq) == (
            True,
            [],
            document["seq"],
        )

    async def test_fails_when_a_streams_newest_events_are_cut_off(self, log: Log) -> None:
        one, two = _streams()
        seqs = await log.append(one, 4)
        await log.append(two, 2)
        document = await log.checkpoint()
        assert document is not None
        await log.tamper(delete(AuditEvent).where(AuditEvent.seq.in_(seqs[2:])))
        report = await log.verify(document)
        assert report.valid is False
        # Every remaining link holds; the stream's record still says 4 events, so its newest
        # surviving event is reported. The checkpoint's problem stands for the stream's record.
        assert report.first_invalid_seq == seqs[1]
        assert report.problems == [f"stream {one} cut short: 2 events, the checkpoint has 4"]

    async def test_fails_when_a_whole_stream_is_removed(self, log: Log) -> None:
        one, two = _streams()
        await log.append(one, 2)
        await log.append(two, 3)
        document = await log.checkpoint()
        assert document is not None
        await log.tamper(delete(AuditEvent).where(AuditEvent.stream == two))
        report = await log.verify(document)
        assert report.valid is False
        assert report.problems == [f"stream {two} removed: the checkpoint has 3 events"]

    async def test_fails_when_a_stream_is_rewritten_with_valid_links(self, log: Log) -> None:
        one, _ = _streams()
        seqs = await log.append(one, 3)
        document = await log.checkpoint()
        assert document is not None
        async with log.sessions() as session:
            prev = await session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seqs[0]))
        forged = []
        for position in (2, 3, 4):  # as long as before and longer, every link valid
            row = event_row(
                stream=one,
                position=position,
                prev_hash=prev,
                actor=audit.SYSTEM,
                action="test.forged",
                track=Track.ADMIN,
                now=NOW,
                referral_id=None,
                changes={},
                request_id=None,
            )
            forged.append(insert(AuditEvent).values(as_stored(log.engine, row)))
            prev = row["hash"]
        await log.tamper(delete(AuditEvent).where(AuditEvent.seq.in_(seqs[1:])), *forged)
        report = await log.verify(document)
        assert report.valid is False
        async with log.sessions() as session:
            newest = await session.scalar(select(func.max(AuditEvent.seq)))
        assert report.first_invalid_seq == newest  # the record still says 3 events
        assert len(report.problems) == 1
        assert report.problems[0].startswith(f"stream {one} rewritten: event 3 has hash")

    async def test_fails_for_a_checkpoint_signed_by_another_key(self, log: Log) -> None:
        await log.append(_streams()[0], 1)
        document = await log.checkpoint()
        assert document is not None
        unsigned = {k: v for k, v in document.items() if k not in {"signature", "public_key"}}
        impostor = proofs.sign_checkpoint(unsigned, Ed25519PrivateKey.generate())
        report = await log.verify(impostor)
        assert report.valid is False
        assert report.problems == [f"checkpoint at seq {document['seq']} is not validly signed"]

    async def test_fails_for_a_checkpoint_edited_after_signing(self, log: Log) -> None:
        one, _ = _streams()
        await log.append(one, 2)
        document = await log.checkpoint()
        assert document is not None
        edited = {**document, "streams": [{**document["streams"][0], "length": 1}]}
        report = await log.verify(edited)
        assert report.valid is False


class TestEndpoints:
    async def test_serves_the_latest_checkpoint_exactly_as_signed(
        self, log: Log, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        async with committed_app.state.sessionmaker() as session:
            auditor = await make_user(committed_app, session, Role.AUDITOR)
        await log.checkpoint()
        document = await log.checkpoint(now=NOW + timedelta(hours=1))
        response = await committed_client.get(
            "/api/v1/audit/checkpoints/latest", headers=auditor.headers
        )
        assert response.status_code == 200
        assert response.json() == document
        public = base64.b64decode(response.json()["public_key"])
        assert len(public) == 32
        assert proofs.verify_checkpoint_signature(response.json())

    async def test_verify_reports_a_cut_the_latest_checkpoint_reveals(
        self, log: Log, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        async with committed_app.state.sessionmaker() as session:
            auditor = await make_user(committed_app, session, Role.AUDITOR)
        one, _ = _streams()
        seqs = await log.append(one, 3)
        document = await log.checkpoint()
        assert document is not None
        await log.tamper(delete(AuditEvent).where(AuditEvent.seq == seqs[-1]))
        response = await committed_client.get("/api/v1/audit/verify", headers=auditor.headers)
        body = response.json()
        assert (body["valid"], body["first_invalid_seq"]) == (False, seqs[-2])
        assert body["checkpoint_seq"] == document["seq"]
        assert body["problems"] == [f"stream {one} cut short: 2 events, the checkpoint has 3"]
