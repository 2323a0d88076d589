"""Base schemas and field types shared by every feature.

Request bodies refuse unknown fields (a misspelt field is never silently dropped), booleans and
integers are strict field by field (`0` is not `false`, `"1"` is not `1`) while dates and UUIDs
still parse from JSON strings, and text refuses control characters other than newline, carriage
return and tab (PostgreSQL cannot store NUL). API.md "Conventions" pins all of it.
"""

from __future__ import annotations

import re
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def refuse_control_characters(value: str) -> str:
    """Refuse NUL and other control characters; newline, carriage return and tab are text."""
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


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
        raise ValueError("must not be blank")
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


T = TypeVar("T")


class Page(ResponseModel, Generic[T]):
    """One page of a list: `{"items": [...], "next_cursor": "..." | null}` (API.md)."""

    items: list[T]
    next_cursor: str | None
