"""The `nrm audit` subcommands: verify, checkpoint, export, keygen.

Each opens its own engine and uses `transaction()`; none edits an event. `verify` exits 1 when
a chain is broken, a stream's recorded length or head does not match its events, or a
checkpoint is no longer covered; `checkpoint` exits 1 without a signing
key (it never makes one up) and stamps the checkpoint with the service clock, as the API does.
Run `nrm audit checkpoint` from cron: it is how checkpoints are scheduled (docs/audit.md).
`keygen` reads no settings, so it works before any are made. Times given to `export` are read
by the API's own rule (`app.schemas.Moment`): RFC 3339 with a zone, in UTC, else refused.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import checkpoints, proofs, queries
from app.audit.schemas import AuditEventExport
from app.audit.verify import VerifyReport, verify_trail
from app.clock import service_now
from app.db import create_engine, create_sessionmaker, transaction
from app.progress import progress
from app.schemas import Moment
from app.settings import Settings

T = TypeVar("T")
# The type of the API's `since` and `until` query parameters (app.audit.router.event_filters).
MOMENT = TypeAdapter(Moment)
# `nrm audit verify` walks the chains on this many connections at once (PostgreSQL).
WORKERS = max(1, min(8, os.cpu_count() or 1))


def register(subparsers: Any) -> None:
    """Add `nrm audit …` to `nrm`."""
    audit = subparsers.add_parser("audit", help="the audit trail")
    commands = audit.add_subparsers(dest="audit", required=True)
    verify = commands.add_parser("verify", help="walk the chains; exit 1 when broken")
    verify.add_argument(
        "--checkpoint", type=Path, help="a saved checkpoint (JSON file) that must still be covered"
    )
    verify.add_argument(
        "--public-key",
        help="base64 Ed25519 key the checkpoint must be signed by (default: this service's)",
    )
    verify.set_defaults(handler=_cmd_verify)
    checkpoint = commands.add_parser("checkpoint", help="make and print a signed checkpoint now")
    checkpoint.set_defaults(handler=_cmd_checkpoint)
    export = commands.add_parser("export", help="write events as JSON Lines, oldest first")
    export.add_argument(
        "--since",
        required=True,
        type=parse_moment,
        help="inclusive; RFC 3339 with a zone, e.g. 2026-11-28T00:00:00Z",
    )
    export.add_argument(
        "--until",
        required=True,
        type=parse_moment,
        help="exclusive; RFC 3339 with a zone, e.g. 2026-12-01T00:00:00+00:00",
    )
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.set_defaults(handler=_cmd_export)
    keygen = commands.add_parser("keygen", help="print a new NRM_AUDIT_SIGNING_KEY")
    keygen.set_defaults(handler=_cmd_keygen, needs_settings=False)


def parse_moment(value: str) -> datetime:
    """A time as the API reads `since`/`until` (`app.schemas.Moment`): RFC 3339 with a zone,
    in UTC; a time without a zone, a bare date or one past the year 9999 in UTC is refused."""
    try:
        return MOMENT.validate_python(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r}: {exc.errors()[0]['msg']} "
            "(an RFC 3339 time with a zone, such as 2026-11-28T14:03:00Z)"
        ) from exc


def _run(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = create_engine(settings)
        try:
            return await work(create_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)  # noqa: T201
    return 1


def _cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    saved: list[dict[str, Any]] = []
    if args.checkpoint is not None:
        try:
            document = json.loads(args.checkpoint.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return _fail(f"cannot read the checkpoint {args.checkpoint}: {exc}")
        if not isinstance(document, dict):
            return _fail(f"{args.checkpoint} is not a checkpoint document")
        saved.append(document)
    try:
        pinned = (args.public_key or checkpoints.public_key(settings)) if saved else None
    except checkpoints.CheckpointError as exc:
        return _fail(str(exc))
    with progress("verifying the audit trail"):
        report = _run(settings, lambda factory: _verify(factory, saved, pinned))
    print(json.dumps(asdict(report)))  # noqa: T201
    return 0 if report.valid else 1


async def _verify(
    factory: async_sessionmaker[AsyncSession], saved: list[dict[str, Any]], pinned: str | None
) -> VerifyReport:
    async with transaction(factory) as session:
        if saved:
            return await verify_trail(
                session, checkpoints=saved, public_key=pinned, workers=WORKERS
            )
        latest = await checkpoints.latest(session)
        return await verify_trail(session, checkpoints=[latest] if latest else [], workers=WORKERS)


def _cmd_checkpoint(_args: argparse.Namespace, settings: Settings) -> int:
    try:
        checkpoints.signing_key(settings)  # fail before touching the database
        document = _run(settings, lambda factory: _checkpoint(factory, settings))
    except checkpoints.CheckpointError as exc:
        return _fail(str(exc))
    print(json.dumps(document, indent=2, ensure_ascii=False))  # noqa: T201
    return 0


async def _checkpoint(
    factory: async_sessionmaker[AsyncSession], settings: Settings
) -> dict[str, Any] | None:
    async with transaction(factory) as session:
        now = await service_now(session, settings)
    return await checkpoints.make_checkpoint(factory, settings, now=now)


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    if args.until < args.since:
        return _fail("--until is before --since")
    filters = queries.EventFilters(since=args.since, until=args.until)
    if args.out is None:
        count = _run(settings, lambda factory: _export(factory, filters, sys.stdout))
    else:
        with args.out.open("w", encoding="utf-8") as out:
            count = _run(settings, lambda factory: _export(factory, filters, out))
    print(f"exported {count} events", file=sys.stderr)  # noqa: T201
    return 0


async def _export(
    factory: async_sessionmaker[AsyncSession], filters: queries.EventFilters, out: TextIO
) -> int:
    # The horizon in a short transaction of its own, so appends are not held back meanwhile.
    async with transaction(factory) as session:
        upto = await queries.horizon(session)
    count = 0
    with progress("exporting audit events") as advance:
        async with transaction(factory) as session:
            async for event in queries.export_events(session, filters, upto=upto):
                out.write(AuditEventExport.of(event).model_dump_json() + "\n")
                count += 1
                advance()
    return count


def _cmd_keygen(_args: argparse.Namespace, _settings: Settings | None) -> int:
    seed = proofs.generate_seed_b64()
    public = proofs.load_private_key(seed).public_key().public_bytes_raw()
    print(seed)  # noqa: T201
    print(f"public key: {base64.b64encode(public).decode('ascii')}", file=sys.stderr)  # noqa: T201
    return 0
