"""The immigration compartment's commands. Each change writes an `immigration` audit event
(status before and after; the Home Office reference never in clear) and never touches the
referral (DESIGN §5).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.models import Track
from app.immigration.models import ImmigrationRecord, ImmigrationStatus


def reference_fingerprint(reference: str | None) -> str | None:
    """What the audit trail records of a Home Office reference: a digest, never the value."""
    if reference is None:
        return None
    return "sha256:" + hashlib.sha256(reference.encode()).hexdigest()[:16]


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
    record = ImmigrationRecord(
        referral_id=referral_id, status=status.value,
        home_office_reference=home_office_reference, created_at=now, updated_at=now,
    )
    session.add(record)
    await session.flush()
    await audit.record(
        session, actor, action="immigration.recorded", track=Track.IMMIGRATION, now=now,
        referral_id=referral_id,
        stream=immigration_stream(referral_id),
        changes={
            "status": {"before": None, "after": status.value},
            "home_office_reference": {
                "before": None, "after": reference_fingerprint(home_office_reference)
            },
        },
    )
    return record


def immigration_stream(referral_id: uuid.UUID) -> str:
    """The compartment's events chain apart from the referral's own stream."""
    return f"immigration:{referral_id}"
