"""A real `nrm worker` process killed (SIGKILL) in the middle of a batch, then started again:
nothing is lost, and nothing is sent twice except the message that was in flight when it died,
which SMTP itself cannot tell apart and which keeps its `Message-ID` (CASEWORK.md)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.main import create_app
from app.notifications.models import Notification
from tests.databases import settings_for
from tests.notifications.conftest import Inbox, free_port
from tests.notifications.walk import give_addresses
from tests.referrals.builders import file_case, make_cast_quickly

pytestmark = [pytest.mark.committing]
NRM = Path(sys.executable).parent / "nrm"
NO_ADDRESS = "no e-mail address"


class SlowInbox(Inbox):
    """A mail server that takes a while over each message, so a batch is still going."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(0.3)
        return await super().handle_DATA(server, session, envelope)


async def test_a_worker_killed_mid_batch_and_started_again_loses_nothing(
    throwaway: str, tmp_path: Path
) -> None:
    inbox = SlowInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app = create_app(settings_for(throwaway))
    try:
        cast = await make_cast_quickly(app, app.state.sessionmaker)
        async with app.state.sessionmaker() as session:
            await give_addresses(
                session, cast.responder, cast.decision_maker, cast.senior, cast.senior_two
            )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for _ in range(3):
                await file_case(client, cast.responder)
            env = os.environ | {
                "NRM_DATABASE_URL": throwaway,
                "NRM_ENV": "test",
                "NRM_TEST_CLOCK": "true",  # the lease runs on the service clock
                "NRM_SMTP_URL": f"smtp://127.0.0.1:{port}",
                "NRM_MAIL_DIR": str(tmp_path),
            }
            worker = subprocess.Popen([str(NRM), "worker"], env=env)
            try:
                for _ in range(1200):
                    if len(inbox.messages) >= 2:
                        break
                    await asyncio.sleep(0.05)
            finally:
                worker.kill()
                worker.wait(timeout=30)
            assert len(inbox.messages) >= 2
            async with app.state.sessionmaker() as session:
                rows = (await session.scalars(select(Notification))).all()
                waiting = [r for r in rows if r.status == "queued"]
            assert waiting, "the worker was killed after its batch: nothing was in flight"
            # What the dead worker claimed waits out its lease; the service clock passes it.
            moved = await client.post(
                "/api/v1/test-clock", json={"advance_days": 1}, headers=cast.admin.headers
            )
            assert moved.status_code == 200
        again = await asyncio.to_thread(
            subprocess.run, [str(NRM), "worker", "--once"], env=env, timeout=300, check=False
        )
        assert again.returncode == 0
        async with app.state.sessionmaker() as session:
            rows = (await session.scalars(select(Notification))).all()
    finally:
        controller.stop()
        await app.state.engine.dispose()
    sendable = [r for r in rows if r.last_error != NO_ADDRESS]
    assert {r.status for r in sendable} == {"sent"}
    received = Counter(str(m["Message-ID"]) for m in inbox.messages)
    assert set(received) == {f"<{r.id}@127.0.0.1>" for r in sendable}  # nothing lost
    assert sum(received.values()) - len(received) <= 1  # at most the one in flight, again
