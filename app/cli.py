"""The `nrm` command for operators: migrate, create users, seed demo data, serve, audit.

Each subcommand runs in one `transaction()`; features add their own subcommands through a
`register(subparsers)` function (audit, reports). A subcommand that needs no settings says so
with `set_defaults(needs_settings=False)` (`nrm audit keygen`). Whatever goes wrong, `nrm`
prints one plain line on standard error and exits non-zero (`main`'s docstring lists the
statuses); it never shows a traceback for a mistake an operator can make.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from pydantic import ValidationError
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

from app.clock import real_now
from app.db import create_engine, create_sessionmaker, transaction
from app.errors import AppError
from app.identity import checks as identity_checks
from app.identity import reference
from app.identity import service as identity
from app.identity.roles import Role
from app.identity.schemas import UserCreate
from app.referrals.references import ensure_sequences
from app.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
EXIT_REFUSED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_PIPE_CLOSED = 1, 2, 130, 141

# docs/operations.md: the service's role may read and write every table but never change or
# remove an audit event, nor the migrations' bookkeeping.
APP_ROLE_GRANTS = (
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {role}",
    "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}",
)


class UsageError(Exception):
    """A request `nrm` refuses before doing anything (exit status 2)."""


def alembic_config(url: str) -> Config:
    """Alembic's configuration for `url` (the migrations ship beside `app/`, in a checkout and
    in the wheel alike; `alembic.ini` only in a checkout)."""
    ini = ROOT / "alembic.ini"
    config = Config(str(ini)) if ini.is_file() else Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = url
    return config


def db_upgrade(settings: Settings, *, grant_to: str | None = None) -> int:
    """Apply every migration, then load the reference data; returns the rows changed.
    With `grant_to`, also give that PostgreSQL role the service's privileges."""
    if grant_to is not None and settings.is_sqlite:
        raise UsageError("--grant-to needs PostgreSQL: SQLite has no roles")
    command.upgrade(alembic_config(settings.database_url), "head")
    return asyncio.run(_after_migrations(settings, grant_to))


async def _after_migrations(settings: Settings, grant_to: str | None) -> int:
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            changed = await reference.load(session, now=real_now())
            if grant_to is not None:  # a role that may not create sequences: make them now
                await ensure_sequences(session, range(real_now().year, real_now().year + 11))
                role = engine.dialect.identifier_preparer.quote(grant_to)
                for statement in APP_ROLE_GRANTS:
                    await session.execute(text(statement.format(role=role)))
            return changed
    finally:
        await engine.dispose()


async def create_user(settings: Settings, body: UserCreate) -> str:
    """Create a user from the command line; returns the new id."""
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            user = await identity.create_user(session, settings, None, body, now=real_now())
            return str(user.id)
    finally:
        await engine.dispose()


def _cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    changed = db_upgrade(settings, grant_to=args.grant_to)
    print(f"database at head; reference data: {changed} rows changed")  # noqa: T201
    offenders = asyncio.run(_forbidden_role_combinations(settings))
    for username, roles in offenders.items():
        print(  # noqa: T201
            f"warning: user {username} holds roles that may not be held together "
            f"({', '.join(roles)}); they act with fewer roles until an admin corrects them",
            file=sys.stderr,
        )
    return 0


async def _forbidden_role_combinations(settings: Settings) -> dict[str, list[str]]:
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await identity_checks.users_with_forbidden_roles(session)
    finally:
        await engine.dispose()


READ_FROM_STDIN = "-"


def _password(given: str) -> str:
    """The password as given, or one line of standard input for `-` (kept out of `ps`)."""
    return sys.stdin.readline().rstrip("\r\n") if given == READ_FROM_STDIN else given


def _cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    body = UserCreate(
        username=args.username,
        display_name=args.display_name or args.username,
        password=_password(args.password),
        organisation=args.organisation,
        roles=[Role(r) for r in args.role],
    )
    print(asyncio.run(create_user(settings, body)))  # noqa: T201
    return 0


def _cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.demo import RefusedInProduction, seed

    try:
        print(asyncio.run(seed(settings, referrals=args.referrals)))  # noqa: T201
    except RefusedInProduction as exc:
        _error(str(exc))
        return EXIT_REFUSED
    return 0


def _cmd_seed_scale(args: argparse.Namespace, settings: Settings) -> int:
    from app.seeding import scale

    try:
        print(asyncio.run(scale.seed(settings, referrals=args.referrals)))  # noqa: T201
    except scale.NeedsPostgreSQL as exc:
        raise UsageError(str(exc)) from exc
    except scale.RefusedInProduction as exc:
        _error(str(exc))
        return EXIT_REFUSED
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    print(  # noqa: T201
        f"Wales NRM serving on http://{args.host}:{args.port} (API docs at /docs)", flush=True
    )
    uvicorn.run(
        "app.main:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers or settings.workers,
        log_config=None,
        access_log=False,
    )
    return 0


