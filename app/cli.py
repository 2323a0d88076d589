"""The `nrm` command for operators: migrate, create users, seed demo data, serve, audit.

Each subcommand runs in one `transaction()`; features add their own subcommands through a
`register(subparsers)` function (audit, reports).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from pydantic import ValidationError

from app.clock import real_now
from app.db import create_engine, create_sessionmaker, transaction
from app.errors import AppError
from app.identity import reference
from app.identity import service as identity
from app.identity.roles import Role
from app.identity.schemas import UserCreate
from app.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    """Alembic's configuration for `url` (the migrations ship beside `app/`)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    return config


def db_upgrade(settings: Settings) -> int:
    """Apply every migration, then load the reference data; returns the rows changed."""
    command.upgrade(alembic_config(settings.database_url), "head")
    return asyncio.run(_load_reference(settings))


async def _load_reference(settings: Settings) -> int:
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await reference.load(session, now=real_now())
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


def _cmd_db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    changed = db_upgrade(settings)
    print(f"database at head; reference data: {changed} rows changed")  # noqa: T201
    return 0


def _cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    body = UserCreate(
        username=args.username,
        display_name=args.display_name or args.username,
        password=args.password,
        organisation=args.organisation,
        roles=[Role(r) for r in args.role],
    )
    print(asyncio.run(create_user(settings, body)))  # noqa: T201
    return 0


def _cmd_seed_demo(_args: argparse.Namespace, settings: Settings) -> int:
    from app.demo import seed

    print(asyncio.run(seed(settings)))  # noqa: T201
    return 0


def _cmd_serve(args: argparse.Namespace, _settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "app.main:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nrm", description="Wales NRM operations")
    sub = parser.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="the database").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="migrate to head and load the reference data").set_defaults(
        handler=_cmd_db_upgrade
    )
    users = sub.add_parser("users", help="users").add_subparsers(dest="users", required=True)
    create = users.add_parser("create", help="create a user")
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--organisation", required=True)
    create.add_argument("--display-name")
    create.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    create.set_defaults(handler=_cmd_users_create)
    seed = sub.add_parser("seed", help="demo data").add_subparsers(dest="seed", required=True)
    seed.add_parser("demo", help="demo organisations, users and referrals").set_defaults(
        handler=_cmd_seed_demo
    )
    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=_cmd_serve)
    for register in _feature_commands():
        register(sub)
    return parser


def _feature_commands() -> list[Callable[[Any], None]]:
    from app.audit.cli import register as audit
    from app.reports.cli import register as reports

    return [audit, reports]


def main(argv: Sequence[str] | None = None) -> int:
    """Run `nrm`; exit status 0 on success, 1 on a refused request, 2 on bad usage."""
    args = build_parser().parse_args(argv)
    settings = get_settings()
    try:
        code: int = args.handler(args, settings)
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)  # noqa: T201
        for field_error in exc.errors:
            print(f"  {field_error.field}: {field_error.message}", file=sys.stderr)  # noqa: T201
        return 1
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"])
            print(f"error: {field}: {error['msg']}", file=sys.stderr)  # noqa: T201
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
