"""Benchmark: how many stored audit events per second `ChainVerifier.feed` checks, in memory.

Builds 200,000 events over 1,000 streams with `app.audit.chain` itself, then times one walk in
(stream, position) order. No database: this is the ceiling the verify endpoint can approach.
The target (issue) is at least 100,000 events/s.
Run: `.venv/bin/python benchmarks/chain_verify_pure.py`.
"""

from __future__ import annotations

import time
import uuid

from app.audit import chain

EVENTS = 200_000
STREAMS = 1_000


def build_events() -> list[chain.StoredEvent]:
    """Events as `record()` writes them: a realistic content, chained per stream."""
    per_stream = EVENTS // STREAMS
    events: list[chain.StoredEvent] = []
    seq = 0
    for s in range(STREAMS):
        stream = f"referral:{uuid.UUID(int=s)}"
        head: str | None = chain.GENESIS
        for position in range(1, per_stream + 1):
            seq += 1
            canonical = chain.canonical_bytes(_content(stream, position, seq))
            digest = chain.event_hash(head, canonical)
            events.append(chain.StoredEvent(seq, stream, position, canonical, head, digest))
            head = digest
    return events


def _content(stream: str, position: int, seq: int) -> dict[str, object]:
    return chain.event_content(
        stream=stream,
        position=position,
        event_id=str(uuid.UUID(int=seq)),
        at=f"2025-03-01T09:{seq // 60 % 60:02d}:{seq % 60:02d}.000000Z",
        actor={"id": str(uuid.UUID(int=7)), "organisation": "cardiff-council", "roles": ["fr"]},
        action="referral.submitted",
        track="victim",
        referral_id=stream.removeprefix("referral:"),
        changes={"status": {"before": "draft", "after": "submitted"}},
        request_id=f"req-{seq}",
    )


def main() -> None:
    events = build_events()
    verifier = chain.ChainVerifier()
    feed = verifier.feed
    started = time.perf_counter()
    for event in events:
        feed(event)
    elapsed = time.perf_counter() - started
    result = verifier.result()
    assert result.valid, result
    print(
        f"ChainVerifier.feed: {result.events_checked:,} events over {STREAMS:,} streams "
        f"in {elapsed:.3f} s = {result.events_checked / elapsed:,.0f} events/s"
    )


if __name__ == "__main__":
    main()
