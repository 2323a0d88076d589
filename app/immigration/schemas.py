"""The immigration compartment's bodies (API.md "Immigration compartment").

Owns the shape of what an immigration officer writes and reads: the record (a status from the
closed list of `ImmigrationStatus`, and a Home Office reference), and the result of a look-up
by Home Office reference. Must not: declare anything of the referral beyond its id and public
reference (DESIGN §5: the officer may read a referral's identification outcome through
`GET /referrals/{id}/outcome`, nothing else of it), or be imported by the victim side.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.immigration.models import ImmigrationRecord, ImmigrationStatus
from app.schemas import RequestModel, ResponseModel, matching

_REFERENCE = r"^[A-Za-z0-9][A-Za-z0-9/\-. ]*$"
HomeOfficeReference = Annotated[
    str,
    Field(min_length=1, max_length=64, json_schema_extra={"pattern": _REFERENCE}),
    matching(
        _REFERENCE,
        "Use letters, digits, spaces and / - . only, starting with a letter or a digit.",
    ),
]
"""A Home Office reference as the intake form takes it: letters, digits, `/ - . ` and spaces."""


class ImmigrationWrite(RequestModel):
    """`PUT /referrals/{id}/immigration`: the whole record (a reference left out is none)."""

    status: ImmigrationStatus
    home_office_reference: HomeOfficeReference | None = None


class ImmigrationRead(ResponseModel):
    """The record as an immigration officer reads it; its `version` is its ETag."""

    status: ImmigrationStatus
    home_office_reference: str | None
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, record: ImmigrationRecord) -> ImmigrationRead:
        return cls(
            status=ImmigrationStatus(record.status),
            home_office_reference=record.home_office_reference,
            updated_at=record.updated_at,
            version=record.version,
        )


class LookupRead(ResponseModel):
    """Which referral a Home Office reference belongs to, so the officer can read its outcome."""

    referral_id: uuid.UUID
    reference: str
