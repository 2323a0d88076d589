"""The `trail` fixture the verification tests tamper with (`tampering.Trail`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from app.audit import service as audit
from app.audit.models import Track
from app.db import create_sessionmaker, transaction
from tests.audit.tampering import ACTOR, LENGTH, NOW, Trail
from tests.conftest import fresh_engine


@pytest.fixture(params=[1, 3], ids=["one-walk", "three-walks"])
async def trail(throwaway: str, request: pytest.FixtureRequest) -> AsyncIterator[Trail]:
    """On PostgreSQL, `three-walks` splits the streams over three connections in one snapshot
    (what `nrm audit verify` does); SQLite always walks once."""
    engine = fresh_engine(throwaway)
    sessions = create_sessionmaker(engine)
    referral = uuid.uuid4()
    names = [audit.referral_stream(referral), f"test:{uuid.uuid4()}", f"test:{uuid.uuid4()}"]
    streams: dict[str, list[int]] = {name: [] for name in names}
    async with transaction(sessions) as session:
        for position in range(1, LENGTH + 1):
            for name in names:
                event = await audit.record(
                    session,
                    ACTOR,
                    action="referral.stepped",
                    track=Track.VICTIM,
                    now=NOW + timedelta(minutes=position),
                    referral_id=referral if name.startswith("referral:") else None,
                    stream=name,
                    changes={"step": {"before": position - 1, "after": position}},
                )
                streams[name].append(event.seq)
    try:
        yield Trail(engine, sessions, streams, referral, workers=request.param)
    finally:
        await engine.dispose()
