"""Base schemas and field types shared by every feature.

Request bodies refuse unknown fields (a misspelt field is never silently dropped), booleans and
integers are strict field by field (`0` is not `false`, `"1"` is not `1`) while dates and UUIDs
still parse from JSON strings, and text refuses control characters other than newline, carriage
return and tab (PostgreSQL cannot store NUL). API.md "Conventions" pins all of it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
)
from pydantic_core import PydanticCustomError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHARACTERS_REFUSED = "Remove the control characters: only line breaks and tabs are allowed."


def refuse_control_characters(value: str) -> str:
    """Refuse NUL and other control characters; newline, carriage return and tab are text."""
    if _CONTROL.search(value):
        # A PydanticCustomError's message is shown as it is (a ValueError's gets "Value error, ").
        raise PydanticCustomError("value_error", CONTROL_CHARACTERS_REFUSED)
    return value


def matching(pattern: str, message: str) -> AfterValidator:
    """A text rule whose refusal says `message` in words, where Pydantic's `pattern` would show
    the regular expression. Put `Field(json_schema_extra={"pattern": pattern})` beside it so
    the OpenAPI document still shows the pattern."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.search(value) is None:
            raise PydanticCustomError("string_pattern_mismatch", message)
        return value

    return AfterValidator(check)


StrictBool = Annotated[bool, Strict()]
StrictInt = Annotated[int, Strict()]
Text = Annotated[str, AfterValidator(refuse_control_characters)]
NonEmptyText = Annotated[str, Field(min_length=1), AfterValidator(refuse_control_characters)]
ShortText = Annotated[
    str, Field(min_length=1, max_length=200), AfterValidator(refuse_control_characters)
]
LongText = Annotated[
    str, Field(min_length=1, max_length=15_000), AfterValidator(refuse_control_characters)
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("value_error", "Write something: this cannot be blank.")
    return value


Reason = Annotated[
    str,
    Field(min_length=1, max_length=15_000),
    AfterValidator(refuse_control_characters),
    AfterValidator(_not_blank),
]
"""Written reasons, grounds and comments: required, never blank (DESIGN §4)."""


class RequestModel(BaseModel):
    """A request body: unknown fields are refused with 422."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ResponseModel(BaseModel):
    """A response body."""

    model_config = ConfigDict(from_attributes=True)


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _rfc3339_text(value: Any) -> Any:
    # Pydantic would read a bare number as seconds since 1970: a time here is RFC 3339 text.
    if isinstance(value, str) and not _RFC3339.match(value):
        raise PydanticCustomError(
            "datetime_format", "Give a time as 2026-11-28T14:03:00Z (RFC 3339, with its zone)."
        )
    return value


def _in_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:  # 9999-12-31T23:00-05:00 falls in the year 10000
        raise PydanticCustomError(
            "datetime_range", "The time must fall between the years 1 and 9999 in UTC."
        ) from exc


Moment = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_in_utc)]
"""A time given to the service (a query's `since`, the CLI's `--since`): RFC 3339 text with a
zone, read into UTC; a bare number, a time without a zone or one outside the years 1 to 9999
in UTC is refused in words."""

T = TypeVar("T")


class Page(ResponseModel, Generic[T]):
    """One page of a list: `{"items": [...], "next_cursor": "..." | null}` (API.md)."""

    items: list[T]
    next_cursor: str | None
