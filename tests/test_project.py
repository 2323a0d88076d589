"""The project's own plumbing: CI fails when no test ran; compose migrates after a healthy db;
`make run` serves where it is told."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


class TestCiRun:
    def test_fails_when_pytest_collects_no_test(self, tmp_path: Path) -> None:
        (tmp_path / ".ci").mkdir()
        shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
        (tmp_path / "tests").mkdir()
        pytest_bin = ROOT / ".venv" / "bin" / "pytest"
        (tmp_path / "Makefile").write_text(f"test:\n\t{pytest_bin} -q -p no:cacheprovider tests\n")
        result = subprocess.run(
            ["bash", str(tmp_path / ".ci" / "run")],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "CI": "true"},
            check=False,
        )
        assert result.returncode != 0, result.stdout + result.stderr

    def test_passes_when_a_test_passes(self, tmp_path: Path) -> None:
        (tmp_path / ".ci").mkdir()
        shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
        (tmp_path / "tests").mkdir()
        (tmp_path / "tests" / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        pytest_bin = ROOT / ".venv" / "bin" / "pytest"
        (tmp_path / "Makefile").write_text(f"test:\n\t{pytest_bin} -q -p no:cacheprovider tests\n")
        result = subprocess.run(
            ["bash", str(tmp_path / ".ci" / "run")],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "CI": "true"},
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def test_calls_make_test(self) -> None:
        assert "make test" in (ROOT / ".ci" / "run").read_text()


class TestCompose:
    def test_migrations_run_after_a_healthy_database_and_the_service_after_them(self) -> None:
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        db, migrate, app = (compose["services"][name] for name in ("db", "migrate", "app"))
        assert db["image"].startswith("postgres:16")
        assert "pg_isready" in " ".join(db["healthcheck"]["test"])
        assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
        assert migrate["command"][:3] == ["nrm", "db", "upgrade"]
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert app["environment"]["NRM_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert migrate["build"] == app["build"] == "."

    def test_dockerfile_installs_from_the_lock_file_and_migrates_before_serving(self) -> None:
        dockerfile = (ROOT / "Dockerfile").read_text()
        assert "requirements.lock" in dockerfile
        cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
        assert cmd.index("nrm db upgrade") < cmd.index("nrm serve")


class TestMakeRun:
    @pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
    def test_serves_on_the_host_and_port_given(self) -> None:
        result = subprocess.run(
            ["make", "-n", "run", "HOST=0.0.0.0", "PORT=8080"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        serve = [line for line in result.stdout.splitlines() if "nrm serve" in line]
        assert serve == [".venv/bin/nrm serve --host 0.0.0.0 --port 8080"]


class TestLockFile:
    def test_every_dependency_is_pinned_exactly(self) -> None:
        lines = [
            line
            for line in (ROOT / "requirements.lock").read_text().splitlines()
            if line and not line.startswith("#")
        ]
        assert lines
        assert all("==" in line for line in lines), [x for x in lines if "==" not in x]
