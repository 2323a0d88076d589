"""Verification of the stored audit trail: walk every chain, check columns, check each
stream's record, check checkpoints.

Read-only, in constant memory. The walk is the one place where the backends differ:
`app.audit.walk_postgresql` (the database walks the chains in one aggregate statement, on
several connections in one snapshot for the CLI) and `app.audit.walk_sqlite` (the events
stream through `chain.ChainVerifier`). Checkpoints, when given, must be signed and still
covered by the chains (`proofs.checkpoint_covered`): that catches a stream cut short or
removed even when its record was edited to match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import backends
from app.audit import proofs, walk_postgresql, walk_sqlite
from app.audit.outcome import Outcome


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What `GET /audit/verify` and `nrm audit verify` report.

    `first_invalid_seq` is the lowest seq of an event that does not match its chain or whose
    columns disagree with its content; when every chain holds, the lowest seq of a stream's
    newest event that is not what the stream's record says (its tail was cut, say), else None.
    `problems` says in words what no single event shows: checkpoints badly signed or no longer
    covered, and streams whose recorded length and head do not match their events (one line a
    stream, a checkpoint's first; up to `MAX_STREAM_PROBLEMS` of the latter).
    """

    valid: bool
    events_checked: int
    first_invalid_seq: int | None
    checkpoint_seq: int | None = None
    problems: list[str] = field(default_factory=list)


async def verify_trail(
    session: AsyncSession,
    *,
    checkpoints: Sequence[Mapping[str, Any]] = (),
    public_key: str | None = None,
    workers: int = 1,
) -> VerifyReport:
    """Walk every chain and check each checkpoint against it.

    With `public_key` (base64), each checkpoint must be signed by that key; otherwise by the
    key it embeds (which proves its integrity, not who made it). On PostgreSQL, with
    `workers > 1` and a session bound to an engine, the walk runs on that many connections of
    the engine in one snapshot; otherwise in the session's own transaction.
    """
    problems: list[str] = []
    signed = []
    for checkpoint in checkpoints:
        if proofs.verify_checkpoint_signature(checkpoint, expected_public_key=public_key):
            signed.append(checkpoint)
        else:
            problems.append(f"checkpoint at seq {checkpoint.get('seq')} is not validly signed")
    wanted = _wanted_positions(signed)
    if backends.is_postgresql(session):
        outcome = await walk_postgresql.walk(session, wanted, workers)
    else:
        outcome = await walk_sqlite.walk(session, wanted)
    problems.extend(_stream_problems(signed, outcome))
    first_invalid = outcome.first_invalid
    recorded = outcome.recorded
    return VerifyReport(
        valid=first_invalid is None and recorded.first_seq is None and not problems,
        events_checked=outcome.checked,
        # A broken link is the more precise evidence; a record only says where a stream ends.
        first_invalid_seq=recorded.first_seq if first_invalid is None else first_invalid,
        checkpoint_seq=max((int(c["seq"]) for c in signed), default=None),
        problems=problems,
    )


def _stream_problems(signed: Sequence[Mapping[str, Any]], outcome: Outcome) -> list[str]:
    """The checkpoints' problems, then the records', one line a stream: a checkpoint's first."""
    problems: list[str] = []
    named: set[str] = set()
    for checkpoint in signed:
        found = proofs.checkpoint_covered(checkpoint, outcome.heads, outcome.hash_at)
        problems.extend(found.values())
        named.update(found)
    recorded = outcome.recorded
    problems.extend(p for stream, p in recorded.problems.items() if stream not in named)
    if recorded.more:
        problems.append(f"{recorded.more} more streams do not match their recorded length and head")
    return problems


def _wanted_positions(checkpoints: Sequence[Mapping[str, Any]]) -> dict[str, set[int]]:
    wanted: dict[str, set[int]] = {}
    for checkpoint in checkpoints:
        for entry in checkpoint["streams"]:
            wanted.setdefault(entry["stream"], set()).add(int(entry["length"]))
    return wanted