def _role_name(value: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
        raise argparse.ArgumentTypeError(f"not a PostgreSQL role name: {value!r}")
    return value


def _count(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 100_000:
        raise argparse.ArgumentTypeError(f"not a number from 0 to 100000: {value!r}")
    return int(value)


def _add_db(sub: Any) -> None:
    db = sub.add_parser("db", help="the database").add_subparsers(dest="db", required=True)
    upgrade = db.add_parser("upgrade", help="migrate to head and load the reference data")
    upgrade.add_argument(
        "--grant-to",
        type=_role_name,
        metavar="ROLE",
        help="PostgreSQL: also grant ROLE the service's privileges (no changes to audit events)",
    )
    upgrade.set_defaults(handler=_cmd_db_upgrade)


def _add_users(sub: Any) -> None:
    users = sub.add_parser("users", help="users").add_subparsers(dest="users", required=True)
    create = users.add_parser("create", help="create a user")
    create.add_argument("--username", required=True, help="the name to sign in with")
    create.add_argument(
        "--password",
        required=True,
        help="at least 12 characters, hard to guess; `-` reads it from standard input, so it "
        "never shows in the process list",
    )
    create.add_argument(
        "--organisation", required=True, help="the organisation's code (all-wales-decision-unit)"
    )
    create.add_argument("--display-name", help="the name others see (default: the username)")
    create.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[r.value for r in Role],
        help="a role the user holds; repeat for several",
    )
    create.set_defaults(handler=_cmd_users_create)


def _add_seed_and_serve(sub: Any) -> None:
    seed = sub.add_parser("seed", help="demo data").add_subparsers(dest="seed", required=True)
    demo = seed.add_parser("demo", help="demo organisations, users and referrals (not production)")
    demo.add_argument(
        "--referrals",
        type=_count,
        default=0,
        metavar="N",
        help="also file N generated referrals across statuses, organisations and nationalities, "
        "so that statistics show more than suppressed cells (each run adds N)",
    )
    demo.set_defaults(handler=_cmd_seed_demo)
    scale = seed.add_parser(
        "scale", help="generated data for measuring (PostgreSQL, not production)"
    )
    scale.add_argument(
        "--referrals",
        type=_between(1, 10_000_000),
        required=True,
        metavar="N",
        help="N referrals in every status, with decisions, notes, immigration records and "
        "about 20 chained audit events each, generated inside PostgreSQL",
    )
    scale.set_defaults(handler=_cmd_seed_scale)
    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument(
        "--port", type=_between(1, 65535), default=8000, help="port to listen on (8000)"
    )
    serve.add_argument(
        "--workers",
        type=_between(1, 64),
        help="worker processes (default: NRM_WORKERS, which defaults to 1)",
    )
    serve.set_defaults(handler=_cmd_serve)


def _between(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, else a usage error in one line."""

    def number(value: str) -> int:
        try:
            parsed = int(value)
        except ValueError:
            parsed = low - 1
        if not low <= parsed <= high:
            raise argparse.ArgumentTypeError(f"{value!r}: give a whole number from {low} to {high}")
        return parsed

    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nrm", description="Wales NRM operations")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_db(sub)
    _add_users(sub)
    _add_seed_and_serve(sub)
    for register in _feature_commands():
        register(sub)
    return parser


def _feature_commands() -> list[Callable[[Any], None]]:
    from app.audit.cli import register as audit
    from app.notifications.cli import register as notifications
    from app.reports.cli import register as reports

    return [audit, reports, notifications]


def settings_problem(exc: ValidationError) -> str:
    """One line naming each setting that is wrong, in the words of its check."""
    parts = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        names = [f"NRM_{str(p).upper()}" for p in error["loc"]]
        if names and names[0] not in message:
            message = f"{names[0]}: {message}"
        parts.append(message)
    return "invalid settings: " + "; ".join(parts)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)  # noqa: T201


def _run(args: argparse.Namespace) -> int:
    """The handler with the settings it needs (none for `audit keygen`)."""
    try:
        settings = get_settings() if getattr(args, "needs_settings", True) else None
    except ValidationError as exc:
        _error(settings_problem(exc))
        return EXIT_USAGE
    if settings is not None and (folder := _missing_sqlite_folder(settings)):
        _error(f"the folder of the SQLite database does not exist: {folder}")
        return EXIT_REFUSED
    return _call(args, settings)


def _call(args: argparse.Namespace, settings: Settings | None) -> int:
    """Every failure an operator can cause becomes one line on standard error and a non-zero
    status; a closed pipe and an interrupt go on to `main`."""
    try:
        code: int = args.handler(args, settings)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except AppError as exc:
        _error(str(exc.detail))
        for field_error in exc.errors:
            print(f"  {field_error.field}: {field_error.message}", file=sys.stderr)  # noqa: T201
        return EXIT_REFUSED
    except ValidationError as exc:
        for error in exc.errors():
            _error(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}")
        return EXIT_REFUSED
    except UsageError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except (DBAPIError, CommandError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        _error(f"the database refused or could not be reached: {reason}")
        return EXIT_REFUSED
    except BrokenPipeError:
        raise
    except OSError as exc:  # a file or folder it cannot read or write
        _error(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        return EXIT_REFUSED
    return code


def _missing_sqlite_folder(settings: Settings) -> Path | None:
    """SQLite would fail to open a file in a missing folder (and aiosqlite's thread would
    complain after the event loop has gone): say so before connecting."""
    database = make_url(settings.database_url).database if settings.is_sqlite else None
    if not database or database == ":memory:":
        return None
    folder = Path(database).parent
    return None if folder.is_dir() else folder


def _quiet_stdout() -> None:
    """After a closed pipe: send what is left to /dev/null, so exit does not fail again."""
    # ValueError and OSError: standard output is not a file (tests capture it).
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run `nrm`. Exit status: 0 done; 1 refused (bad input, a broken audit chain, the
    database); 2 bad usage or invalid settings; 130 interrupted; 141 output closed early
    (`nrm audit export | head -1`), quietly, as other tools that a pipe cuts short."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_PIPE_CLOSED
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
