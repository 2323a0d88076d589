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
from pydantic_core import PydanticCustomError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def refuse_control_characters(value: str) -> str:
    """Refuse NUL and other control characters; newline, carriage return and tab are text."""
    if _CONTROL.search(value):
        # A PydanticCustomError's message is shown as it is (a ValueError's gets "Value error, ").
        raise PydanticCustomError(
            "value_error", "Remove the control characters: only line breaks and tabs are allowed."
        )
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


T = TypeVar("T")


class Page(ResponseModel, Generic[T]):
    """One page of a list: `{"items": [...], "next_cursor": "..." | null}` (API.md)."""

    items: list[T]
    next_cursor: str | None
