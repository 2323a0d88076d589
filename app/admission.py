"""Admission control: a bound on the requests in flight in one worker process (API.md: 503
with `Retry-After` when the service is overloaded; the limit is far above ordinary use).

A request takes one of `NRM_MAX_CONCURRENT_REQUESTS` slots before anything else runs and gives
it back when its response has been sent (or when it failed). When every slot is taken it waits
up to `NRM_ADMISSION_WAIT_MS` for one, so a brief burst is served a few milliseconds late rather
than refused; past that it is answered at once with 503 `overloaded` and `Retry-After: 1`,
without reading its body, so the requests already admitted keep their connections and finish.
The service recovers by itself: as they finish, slots free and new requests are admitted.

The probes (`/healthz`, `/readyz`) and `/metrics` never take a slot, so an orchestrator and
Prometheus still see the process while it refuses work. Pure ASGI, one instance per app; its
slots are per process (each uvicorn worker has its own), docs/performance.md "Overload".
"""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import Overloaded
from app.problems import problem_response

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Paths that are never counted nor refused: the probes and the metrics."""

REFUSED = Counter(
    "nrm_admission_refused", "Requests refused with 503 overloaded: every slot was taken"
)
IN_FLIGHT = Gauge("nrm_requests_in_flight", "Requests holding an admission slot")
log = structlog.get_logger("app.admission")


class AdmissionMiddleware:
    """Admits at most `limit` requests at once; one more waits up to `wait_ms`, then 503."""

    def __init__(self, app: ASGIApp, *, limit: int, wait_ms: int) -> None:
        if limit < 1 or wait_ms < 0:
            raise ValueError("the admission limit must be at least 1 and the wait not negative")
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_ms / 1000
        # Bound to the running loop on its first wait (one loop per worker process).
        self._slots = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if not await self._admit():
            await self._refuse(scope, receive, send)
            return
        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            IN_FLIGHT.dec()
            self._slots.release()

    async def _admit(self) -> bool:
        """Take a slot: at once if one is free, else within the wait; False when none came."""
        if not self._slots.locked():
            await self._slots.acquire()  # does not wait: a slot is free
            return True
        if self.wait_seconds <= 0:
            return False
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            return False
        return True

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        REFUSED.inc()
        log.warning("overloaded", path=scope.get("path"), limit=self.limit)
        error = Overloaded("The service has more requests than it can answer at once: try again.")
        await problem_response(error, path=scope.get("path"))(scope, receive, send)
