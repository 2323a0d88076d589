"""The running service and the browser of the browser tests: one server per database and one
Chromium (Debian's, through Playwright's `executable_path`) for the whole run (WEB.md "How it is
tested"). The server commits for real, on a throwaway copy of the template with the demo data.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from app.demo import seed
from app.main import create_app
from tests.databases import Backend, settings_for

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "demo-password-2026"
RESPONDER = "demo-first-responder"
OTHER_RESPONDER = "demo-health-responder"


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    database: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(backend: Backend) -> LiveServer:
    """A copy of the template with the demo users and referrals, served on a free port."""
    database = backend.copy("nrm_b")
    settings = settings_for(database)
    asyncio.run(seed(settings))
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread, database)


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page: its default rules, best practices included."""
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))); }"
    )
    violations: list[dict[str, Any]] = json.loads(result)
    return violations
