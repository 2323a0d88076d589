"""One-way flow, by construction (DESIGN §5): the victim side (`app.referrals`, `app.audit`,
`app.identity`) imports nothing of the immigration compartment or of the intake, no
victim-side model can navigate to an immigration record or hold an immigration fact, and no
workflow guard, deadline or query names the compartment's table.

Each checker is first shown to catch what it looks for, so a check that passes is not a
check that cannot fail.
"""

from __future__ import annotations

import ast
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Mapper

import app.models
from app.audit.models import AuditEvent
from app.db import Base
from app.identity.models import Organisation, User
from app.immigration.models import ImmigrationRecord
from app.main import create_app
from app.referrals.models import (
    Decision,
    DutyToNotify,
    Note,
    ReconsiderationRequest,
    Referral,
    ReferralExploitationType,
)
from tests.databases import settings_for

ROOT = Path(__file__).resolve().parents[1]
VICTIM_SIDE = ("app.referrals", "app.audit", "app.identity")
FORBIDDEN = ("app.immigration", "app.intake")
VICTIM_MODELS = (
    Referral,
    ReferralExploitationType,
    Decision,
    ReconsiderationRequest,
    Note,
    DutyToNotify,
    User,
    Organisation,
    AuditEvent,
)
COMPARTMENT_NAMES = ("ImmigrationRecord", "ImmigrationStatus", "immigration_records")
FACT_WORDS = ("immigration", "home_office")


def modules_of(package: str) -> Iterator[tuple[str, Path]]:
    """Every module of a package: its dotted name and its file."""
    folder = ROOT / package.replace(".", "/")
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module a source names by import, `from … import`, relative import, or as a string
    (`importlib.import_module("app.intake")`): each candidate `a.b` and `a.b.name`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and str(node.value).startswith("app."):
            found.add(str(node.value))
    return found


def reaches(imported: set[str], forbidden: tuple[str, ...] = FORBIDDEN) -> set[str]:
    return {n for n in imported for f in forbidden if n == f or n.startswith(f + ".")}


class TestImportChecker:
    @pytest.mark.parametrize(
        "source",
        [
            "import app.immigration.models",
            "from app.immigration import service",
            "from app import immigration",
            "from app import intake as x",
            "from ..immigration.models import ImmigrationRecord",
            "from .. import intake",
            "def f():\n    from app.immigration.queries import record_of",
            "import importlib\nimportlib.import_module('app.intake.service')",
        ],
    )
    def test_catches_every_form_of_import(self, source: str) -> None:
        assert reaches(imports_of(source, "app.referrals.commands"))

    @pytest.mark.parametrize(
        "source",
        ["import app.referrals.models", "from app.audit import service", "from . import models"],
    )
    def test_lets_the_victim_side_import_itself(self, source: str) -> None:
        assert not reaches(imports_of(source, "app.referrals.commands"))


class TestVictimSideImports:
    @pytest.mark.parametrize("package", VICTIM_SIDE)
    def test_imports_neither_the_compartment_nor_the_intake(self, package: str) -> None:
        modules = list(modules_of(package))
        assert len(modules) > 2, f"no modules found under {package}"
        offences = {
            name: sorted(reached)
            for name, path in modules
            if (
                reached := reaches(
                    imports_of(path.read_text(), name, is_package=path.name == "__init__.py")
                )
            )
        }
        assert offences == {}

    def test_the_import_contract_is_declared(self) -> None:
        config = tomllib.loads((ROOT / "pyproject.toml").read_text())
        contracts = config["tool"]["importlinter"]["contracts"]
        assert any(
            c["type"] == "forbidden"
            and set(VICTIM_SIDE) <= set(c["source_modules"])
            and "app.immigration" in c["forbidden_modules"]
            for c in contracts
        ), "pyproject.toml lost the contract keeping the victim side off app.immigration"

    def test_import_linter_keeps_every_contract(self) -> None:
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "lint-imports"), "--no-cache"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


class TestModels:
    def test_every_victim_model_is_mapped(self) -> None:
        mapped = {m.class_ for m in Base.registry.mappers}
        assert set(VICTIM_MODELS) <= mapped
        assert app.models.metadata is Base.metadata

    def test_no_model_but_the_compartment_has_a_relationship_to_an_immigration_record(
        self,
    ) -> None:
        reaching = [
            f"{mapper.class_.__name__}.{rel.key}"
            for mapper in Base.registry.mappers
            if mapper.class_ is not ImmigrationRecord
            for rel in mapper.relationships
            if rel.mapper.class_ is ImmigrationRecord
        ]
        assert reaching == []
        for model in VICTIM_MODELS:
            mapper: Mapper[object] = inspect(model)
            targets = {rel.mapper.class_ for rel in mapper.relationships}
            assert ImmigrationRecord not in targets, model.__name__

    def test_no_other_table_has_a_column_for_an_immigration_fact(self) -> None:
        offending = [
            f"{table.name}.{column.name}"
            for table in Base.metadata.sorted_tables
            if table.name != ImmigrationRecord.__tablename__
            for column in table.columns
            if any(word in column.name.lower() for word in FACT_WORDS)
        ]
        assert offending == []

    def test_no_other_table_has_a_foreign_key_to_the_compartment(self) -> None:
        offending = [
            f"{table.name}.{fk.parent.name}"
            for table in Base.metadata.sorted_tables
            for fk in table.foreign_keys
            if fk.column.table.name == ImmigrationRecord.__tablename__
        ]
        assert offending == []


