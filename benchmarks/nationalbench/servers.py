"""What `benchmarks/national.py` measures, started and stopped: the service (`nrm serve`) and the
bare endpoint (`nationalbench.bare`), each under uvicorn with its own worker processes on a
free port, logging to a file; and the databases they use, prepared through the `nrm` command
(`nrm db upgrade`, `nrm seed demo` for the demo users, `nrm seed scale`).

Only the processes started here are ever stopped, by their own process group.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
NRM = str(Path(sys.executable).with_name("nrm"))
DEMO_PASSWORD = "demo-password-2026"  # the demo users' password (README, "Demo users")
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


def environment(url: str, extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without its `NRM_` settings, plus the database and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NRM_")}
    return {**env, "NRM_DATABASE_URL": url, **extra}


def nrm(url: str, *args: str, extra: dict[str, str] | None = None) -> str:
    """Run `nrm ARGS` on the database at `url`; its output (an error stops the benchmark)."""
    done = subprocess.run(
        [NRM, *args],
        env=environment(url, extra or {}),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"nrm {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def prepare(url: str) -> None:
    """Migrate the database and create the demo users (and the demo's eight referrals, once)."""
    nrm(url, "db", "upgrade")
    nrm(url, "seed", "demo")


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in listed]


def rss_mib(pids: list[int]) -> dict[int, float]:
    """Each process's resident memory now (`VmRSS` in /proc), in MiB."""
    found = {}
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                found[pid] = int(line.split()[1]) / 1024
    return found


@dataclass
class Server:
    """A uvicorn server this benchmark started: its supervisor process and port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def workers(self) -> list[int]:
        """The processes that serve: those uvicorn spawned (its resource tracker left out),
        or uvicorn's own when it runs one worker in-process."""
        spawned = [
            pid
            for pid in _children(self.process.pid)
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        return spawned or [self.process.pid]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _start(
    name: str, argv: list[str], env: dict[str, str], *, port: int, workers: int, logs: Path
) -> Server:
    """Start `argv`, then wait until /healthz answers and every worker is up."""
    log = logs / f"{name}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, process, port, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} stopped at start: {log.read_text()[-2000:]}")
        if _healthy(port) and len(server.workers()) >= workers:
            return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer /healthz within 90 s (log: {log})")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_service(url: str, workers: int, settings: dict[str, str], logs: Path) -> Server:
    """`nrm serve` on a free port with `workers` processes and the `NRM_` `settings`."""
    port = free_port()
    argv = [NRM, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    return _start(
        "service", argv, environment(url, settings), port=port, workers=workers, logs=logs
    )


def start_bare(url: str, workers: int, settings: dict[str, str], logs: Path) -> Server:
    """The bare endpoint under uvicorn, as `nrm serve` runs the service (uvloop, httptools)."""
    port = free_port()
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", "nationalbench.bare:create",
        "--app-dir", str(BENCHMARKS), "--host", HOST, "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    return _start("bare", argv, environment(url, settings), port=port, workers=workers, logs=logs)


def token(port: int, username: str) -> str:
    """A bearer token for a demo user, from `POST /api/v1/auth/token`."""
    form = urllib.parse.urlencode({"username": username, "password": DEMO_PASSWORD}).encode()
    with urllib.request.urlopen(
        f"http://{HOST}:{port}/api/v1/auth/token", data=form, timeout=30
    ) as answer:
        access: str = json.load(answer)["access_token"]
    return access
