"""The image and the compose file, checked without building (no base image can be pulled here).

`docker compose config -q` runs only where `docker compose` is installed; the rest is static.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _runtime_stage() -> str:
    return _dockerfile().split("AS runtime", 1)[1]


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8")))


def _compose_command() -> list[str] | None:
    """The compose CLI on this machine: the `docker compose` plugin, or the standalone
    `docker-compose` (Debian's package), or None."""
    if shutil.which("docker") is not None:
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


class TestDockerignore:
    def test_keeps_the_virtualenv_and_the_git_folder_out_of_the_build(self) -> None:
        lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        assert ".venv/" in lines
        assert ".git/" in lines
        assert "*.db" in lines


class TestDockerfile:
    def test_builds_a_wheel_and_installs_only_it_with_the_lock_as_constraints(self) -> None:
        dockerfile = _dockerfile()
        assert "AS builder" in dockerfile
        assert "pip wheel" in dockerfile
        runtime = _runtime_stage()
        assert "--constraint /tmp/requirements.lock /tmp/wheels/*.whl" in runtime
        assert "-r requirements.lock" not in dockerfile

    def test_no_editable_install_and_no_development_extras(self) -> None:
        dockerfile = _dockerfile()
        assert " -e " not in dockerfile
        assert "--editable" not in dockerfile
        assert "[dev]" not in dockerfile

    def test_runs_as_a_non_root_user_who_owns_the_default_database_folder(self) -> None:
        runtime = _runtime_stage()
        users = [line.split()[1] for line in runtime.splitlines() if line.startswith("USER ")]
        assert users
        assert users[-1] not in {"root", "0"}
        assert f"--home-dir /var/lib/nrm --create-home {users[-1]}" in runtime
        assert "NRM_DATABASE_URL=sqlite+aiosqlite:////var/lib/nrm/nrm.db" in runtime

    def test_the_command_serves_with_nrm_workers_not_a_fixed_count(self) -> None:
        cmd = next(line for line in _dockerfile().splitlines() if line.startswith("CMD"))
        assert "nrm serve" in cmd
        assert "--workers" not in cmd  # `nrm serve` reads NRM_WORKERS

    def test_installs_the_letters_font_in_the_runtime_image(self) -> None:
        """Decision letters embed DejaVu Sans (docs/letters.md); the slim base has no fonts."""
        assert "fonts-dejavu-core" in _runtime_stage()


class TestWheel:
    def test_ships_the_migrations_beside_the_app(self, tmp_path: Path) -> None:
        """The image's `nrm db upgrade` runs from the wheel, with no checkout beside it."""
        source = tmp_path / "source"  # what the Dockerfile's builder copies, nothing else
        ignore = shutil.ignore_patterns("__pycache__")
        for folder in ("app", "migrations"):
            shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy(ROOT / name, source / name)
        build = ["wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        subprocess.run(
            [sys.executable, "-m", "pip", *build, "--wheel-dir", str(tmp_path / "dist"), "."],
            check=True,
            capture_output=True,
            timeout=300,
            cwd=source,
        )
        wheel = next((tmp_path / "dist").glob("wales_nrm-*.whl"))
        names = set(zipfile.ZipFile(wheel).namelist())
        assert {"migrations/env.py", "migrations/script.py.mako", "app/cli.py"} <= names
        assert "app/letters/templates/letter.html" in names  # the letters' own templates
        shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("migrations/versions/")}
        written = {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
        assert written <= shipped


class TestCompose:
    def test_migrates_as_the_owner_and_serves_as_the_app_role(self) -> None:
        services = _compose()["services"]
        migrate, app = services["migrate"], services["app"]
        assert migrate["command"] == ["nrm", "db", "upgrade", "--grant-to", "nrm_app"]
        assert "//nrm_owner:" in migrate["environment"]["NRM_DATABASE_URL"]
        assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
        assert app["command"][:2] == ["nrm", "serve"]
        assert "//nrm_app:" in app["environment"]["NRM_DATABASE_URL"]
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"

    def test_the_database_creates_both_roles_on_first_start(self) -> None:
        db = _compose()["services"]["db"]
        assert "./docker/initdb:/docker-entrypoint-initdb.d:ro" in db["volumes"]
        script = (ROOT / "docker" / "initdb" / "10-roles.sh").read_text(encoding="utf-8")
        assert "CREATE ROLE nrm_owner LOGIN" in script
        assert "CREATE ROLE nrm_app LOGIN" in script

    def test_the_service_and_its_metrics_are_published_on_loopback_only(self) -> None:
        app = _compose()["services"]["app"]
        assert all(str(port).startswith("127.0.0.1:") for port in app["ports"])
        assert app["environment"]["NRM_WORKERS"] == "${NRM_WORKERS:-2}"
        assert "--workers" not in app["command"]

    @pytest.mark.skipif(_compose_command() is None, reason="no docker compose on this machine")
    def test_docker_compose_accepts_the_file(self) -> None:
        compose = _compose_command()
        assert compose is not None
        result = subprocess.run(
            [*compose, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
