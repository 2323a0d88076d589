"""The first responder's forms: a referral (with its optional immigration part) and an
anonymous duty-to-notify report (API.md "Referrals", "Duty to notify").

This is the one schema module that declares both sides of a referral; the intake service
splits them. Unknown fields are refused (422), so a client can never set server-owned fields
(status, version, routing, decisions) or slip identifying data into a duty-to-notify report.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from app.immigration.schemas import ImmigrationWrite
from app.referrals.command_schemas import Consent
from app.referrals.vocabulary import (
    ExploitationLocation,
    ExploitationType,
    Gender,
    Indicator,
    Language,
    nationality_codes,
)
from app.schemas import (
    LongText,
    RequestModel,
    ResponseModel,
    ShortText,
    StrictBool,
    StrictInt,
    matching,
)

_ONS_CODE, _LANGUAGE_CODE = r"^W06\d{6}$", r"^[a-z]{2,3}$"
OnsCode = Annotated[
    str,
    Field(json_schema_extra={"pattern": _ONS_CODE}),
    matching(_ONS_CODE, "Give the ONS code of a Welsh local authority, such as W06000015."),
]
LanguageCode = Annotated[
    str,
    Field(json_schema_extra={"pattern": _LANGUAGE_CODE}),
    matching(_LANGUAGE_CODE, "Give a language's ISO 639 code in small letters, such as ro."),
]


def _nationality(value: str | None) -> str | None:
    if value is not None and value not in nationality_codes():
        raise PydanticCustomError(
            "value_error",
            "Give the country's two-letter ISO 3166 code in capitals, such as RO, "
            "or null when it is not known.",
        )
    return value


T = TypeVar("T")


def _distinct(values: list[T]) -> list[T]:
    if len(set(values)) != len(values):
        raise PydanticCustomError("value_error", "Give each value once only.")
    return values


class PotentialVictim(RequestModel):
    given_name: ShortText | None = None
    family_name: ShortText | None = None
    other_names: Annotated[list[ShortText], Field(max_length=20)] = []
    date_of_birth: date | None = None
    estimated_age: Annotated[StrictInt, Field(ge=0, le=120)] | None = None
    gender: Gender
    nationality: str | None = None
    languages: Annotated[list[LanguageCode], Field(max_length=20)] = []
    interpreter_needed: StrictBool = False
    correspondence_language: Language = Language.ENGLISH

    _check_nationality = field_validator("nationality")(_nationality)


class Exploitation(RequestModel):
    types: Annotated[list[ExploitationType], Field(min_length=1, max_length=len(ExploitationType))]
    location: ExploitationLocation
    local_authority: OnsCode
    began_on: date | None = None
    ongoing: StrictBool | None = None
    exploited_as_child: StrictBool | None = None

    _distinct_types = field_validator("types")(_distinct)


class ImmigrationPart(ImmigrationWrite):
    """Goes to the immigration compartment at intake; never part of the referral."""


class ReferralCreate(RequestModel):
    potential_victim: PotentialVictim
    consent: Consent | None = None
    exploitation: Exploitation
    indicators: Annotated[list[Indicator], Field(max_length=len(Indicator))] = []
    account: LongText
    immigration: ImmigrationPart | None = None

    _distinct_indicators = field_validator("indicators")(_distinct)


class DutyToNotifyExploitation(RequestModel):
    types: Annotated[list[ExploitationType], Field(min_length=1, max_length=len(ExploitationType))]
    location: ExploitationLocation
    local_authority: OnsCode

    _distinct_types = field_validator("types")(_distinct)


class DutyToNotifyCreate(RequestModel):
    """An anonymous report: gender, nationality and exploitation only (MSA 2015 s52)."""

    gender: Gender
    nationality: str | None = None
    exploitation: DutyToNotifyExploitation

    _check_nationality = field_validator("nationality")(_nationality)


class DutyToNotifyExploitationRead(ResponseModel):
    types: list[str]
    location: str
    local_authority: str


class DutyToNotifyRead(ResponseModel):
    """A filed duty-to-notify report, as its 201 answers it (API.md): still nothing that
    identifies the person."""

    id: uuid.UUID
    reference: str
    created_at: datetime
    organisation: str
    gender: str
    nationality: str | None
    exploitation: DutyToNotifyExploitationRead
