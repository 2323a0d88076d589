"""The audit actions: one enumeration, its documented table, and every writer naming a member."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from app.audit import actions
from app.audit.actions import Action
from app.main import create_app
from tests.databases import settings_for

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = "sqlite+aiosqlite:////nonexistent-folder/nrm.db"  # the schema connects to nothing
TABLE = re.compile(r"<!-- actions:begin -->\n(.*?)\n<!-- actions:end -->", re.DOTALL)


class TestDocumentedTable:
    def test_docs_audit_md_lists_every_action_as_the_enumeration_generates_it(self) -> None:
        found = TABLE.search((ROOT / "docs" / "audit.md").read_text(encoding="utf-8"))
        assert found is not None, "docs/audit.md has lost its actions markers"
        assert found.group(1) == actions.markdown_table(), (
            "docs/audit.md's actions table is stale: regenerate it with "
            "`python -m app.audit.actions`"
        )

    def test_every_action_has_a_meaning(self) -> None:
        assert set(actions.meanings()) == set(Action)


def _literal_actions(tree: ast.AST) -> list[tuple[int, str]]:
    """Every `action="…"` keyword whose value is a string literal."""
    return [
        (node.value.lineno, node.value.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword)
        and node.arg == "action"
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]


class TestWriters:
    def test_no_writer_passes_a_bare_string_that_is_not_an_action(self) -> None:
        """`audit.record` takes an `Action` (mypy proves the typed callers); this catches a
        literal that mypy would let through where a str is accepted on the way."""
        values = {a.value for a in Action}
        wrong = [
            f"{path.relative_to(ROOT)}:{line}: {value}"
            for path in sorted((ROOT / "app").rglob("*.py"))
            for line, value in _literal_actions(ast.parse(path.read_text(encoding="utf-8")))
            if value not in values and "." in value
        ]
        assert not wrong


class TestOpenApi:
    def test_the_events_action_filter_lists_every_action(self) -> None:
        schema = create_app(settings_for(NOWHERE)).openapi()
        [parameter] = [
            p
            for p in schema["paths"]["/api/v1/audit/events"]["get"]["parameters"]
            if p["name"] == "action"
        ]
        found = parameter["schema"]
        enum = found.get("enum") or _referenced_enum(schema, found)
        assert enum == [a.value for a in Action]


def _referenced_enum(schema: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """The enum behind `$ref` (or `anyOf` with null) in the parameter's schema."""
    options = found.get("anyOf", [found])
    for option in options:
        ref = option.get("$ref")
        if ref:
            enum: list[str] = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["enum"]
            return enum
        if "enum" in option:
            return list(option["enum"])
    raise AssertionError(f"no enum in {found}")
