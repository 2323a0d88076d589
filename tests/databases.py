"""Test databases: one migrated template per backend per test run, and cheap copies of it.

PostgreSQL: a template database migrated once, then `CREATE DATABASE … TEMPLATE` for the
session's database and for each throwaway database of the tests that commit for real (the
audit table refuses DELETE and TRUNCATE by design, so nothing can be cleaned in place).
SQLite: a migrated template file, copied the same way.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from app.cli import db_upgrade
from app.settings import Environment, Settings

PG_ADMIN_URL = os.environ.get("NRM_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_HOST = os.environ.get("NRM_TEST_PG_HOST", "postgres@127.0.0.1:5432")
BACKENDS = tuple(
    b.strip() for b in os.environ.get("NRM_TEST_BACKENDS", "sqlite,postgresql").split(",") if b
)


def settings_for(database_url: str, **overrides: object) -> Settings:
    """Settings for a test app: the test environment, the test clock on, JSON logs off."""
    values: dict[str, object] = {
        "env": Environment.TEST,
        "database_url": database_url,
        "test_clock": True,
        "log_level": "WARNING",
        "log_json": False,
        "audit_signing_key": "bXktdGVzdC1zZWVkLW9mLTMyLWJ5dGVzLWV4YWN0bHk=",
        # No worker in a test's app (a test runs one itself), and no mail in the repository.
        "worker": "external",
        "mail_dir": str(Path(tempfile.gettempdir()) / "nrm-test-mail"),
    }
    values.update(overrides)
    return Settings.model_validate(values)


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


@dataclass
class Backend:
    """One database server (or SQLite folder) with its migrated template."""

    name: str
    workdir: Path
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    created: list[str] = field(default_factory=list)

    @property
    def template(self) -> str:
        return f"nrm_tpl_{self.tag}"

    def url(self, database: str) -> str:
        if self.name == "sqlite":
            return f"sqlite+aiosqlite:///{self.workdir / (database + '.db')}"
        return f"postgresql+psycopg://{PG_HOST}/{database}"

    def prepare_template(self) -> None:
        """Create the template and migrate it with Alembic, loading the reference data."""
        if self.name == "postgresql":
            with _admin() as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.template)))
            self.created.append(self.template)
        db_upgrade(settings_for(self.url(self.template)))

    def copy(self, prefix: str = "nrm_t") -> str:
        """A fresh database copied from the template; returns its URL."""
        name = f"{prefix}_{self.tag}_{uuid.uuid4().hex[:8]}"
        if self.name == "sqlite":
            shutil.copyfile(self.workdir / f"{self.template}.db", self.workdir / f"{name}.db")
            return self.url(name)
        with _admin() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(self.template)
                )
            )
        self.created.append(name)
        return self.url(name)

    def empty(self) -> str:
        """A new, empty database (not migrated); returns its URL."""
        name = f"nrm_e_{self.tag}_{uuid.uuid4().hex[:8]}"
        if self.name == "postgresql":
            with _admin() as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            self.created.append(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop one copy (PostgreSQL) or delete its file (SQLite)."""
        if self.name == "sqlite":
            path = url.split(":///", 1)[1]
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
            return
        name = url.rsplit("/", 1)[-1]
        with _admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        if self.name == "sqlite":
            shutil.rmtree(self.workdir, ignore_errors=True)
            return
        for name in reversed(list(self.created)):
            self.drop(self.url(name))
