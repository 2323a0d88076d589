"""The immigration compartment's commands and audited reads.

Owns: recording the immigration part of a form at intake, creating and changing a record with
its own ETag (`If-None-Match: *` to create, `If-Match` to change), and the audited reads (the
record, the look-up by Home Office reference). Each change writes one `immigration` track event
with the status before and after and the Home Office reference only as a fingerprint; each read
writes one `immigration.viewed` / `immigration.looked_up` event on the same track, in the
compartment's own stream, so no decision timeline ever shows it (DESIGN §5, §6).

Must not: touch the referral (its row, version, deadlines, decisions or stream), commit, or be
imported by the victim side (import-linter).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import Track
from app.errors import NotFound, PreconditionFailed, PreconditionRequired
from app.etags import etag, require_if_match
from app.immigration import queries
from app.immigration.models import ImmigrationRecord, ImmigrationStatus


def reference_fingerprint(reference: str | None) -> str | None:
    """What the audit trail records of a Home Office reference: a digest, never the value."""
    if reference is None:
        return None
    return "sha256:" + hashlib.sha256(reference.encode()).hexdigest()[:16]


def immigration_stream(referral_id: uuid.UUID) -> str:
    """The compartment's events chain apart from the referral's own stream."""
    return f"immigration:{referral_id}"


async def _record_event(
    session: AsyncSession,
    actor: audit.ActorRef,
    *,
    action: Action,
    referral_id: uuid.UUID,
    changes: dict[str, dict[str, str | None]],
    now: datetime,
) -> None:
    await audit.record(
        session,
        actor,
        action=action,
        track=Track.IMMIGRATION,
        now=now,
        referral_id=referral_id,
        stream=immigration_stream(referral_id),
        changes=changes,
    )


def _changes(
    before: ImmigrationRecord | None, status: str, reference: str | None
) -> dict[str, dict[str, str | None]]:
    # DESIGN §5: the status before and after; the Home Office reference never in clear.
    return {
        "status": {"before": before.status if before else None, "after": status},
        "home_office_reference": {
            "before": reference_fingerprint(before.home_office_reference) if before else None,
            "after": reference_fingerprint(reference),
        },
    }


async def record_at_intake(
    session: AsyncSession,
    actor: audit.ActorRef,
    *,
    referral_id: uuid.UUID,
    status: ImmigrationStatus,
    home_office_reference: str | None,
    now: datetime,
) -> ImmigrationRecord:
    """Store the immigration part of a first responder's form in the compartment."""
    return await _create(session, actor, referral_id, status, home_office_reference, now)


class WriteMode(StrEnum):
    """What a PUT's preconditions ask for."""

    CREATE = "create"
    CHANGE = "change"


def write_mode(
    record: ImmigrationRecord | None, *, if_match: str | None, if_none_match: str | None
) -> WriteMode:
    """API.md Concurrency: `If-Match` changes the current record (412 when stale or when there
    is none); `If-None-Match: *` creates one (412 when one exists); neither is 428."""
    if if_match is not None:
        if record is None:
            raise PreconditionFailed(
                "no immigration record exists; create it with If-None-Match: *"
            )
        require_if_match(if_match, record.version)
        return WriteMode.CHANGE
    if if_none_match is not None and if_none_match.strip() == "*":
        if record is not None:
            raise PreconditionFailed(f"a record exists; its ETag is {etag(record.version)}")
        return WriteMode.CREATE
    raise PreconditionRequired(
        "send If-None-Match: * to create the record, or If-Match with its ETag to change it"
    )


async def put(
    session: AsyncSession,
    actor: audit.ActorRef,
    referral_id: uuid.UUID,
    *,
    status: ImmigrationStatus,
    home_office_reference: str | None,
    if_match: str | None,
    if_none_match: str | None,
    now: datetime,
) -> ImmigrationRecord:
    """Create or change a referral's record; 404 when the referral does not exist.

    API.md's order: 404 (no such referral) → 428/412 (preconditions). The referral is read,
    never written or locked: nothing here changes it (DESIGN §5).
    """
    await queries.referral_reference(session, referral_id)
    record = await queries.record_of(session, referral_id)
    mode = write_mode(record, if_match=if_match, if_none_match=if_none_match)
    if mode is WriteMode.CREATE:
        return await _create(session, actor, referral_id, status, home_office_reference, now)
    assert record is not None
    changes = _changes(record, status.value, home_office_reference)
    record.status = status.value
    record.home_office_reference = home_office_reference
    record.updated_at = now
    await session.flush()  # the version check: a lost race is StaleDataError, 412
    await _record_event(
        session,
        actor,
        action=Action.IMMIGRATION_UPDATED,
        referral_id=referral_id,
        changes=changes,
        now=now,
    )
    return record


async def _create(
    session: AsyncSession,
    actor: audit.ActorRef,
    referral_id: uuid.UUID,
    status: ImmigrationStatus,
    home_office_reference: str | None,
    now: datetime,
) -> ImmigrationRecord:
    record = ImmigrationRecord(
        referral_id=referral_id,
        status=status.value,
        home_office_reference=home_office_reference,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Two creations raced: the unique referral_id refused the second; its If-None-Match
        # no longer holds. The request's transaction is rolled back by the session dependency.
        raise PreconditionFailed("a record was created meanwhile") from exc
    await _record_event(
        session,
        actor,
        action=Action.IMMIGRATION_UPDATED,
        referral_id=referral_id,
        now=now,
        changes=_changes(None, status.value, home_office_reference),
    )
    return record


async def read(
    session: AsyncSession, actor: audit.ActorRef, referral_id: uuid.UUID, *, now: datetime
) -> ImmigrationRecord:
    """The referral's record, its read audited; 404 when no referral or no record."""
    await queries.referral_reference(session, referral_id)
    record = await queries.record_of(session, referral_id)
    if record is None:
        raise NotFound("no immigration record is recorded for this referral")
    # DESIGN §6: a read of personal data is an event; it names the view, never copies it.
    await _record_event(
        session,
        actor,
        action=Action.IMMIGRATION_VIEWED,
        referral_id=referral_id,
        now=now,
        changes={"view": {"after": "immigration_record"}},
    )
    return record


async def look_up(
    session: AsyncSession, actor: audit.ActorRef, home_office_reference: str, *, now: datetime
) -> queries.Found:
    """The referral a Home Office reference belongs to, the look-up audited; 404 when none."""
    found = await queries.find_by_reference(session, home_office_reference)
    if found is None:
        raise NotFound("no referral holds this Home Office reference")
    await _record_event(
        session,
        actor,
        action=Action.IMMIGRATION_LOOKED_UP,
        referral_id=found.referral_id,
        now=now,
        changes={"home_office_reference": {"after": reference_fingerprint(home_office_reference)}},
    )
    return found
