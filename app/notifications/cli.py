"""`nrm worker`: deliver the notifications' outbox until stopped, or `--once` (everything due,
then exit 0). Stopped by SIGINT or SIGTERM between two rounds' steps, with status 0."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

from app.db import create_engine, create_sessionmaker
from app.notifications import worker
from app.settings import Settings


def register(subparsers: Any) -> None:
    """Add `nrm worker` to `nrm`."""
    command = subparsers.add_parser("worker", help="deliver notifications (runs until stopped)")
    command.add_argument(
        "--once", action="store_true", help="deliver everything due now, then exit"
    )
    command.set_defaults(handler=_cmd_worker)


def _cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    tried = asyncio.run(_work(settings, once=args.once))
    if args.once:
        print(f"notifications tried: {tried}")  # noqa: T201
    return 0


async def _work(settings: Settings, *, once: bool) -> int:
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    try:
        if once:
            return await worker.run_once(sessions, settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await worker.run(sessions, settings, stop)
        return 0
    finally:
        await engine.dispose()