class TestSources:
    @pytest.mark.parametrize("package", VICTIM_SIDE)
    def test_no_guard_deadline_queue_or_query_names_the_compartment(self, package: str) -> None:
        mentions = [
            f"{path.relative_to(ROOT)}: {word}"
            for _name, path in modules_of(package)
            for word in COMPARTMENT_NAMES
            if word in path.read_text()
        ]
        assert mentions == []

    def test_the_calendar_behind_every_deadline_names_no_compartment(self) -> None:
        source = (ROOT / "app" / "days.py").read_text()
        assert [word for word in COMPARTMENT_NAMES if word in source] == []

    def test_the_workflow_deadline_and_queue_modules_are_among_those_read(self) -> None:
        names = {name for name, _path in modules_of("app.referrals")}
        assert {
            "app.referrals.workflow",
            "app.referrals.clocks",
            "app.referrals.queue",
            "app.referrals.queries",
            "app.referrals.facts",
        } <= names


def _contract(name_start: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"].startswith(name_start))


class TestFrameworkOutOfTheCore:
    """Issue 10, item 5: the core (pure and service modules) never reaches FastAPI."""

    def test_the_contract_keeps_the_core_off_fastapi_and_starlette(self) -> None:
        contract = _contract("The core stays free of FastAPI")
        assert {"fastapi", "starlette"} <= set(contract["forbidden_modules"])
        assert {
            "app.referrals.workflow",
            "app.days",
            "app.audit.chain",
            "app.audit.actions",
            "app.audit.service",
            "app.identity.principal",
            "app.identity.service",
            "app.immigration.service",
            "app.reports.service",
            "app.reports.queries",
        } <= set(contract["source_modules"])
        assert not contract.get("allow_indirect_imports", False)

    def test_the_compartment_and_the_statistics_do_not_import_each_other(self) -> None:
        contract = _contract("The compartment never imports the statistics")
        assert contract["source_modules"] == ["app.immigration"]
        assert contract["forbidden_modules"] == ["app.reports"]


class TestSize:
    """STYLE.md: files under 400 lines, functions under ~40."""

    def test_no_module_reaches_400_lines(self) -> None:
        long = {
            str(path.relative_to(ROOT)): n
            for path in sorted((ROOT / "app").rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) >= 400
        }
        assert long == {}

    def test_no_function_is_much_over_40_lines(self) -> None:
        # STYLE.md says "under ~40": a signature of keyword-only parameters may take it a few
        # lines past, never further.
        long = [
            f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
            for path in sorted((ROOT / "app").rglob("*.py"))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and (node.end_lineno or node.lineno) - node.lineno + 1 > 45
        ]
        assert long == []


class TestResponseModels:
    def test_every_json_route_declares_its_response_model(self) -> None:
        """Issue 10, item 5: no JSON answer bypasses a declared model (CSV and HTML aside)."""
        schema = create_app(
            settings_for("sqlite+aiosqlite:////nonexistent-folder/nrm.db")
        ).openapi()
        undeclared = [
            f"{method.upper()} {path}"
            for path, items in schema["paths"].items()
            for method, operation in items.items()
            for status, answer in operation["responses"].items()
            if status.startswith("2")
            and "application/json" in answer.get("content", {})
            and answer["content"]["application/json"].get("schema") in ({}, None)
        ]
        assert undeclared == []


class TestWebLayer:
    """STYLE.md "The web layer": the pages never import the compartment; the form's
    immigration part reaches it through the intake."""

    def test_no_web_module_imports_the_compartment(self) -> None:
        offences = {
            name: sorted(reached)
            for name, path in modules_of("app.web")
            if (
                reached := reaches(
                    imports_of(path.read_text(), name, is_package=path.name == "__init__.py"),
                    ("app.immigration",),
                )
            )
        }
        assert offences == {}

    def test_the_import_contract_is_declared(self) -> None:
        contract = _contract("The web pages never import the immigration compartment")
        assert contract["source_modules"] == ["app.web"]
        assert contract["forbidden_modules"] == ["app.immigration"]

    def test_only_the_compartment_and_the_app_factory_import_its_pages(self) -> None:
        offences = {
            name: sorted(reached)
            for package in ("app",)
            for name, path in modules_of(package)
            if not name.startswith("app.immigration")
            and name != "app.main"
            and (
                reached := reaches(
                    imports_of(path.read_text(), name, is_package=path.name == "__init__.py"),
                    ("app.immigration.pages",),
                )
            )
        }
        assert offences == {}
        contract = _contract("Only the compartment itself and the app factory import")
        assert contract["type"] == "protected"
        assert contract["protected_modules"] == ["app.immigration.pages"]
        assert contract["allowed_importers"] == ["app.immigration", "app.main"]
