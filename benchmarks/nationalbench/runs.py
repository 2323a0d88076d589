"""What the phases of `benchmarks/national.py` share: the run (its options, the service's
settings, the rows so far), printing, and loads for the separate load generator."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nationalbench import loadgen, servers
from nationalbench.figures import Result, Row


@dataclass
class Run:
    """One run's options, the `NRM_` settings its services get, and the rows it has so far."""

    args: argparse.Namespace
    logs: Path
    settings: dict[str, str]
    secret: str
    rows: list[Row] = field(default_factory=list)


def say(line: str = "") -> None:
    print(line, flush=True)


def show(name: str, result: Result) -> None:
    """One measured load, in a line."""
    answers = ", ".join(f"{s}: {n}" for s, n in result["statuses"].items())
    errors = "".join(f", {k}: {n}" for k, n in result["errors"].items())
    say(
        f"* {name}: {result['rps']:,.1f}/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms, n={result['count']} "
        f"({answers}{errors}); client CPU {result['client_cpu_s']:.1f} s"
    )


def load(name: str, job: loadgen.Job) -> Result:
    """Run `job` in the load generator's own process and print its line."""
    result = loadgen.run(job)
    show(name, result)
    return result


def get(path: str) -> dict[str, str]:
    return {"method": "GET", "path": path}


def closed(run: Run, port: int, requests: list[dict[str, str]], **rest: Any) -> loadgen.Job:
    """A closed-loop job at the run's write concurrency and duration unless told otherwise."""
    rest.setdefault("clients", run.args.clients)
    rest.setdefault("seconds", run.args.seconds)
    return loadgen.Job(port=port, requests=requests, **rest)


def bearer(port: int, username: str) -> dict[str, str]:
    """The Authorization header of a demo user, signed in now."""
    return {"Authorization": f"Bearer {servers.token(port, username)}"}
