"""Progress bars for the `nrm` command's long jobs (rich), on standard error at a terminal only.

Standard output carries the commands' results (JSON, event lines, file names), so a bar never
goes there; and when standard error is a pipe, a file or a CI log, nothing is drawn at all. The
bar is transient: it disappears when the job ends, leaving the command's own lines.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


class Advance(Protocol):
    """Moves a bar on by `steps` (one by default)."""

    def __call__(self, steps: int = 1) -> None: ...


def _nothing(steps: int = 1) -> None:
    del steps


@contextmanager
def progress(description: str, *, total: int | None = None) -> Iterator[Advance]:
    """A bar for a job of `total` steps (a spinner with a count when the total is unknown)."""
    stderr = sys.stderr
    if not stderr.isatty():
        yield _nothing
        return
    columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns.append(BarColumn())
    columns += [MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=Console(file=stderr), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def advance(steps: int = 1) -> None:
            bar.advance(task, steps)

        yield advance
