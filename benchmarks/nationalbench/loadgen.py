"""The load generator of `benchmarks/national.py`: a process of its own that drives HTTP load.

`run(job)` starts this file as a separate Python process, hands it the job as JSON on standard
input and reads the result as JSON from standard output, so the client never shares an
interpreter (or its event loop) with what it measures. The client is a small HTTP/1.1 one of its
own (asyncio streams, keep-alive connections, httptools' parser, uvloop) rather than httpx: on
a 2-core machine it shares the cores with the service and PostgreSQL, so it must cost little
(the result says how much CPU it used). Two shapes of load:

* closed: `clients` connections, each sending its next request as soon as the last one is
  answered, for `seconds` (or until `max_requests` were sent), after `warmup` unrecorded
  requests per client;
* open (`rate` set): requests are due at `rate` a second whatever the answers, on as many
  connections as it takes up to `max_connections`; a request's latency counts from when it
  was due, so a backlog in the client shows in it (no coordinated omission).

Requests are taken in turn from `requests`; with `idempotency` each carries a fresh
`Idempotency-Key`. Every answer is counted by status; failures to connect, resets and
requests unanswered after `timeout` seconds are counted apart, as errors.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import httptools
import uvloop


@dataclass
class Job:
    """What to send, where, and for how long (see the module's docstring)."""

    port: int
    requests: list[dict[str, str]]  # {"method", "path", "body"?}, taken in turn
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 10.0
    clients: int = 1
    warmup: int = 1
    max_requests: int | None = None
    rate: float | None = None
    max_connections: int = 1000
    idempotency: bool = False
    timeout: float = 60.0
    host: str = "127.0.0.1"


@dataclass
class Tally:
    """Latencies (seconds) and statuses of the answered requests; errors by kind."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def answered(self, status: int, seconds: float) -> None:
        self.statuses[status] += 1
        self.latencies.append(seconds)

    def summary(self, elapsed: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "count": len(ordered),
            "seconds": elapsed,
            "rps": len(ordered) / elapsed if elapsed > 0 else 0.0,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": dict(self.errors),
            **{f"p{q}_ms": percentile(ordered, q / 100) * 1000 for q in (50, 90, 99)},
            "max_ms": (ordered[-1] if ordered else math.nan) * 1000,
        }


def percentile(ordered: list[float], q: float) -> float:
    """The nearest-rank percentile of sorted values (NaN when there are none)."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class _Answer:
    """httptools' callbacks: only the end of the message matters (the body is dropped)."""

    def __init__(self) -> None:
        self.complete = False

    def on_message_complete(self) -> None:
        self.complete = True


class Connection:
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, raw: bytes) -> tuple[int, bool]:
        """The answer's status and whether the connection may be used again."""
        self.writer.write(raw)
        answer = _Answer()
        parser = httptools.HttpResponseParser(answer)
        while not answer.complete:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionResetError("the server closed the connection")
            parser.feed_data(data)
        return parser.get_status_code(), parser.should_keep_alive()

    def close(self) -> None:
        self.writer.close()


class Requests:
    """The job's requests as bytes, in turn; a fresh Idempotency-Key each when asked."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._turn = itertools.cycle(job.requests)

    def next(self) -> bytes:
        request = next(self._turn)
        body = request.get("body", "").encode()
        lines = [f"{request['method']} {request['path']} HTTP/1.1", f"Host: {self.job.host}"]
        lines += [f"{name}: {value}" for name, value in self.job.headers.items()]
        if self.job.idempotency:
            lines.append(f"Idempotency-Key: {uuid.uuid4()}")
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _exchange(
    job: Job, connection: Connection | None, raw: bytes, tally: Tally | None, since: float
) -> Connection | None:
    """Send one request (opening a connection if need be); the connection to use next."""
    try:
        connection = connection or await Connection.open(job.host, job.port)
        status, keep = await asyncio.wait_for(connection.send(raw), job.timeout)
    except (OSError, TimeoutError) as exc:
        if tally is not None:
            tally.errors[type(exc).__name__] += 1
        if connection is not None:
            connection.close()
        return None
    if tally is not None:
        tally.answered(status, time.perf_counter() - since)
    if not keep:
        connection.close()
        return None
    return connection


async def closed_loop(job: Job, requests: Requests, tally: Tally) -> float:
    """`clients` connections, each sending its next request when answered; the elapsed time."""
    connections: list[Connection | None] = [None] * job.clients
    sent = itertools.count()
    limit = job.max_requests if job.max_requests is not None else math.inf

    async def warm(n: int) -> None:
        for _ in range(job.warmup):
            connections[n] = await _exchange(job, connections[n], requests.next(), None, 0.0)

    async def client(n: int, end: float) -> None:
        while time.perf_counter() < end and next(sent) < limit:
            connections[n] = await _exchange(
                job, connections[n], requests.next(), tally, time.perf_counter()
            )

    await asyncio.gather(*(warm(n) for n in range(job.clients)))
    started = time.perf_counter()
    await asyncio.gather(*(client(n, started + job.seconds) for n in range(job.clients)))
    for connection in connections:
        if connection is not None:
            connection.close()
    return time.perf_counter() - started


async def open_loop(job: Job, requests: Requests, tally: Tally) -> float:
    """Requests due at `rate` a second, whatever the answers; the elapsed time."""
    assert job.rate
    idle: list[Connection] = []
    slots = asyncio.Semaphore(job.max_connections)

    async def one(due: float, raw: bytes) -> None:
        async with slots:
            connection = await _exchange(job, idle.pop() if idle else None, raw, tally, due)
            if connection is not None:
                idle.append(connection)

    started = time.perf_counter()
    tasks = []
    for k in itertools.count():
        due = started + k / job.rate
        if due >= started + job.seconds:
            break
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(due, requests.next())))
    await asyncio.gather(*tasks)
    for connection in idle:
        connection.close()
    return time.perf_counter() - started


async def drive(job: Job) -> dict[str, Any]:
    tally = Tally()
    shape = open_loop if job.rate else closed_loop
    elapsed = await shape(job, Requests(job), tally)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {**tally.summary(elapsed), "client_cpu_s": usage.ru_utime + usage.ru_stime}


def run(job: Job) -> dict[str, Any]:
    """Run `job` in a separate process (this file) and return its result."""
    child = subprocess.run(
        [sys.executable, __file__],
        input=json.dumps(asdict(job)),
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(f"the load generator failed: {child.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(child.stdout)
    return result


def _raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    _raise_open_files_limit()
    job = Job(**json.load(sys.stdin))
    print(json.dumps(uvloop.run(drive(job))))
