"""The database triggers that make `audit_events` append-only (DESIGN §6).

Kept as SQL text for the migrations: the first creates them, and any later migration that
batch-alters `audit_events` on SQLite (which recreates the table and drops its triggers) must
call `create(op)` again. A test at head checks that they exist on both databases.
"""

from __future__ import annotations

from typing import Any

MESSAGE = "audit_events is append-only"

POSTGRESQL_CREATE = (
    f"""
    CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_refuse_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
    """,
    """
    CREATE TRIGGER audit_events_refuse_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()
    """,
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS audit_events_refuse_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_refuse_update_delete ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_refuse_change()",
)
SQLITE_CREATE = (
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_events_refuse_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_events_refuse_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS audit_events_refuse_update",
    "DROP TRIGGER IF EXISTS audit_events_refuse_delete",
)
TRIGGER_NAMES = {
    "postgresql": {"audit_events_refuse_update_delete", "audit_events_refuse_truncate"},
    "sqlite": {"audit_events_refuse_update", "audit_events_refuse_delete"},
}


def create(op: Any) -> None:
    """Create the triggers for the migration's dialect."""
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_CREATE if dialect == "postgresql" else SQLITE_CREATE:
        op.execute(statement)


def drop(op: Any) -> None:
    """Drop them (downgrade only)."""
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP:
        op.execute(statement)
