"""Response bodies of the audit endpoints, as API.md pins them, and their presenters.

Never used as ORM models. A checkpoint is returned exactly as it was signed: its `at` stays the
string the signature covers, never a re-formatted datetime.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app.audit.models import AuditEvent
from app.audit.verify import VerifyReport
from app.schemas import ResponseModel


class EventActor(ResponseModel):
    """Who acted: ids and codes, never names."""

    id: uuid.UUID | None
    organisation: str | None
    roles: list[str]


class AuditEventRead(ResponseModel):
    """One event of `GET /audit/events`."""

    seq: int
    id: uuid.UUID
    at: datetime
    actor: EventActor
    action: str
    track: str
    referral_id: uuid.UUID | None
    stream: str
    position: int
    changes: dict[str, Any]
    request_id: str | None
    hash: str
    prev_hash: str | None

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventRead:
        return cls(
            seq=event.seq,
            id=event.id,
            at=event.at,
            actor=EventActor(
                id=event.actor_id,
                organisation=event.actor_organisation,
                roles=list(event.actor_roles),
            ),
            action=event.action,
            track=event.track,
            referral_id=event.referral_id,
            stream=event.stream,
            position=event.position,
            changes=dict(event.changes),
            request_id=event.request_id,
            hash=event.hash,
            prev_hash=event.prev_hash,
        )


class AuditEventExport(AuditEventRead):
    """One line of `nrm audit export`: the event and the exact bytes its hash covers."""

    canonical: str

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventExport:
        return cls(**AuditEventRead.of(event).model_dump(), canonical=event.canonical)


class VerifyRead(ResponseModel):
    """`GET /audit/verify`; `checkpoint_seq` and `problems` concern the latest checkpoint."""

    valid: bool
    events_checked: int
    first_invalid_seq: int | None
    checkpoint_seq: int | None
    problems: list[str]

    @classmethod
    def of(cls, report: VerifyReport) -> VerifyRead:
        return cls(
            valid=report.valid,
            events_checked=report.events_checked,
            first_invalid_seq=report.first_invalid_seq,
            checkpoint_seq=report.checkpoint_seq,
            problems=list(report.problems),
        )


class CheckpointStream(ResponseModel):
    """One stream's entry in a checkpoint."""

    stream: str
    length: int
    head: str


class CheckpointRead(ResponseModel):
    """A signed checkpoint (API.md); `signature` covers every other key in canonical form."""

    at: str
    seq: int
    streams: list[CheckpointStream]
    root: str
    signature: str
    public_key: str
