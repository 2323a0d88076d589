"""`nrm audit verify|checkpoint|export|keygen` against a database of the test's own."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from app.audit import chain, proofs
from app.audit import service as audit
from app.audit.models import AuditCheckpoint, AuditEvent, Track
from app.cli import main
from app.db import create_sessionmaker, transaction
from app.settings import get_settings
from tests.audit.tampering import tamper
from tests.conftest import fresh_engine

pytestmark = pytest.mark.committing

SEED = base64.b64encode(bytes(range(32))).decode()
T0 = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def nrm_env(throwaway: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("NRM_DATABASE_URL", throwaway)
    monkeypatch.setenv("NRM_ENV", "test")
    monkeypatch.setenv("NRM_AUDIT_SIGNING_KEY", SEED)
    get_settings.cache_clear()
    yield throwaway
    get_settings.cache_clear()


def _append(url: str, stream: str, times: list[datetime]) -> list[int]:
    async def append() -> list[int]:
        engine = fresh_engine(url)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                return [
                    (
                        await audit.record(
                            session,
                            audit.SYSTEM,
                            action="test.cli",
                            track=Track.ADMIN,
                            now=at,
                            stream=stream,
                            changes={"n": {"after": n}},
                        )
                    ).seq
                    for n, at in enumerate(times)
                ]
        finally:
            await engine.dispose()

    return asyncio.run(append())


def _tamper(url: str, statement: object) -> None:
    async def run() -> None:
        engine = fresh_engine(url)
        try:
            await tamper(engine, statement)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _checkpoints_stored(url: str) -> int:
    async def count() -> int:
        engine = fresh_engine(url)
        try:
            async with engine.connect() as connection:
                return int(await connection.scalar(select(func.count(AuditCheckpoint.id))) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(count())


def _stream() -> str:
    return f"test:{uuid.uuid4()}"


class TestVerify:
    def test_exits_0_and_reports_an_intact_trail(
        self, nrm_env: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        _append(nrm_env, _stream(), [T0, T0])
        assert main(["audit", "verify"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert (report["valid"], report["first_invalid_seq"]) == (True, None)
        assert report["events_checked"] > 2

    def test_exits_1_with_the_first_bad_seq_when_a_chain_is_broken(
        self, nrm_env: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        seqs = _append(nrm_env, _stream(), [T0, T0, T0])
        _tamper(nrm_env, update(AuditEvent).where(AuditEvent.seq == seqs[1]).values(hash="f" * 64))
        assert main(["audit", "verify"]) == 1
        assert json.loads(capsys.readouterr().out)["first_invalid_seq"] == seqs[1]

    def test_exits_0_against_a_saved_checkpoint_still_covered(
        self, nrm_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stream = _stream()
        _append(nrm_env, stream, [T0, T0])
        assert main(["audit", "checkpoint"]) == 0
        saved = tmp_path / "checkpoint.json"
        saved.write_text(capsys.readouterr().out, encoding="utf-8")
        _append(nrm_env, stream, [T0])
        assert main(["audit", "verify", "--checkpoint", str(saved)]) == 0

    def test_exits_1_when_a_saved_checkpoint_shows_a_stream_cut_short(
        self, nrm_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stream = _stream()
        seqs = _append(nrm_env, stream, [T0, T0, T0])
        assert main(["audit", "checkpoint"]) == 0
        saved = tmp_path / "checkpoint.json"
        saved.write_text(capsys.readouterr().out, encoding="utf-8")
        _tamper(nrm_env, delete(AuditEvent).where(AuditEvent.seq == seqs[-1]))
        assert main(["audit", "verify", "--checkpoint", str(saved)]) == 1
        report = json.loads(capsys.readouterr().out)
        assert report["problems"] == [f"stream {stream} cut short: 2 events, the checkpoint has 3"]

    def test_exits_1_when_the_checkpoint_is_signed_by_another_key_than_pinned(
        self, nrm_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        _append(nrm_env, _stream(), [T0])
        assert main(["audit", "checkpoint"]) == 0
        saved = tmp_path / "checkpoint.json"
        saved.write_text(capsys.readouterr().out, encoding="utf-8")
        other = proofs.load_private_key(proofs.generate_seed_b64()).public_key().public_bytes_raw()
        pinned = base64.b64encode(other).decode()
        assert main(["audit", "verify", "--checkpoint", str(saved), "--public-key", pinned]) == 1

    def test_exits_1_for_a_file_that_is_no_signed_checkpoint(
        self, nrm_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        del nrm_env
        saved = tmp_path / "checkpoint.json"
        saved.write_text('{"seq": 3, "streams": []}', encoding="utf-8")
        assert main(["audit", "verify", "--checkpoint", str(saved)]) == 1
        report = json.loads(capsys.readouterr().out)
        assert report["problems"] == ["checkpoint at seq 3 is not validly signed"]
        assert report["checkpoint_seq"] is None

    def test_exits_1_for_a_checkpoint_file_it_cannot_read(
        self, nrm_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        del nrm_env
        missing = tmp_path / "missing.json"
        assert main(["audit", "verify", "--checkpoint", str(missing)]) == 1
        assert "cannot read the checkpoint" in capsys.readouterr().err


class TestCheckpoint:
    def test_prints_a_signed_document_and_stores_it(
        self, nrm_env: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        seqs = _append(nrm_env, _stream(), [T0])
        assert main(["audit", "checkpoint"]) == 0
        document = json.loads(capsys.readouterr().out)
        assert document["seq"] == seqs[-1]
        public = proofs.load_private_key(SEED).public_key().public_bytes_raw()
        expected = base64.b64encode(public).decode()
        assert proofs.verify_checkpoint_signature(document, expected_public_key=expected)
        assert _checkpoints_stored(nrm_env) == 1

    def test_fails_clearly_with_a_key_that_is_not_a_seed_and_stores_nothing(
        self, nrm_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # A malformed key is a settings error, refused before anything runs (exit 2).
        monkeypatch.setenv("NRM_AUDIT_SIGNING_KEY", "c2hvcnQ=")
        get_settings.cache_clear()
        assert main(["audit", "checkpoint"]) == 2
        captured = capsys.readouterr()
        assert "NRM_AUDIT_SIGNING_KEY must be the base64 of 32 bytes" in captured.err
        assert captured.out == ""
        assert _checkpoints_stored(nrm_env) == 0


class TestExport:
    def test_writes_json_lines_of_the_events_in_the_period_oldest_first(
        self, nrm_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        times = [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(days=1)]
        seqs = _append(nrm_env, _stream(), times)
        out = tmp_path / "events.jsonl"
        since, until = T0 + timedelta(minutes=30), T0 + timedelta(days=1)
        period = ["--since", since.isoformat(), "--until", until.isoformat()]
        assert main(["audit", "export", *period, "--out", str(out)]) == 0
        lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [line["seq"] for line in lines] == seqs[1:3]
        assert "exported 2 events" in capsys.readouterr().err
        first = lines[0]
        assert first["at"] == "2031-06-01T13:00:00Z"
        assert chain.event_hash(first["prev_hash"], first["canonical"].encode()) == first["hash"]

    def test_writes_to_standard_output_without_out(
        self, nrm_env: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        seqs = _append(nrm_env, _stream(), [T0])
        period = ["--since", "2031-06-01T00:00:00Z", "--until", "2031-06-02T00:00:00+00:00"]
        assert main(["audit", "export", *period]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [json.loads(line)["seq"] for line in lines] == seqs

    def test_refuses_a_period_that_ends_before_it_starts(
        self, nrm_env: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        del nrm_env
        period = ["--since", "2031-06-02T00:00:00Z", "--until", "2031-06-01T00:00:00Z"]
        assert main(["audit", "export", *period]) == 1
        assert "--until is before --since" in capsys.readouterr().err


class TestKeygen:
    def test_prints_a_fresh_ed25519_seed_each_time(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["audit", "keygen"]) == 0
        assert main(["audit", "keygen"]) == 0
        first, second = capsys.readouterr().out.split()
        assert first != second
        assert len(base64.b64decode(first, validate=True)) == 32
        proofs.load_private_key(first)


class TestVerifyRecordedStreams:
    """`nrm audit verify` checks each stream's recorded length and head, as the API does."""

    def test_exits_1_when_a_streams_newest_event_is_cut_off_before_any_checkpoint(
        self, nrm_env: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stream = _stream()
        seqs = _append(nrm_env, stream, [T0, T0, T0])
        _tamper(nrm_env, delete(AuditEvent).where(AuditEvent.seq == seqs[-1]))
        assert main(["audit", "verify"]) == 1
        report = json.loads(capsys.readouterr().out)
        assert (report["valid"], report["first_invalid_seq"]) == (False, seqs[-2])
        assert report["problems"] == [f"stream {stream} cut short: 2 events, 3 recorded"]
