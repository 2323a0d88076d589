"""`nrm` fails in one plain line, never a traceback; every option says what it is for."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.audit import service as audit
from app.audit.models import Track
from app.cli import build_parser, main
from app.db import create_sessionmaker, transaction
from app.settings import get_settings
from tests.conftest import fresh_engine

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2031, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings read afresh from the environment the test sets."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _nrm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


class TestSettingsErrors:
    def test_a_bad_setting_is_one_line_and_status_2(
        self, settings_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        settings_env.setenv("NRM_TOKEN_TTL_MINUTES", "banana")
        assert main(["db", "upgrade"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: invalid settings: NRM_TOKEN_TTL_MINUTES: ")
        assert err.count("\n") == 1

    def test_production_without_its_settings_prints_no_traceback(self) -> None:
        result = _nrm("db", "upgrade", env={"NRM_ENV": "production", "NRM_SECRET_KEY": ""})
        assert result.returncode == 2
        assert result.stderr == (
            "error: invalid settings: NRM_SECRET_KEY must be at least 32 bytes in production\n"
        )

    def test_keygen_needs_no_settings(
        self, settings_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        settings_env.setenv("NRM_ENV", "production")
        settings_env.setenv("NRM_TOKEN_TTL_MINUTES", "banana")
        settings_env.setenv("NRM_DATABASE_URL", "mysql://nowhere/at-all")
        assert main(["audit", "keygen"]) == 0
        assert len(capsys.readouterr().out.strip()) == 44  # base64 of a 32-byte seed

    def test_a_sqlite_file_in_a_missing_folder_is_one_line_and_status_1(
        self,
        settings_env: pytest.MonkeyPatch,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        settings_env.setenv("NRM_DATABASE_URL", f"sqlite:///{tmp_path}/missing/folder/nrm.db")
        assert main(["db", "upgrade"]) == 1
        err = capsys.readouterr().err
        missing = tmp_path / "missing" / "folder"
        assert err == f"error: the folder of the SQLite database does not exist: {missing}\n"

    def test_a_database_it_cannot_reach_is_one_line_and_status_1(
        self, settings_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        settings_env.setenv("NRM_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/nrm")
        assert main(["db", "upgrade"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: the database refused or could not be reached: ")
        assert err.count("\n") == 1

    def test_a_report_folder_it_cannot_write_is_one_line(
        self,
        settings_env: pytest.MonkeyPatch,
        throwaway: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        settings_env.setenv("NRM_DATABASE_URL", throwaway)
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder", encoding="utf-8")
        assert main(["report", "--out", str(blocker / "report")]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ")
        assert str(blocker) in err
        assert err.count("\n") == 1


def _append_large_events(url: str, count: int) -> None:
    """Events big enough that their export overflows a pipe's buffer many times."""

    async def append() -> None:
        engine = fresh_engine(url)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                for n in range(count):
                    await audit.record(
                        session,
                        audit.SYSTEM,
                        action="test.pipe",
                        track=Track.ADMIN,
                        now=T0,
                        stream="test:pipe",
                        changes={"n": {"after": n}, "padding": {"after": "x" * 4000}},
                    )
        finally:
            await engine.dispose()

    asyncio.run(append())


@pytest.mark.committing
class TestClosedPipe:
    def test_export_into_head_exits_quietly(self, throwaway: str) -> None:
        _append_large_events(throwaway, 60)  # about 250 kB of JSON lines
        period = ["--since", "2031-06-01T00:00:00Z", "--until", "2031-06-02T00:00:00Z"]
        command = [sys.executable, "-m", "app.cli", "audit", "export", *period]
        env = {**os.environ, "NRM_DATABASE_URL": throwaway, "NRM_ENV": "test"}
        nrm = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert nrm.stdout is not None
        assert nrm.stderr is not None
        head = subprocess.run(["head", "-1"], stdin=nrm.stdout, capture_output=True, check=False)
        nrm.stdout.close()  # head has gone: only it held the read end
        err = nrm.stderr.read().decode()
        nrm.stderr.close()
        assert nrm.wait(timeout=120) == 141
        assert head.stdout.startswith(b'{"seq":')
        assert err == ""


def _actions(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                yield f"{path} {name}", argparse.Action([name], name, help=helps.get(name))
                yield from _actions(child, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield path, action


class TestHelp:
    def test_every_command_and_option_has_a_help_text(self) -> None:
        missing = [
            f"{path} {'/'.join(action.option_strings) or action.dest}"
            for path, action in _actions(build_parser(), "nrm")
            if not action.help or action.help == argparse.SUPPRESS
        ]
        assert missing == []

    def test_the_walk_reaches_the_nested_options(self) -> None:
        paths = {path for path, _ in _actions(build_parser(), "nrm")}
        assert {"nrm audit export", "nrm users create", "nrm seed demo", "nrm report"} <= paths
