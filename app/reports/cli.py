"""The `nrm report` subcommand: write the auditor's report and its CSV files into a folder.

It reads the database of `NRM_DATABASE_URL` in one `transaction()` (it changes nothing) and
sees everything an auditor sees; the page is the one `GET /statistics/report` serves. Dates are
read as the API reads `from` and `to` (pydantic's `date`). The page is in English unless
`--language cy` asks for Welsh.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.clock import service_now
from app.days import wales_date
from app.db import create_engine, create_sessionmaker, transaction
from app.i18n import core
from app.progress import progress
from app.reports import report, service
from app.settings import Settings

# The type of the API's `from` and `to` query parameters (app.reports.router).
DAY = TypeAdapter(date)


def register(subparsers: Any) -> None:
    """Add `nrm report --from --to --out DIR [--language cy]` to `nrm`."""
    parser = subparsers.add_parser(
        "report", help="write the statistics report (HTML) and its CSV files"
    )
    parser.add_argument(
        "--from", dest="date_from", type=_date, help="first day, inclusive (default 1 January)"
    )
    parser.add_argument(
        "--to", dest="date_to", type=_date, help="last day, inclusive (default today)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument(
        "--language",
        choices=core.LANGUAGES,
        default=core.ENGLISH,
        help="the language of the page (default en; the CSV files are the same in both)",
    )
    parser.set_defaults(handler=_cmd_report)


def _date(value: str) -> date:
    try:
        return DAY.validate_python(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


async def write_report(
    settings: Settings,
    out: Path,
    *,
    date_from: date | None,
    date_to: date | None,
    language: str = core.ENGLISH,
) -> list[Path]:
    """Gather the report's tables and write the page (in `language`) and its CSV files into
    `out`."""
    token = core.current_language.set(language)
    try:
        return await _write(settings, out, date_from=date_from, date_to=date_to)
    finally:
        core.current_language.reset(token)


async def _write(
    settings: Settings, out: Path, *, date_from: date | None, date_to: date | None
) -> list[Path]:
    engine = create_engine(settings)
    with progress("writing the statistics report", total=2) as advance:
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                today = wales_date(await service_now(session, settings))
                period = service.period_of(
                    date_from, date_to, today, max_span_days=settings.statistics_max_span_days
                )
                data = await report.gather(
                    session, period=period, threshold=settings.suppression_threshold
                )
        finally:
            await engine.dispose()
        advance()
        written = report.write(data, out)
        advance()
    return written


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    written = asyncio.run(
        write_report(
            settings,
            args.out,
            date_from=args.date_from,
            date_to=args.date_to,
            language=args.language,
        )
    )
    for path in written:
        print(path)  # noqa: T201
    return 0
