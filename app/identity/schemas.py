"""Request and response bodies of the identity endpoints (API.md "Auth and identity")."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from app.identity import passwords
from app.identity.roles import Role, Sector, combination_problem
from app.schemas import RequestModel, ResponseModel, ShortText, StrictBool, Text, matching


def _text_rule(pattern: str, message: str) -> tuple[object, ...]:
    """A pattern refused in words, still shown in the OpenAPI document."""
    return Field(json_schema_extra={"pattern": pattern}), matching(pattern, message)


_CODE = r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"
_ONS = r"^W06\d{6}$"
_USERNAME = r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$"
Code = Annotated[
    str,
    *_text_rule(
        _CODE, "Use up to 64 letters, digits and hyphens, starting with a letter or digit."
    ),
]
OnsCode = Annotated[
    str, *_text_rule(_ONS, "Give the ONS code of a Welsh local authority, such as W06000015.")
]
Username = Annotated[
    str,
    *_text_rule(
        _USERNAME,
        "Use 3 to 64 letters, digits, dots, hyphens, underscores or @, starting with a letter "
        "or digit.",
    ),
]
Roles = Annotated[list[Role], Field(min_length=1, max_length=len(Role))]
# An e-mail address as mail servers take it: no spaces or control characters (nothing that
# could add a header), one @, a domain of dotted labels.
_EMAIL = (
    r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
Email = Annotated[
    str,
    Field(max_length=320, json_schema_extra={"pattern": _EMAIL, "format": "email"}),
    matching(_EMAIL, "Give an e-mail address, such as team@example.org.uk."),
]
Language = Literal["en", "cy"]


def _allowed_roles(roles: list[Role]) -> list[Role]:
    """Each role once, and admin and immigration officer alone (docs/separation.md)."""
    if len(set(roles)) != len(roles):
        raise PydanticCustomError("roles_repeated", "Each role may be listed only once.")
    problem = combination_problem(set(roles))
    if problem is not None:
        raise PydanticCustomError("roles_combined", problem)
    return roles


class TokenResponse(ResponseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class OrganisationRef(ResponseModel):
    code: str
    name: str
    name_cy: str
    sector: Sector


class OrganisationRead(OrganisationRef):
    local_authority: str | None
    # The organisation's shared mailbox (a team address) for notifications; null without one.
    email: str | None = None


class OrganisationCreate(RequestModel):
    code: Code
    name: ShortText
    name_cy: ShortText | None = None
    sector: Sector
    local_authority: OnsCode | None = None
    email: Email | None = None


class OrganisationUpdate(RequestModel):
    """`PATCH /organisations/{code}`: the shared mailbox (null removes it)."""

    email: Email | None = None


class UserRead(ResponseModel):
    id: uuid.UUID
    username: str
    display_name: str
    organisation: OrganisationRef
    roles: list[Role]
    active: bool
    # The user's language: `en` until they choose (the default). Stored null until then, so
    # that the web pages follow the browser's language meanwhile (WEB.md's order).
    language: Language = "en"
    # Where the user's notifications go; null: they get none.
    email: str | None = None

    @field_validator("language", mode="before")
    @classmethod
    def _default_language(cls, language: object) -> object:
        return "en" if language is None else language


class MeUpdate(RequestModel):
    """`PATCH /me`: the signed-in user's own preferences; a field left out stays as it is,
    `email: null` removes the address."""

    language: Language | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _language_not_null(self) -> MeUpdate:
        if "language" in self.model_fields_set and self.language is None:
            raise ValueError("language may be left out, but not sent as null")
        return self


class UserCreate(RequestModel):
    username: Username
    display_name: ShortText
    # The lengths are checked by `passwords.problem`, in its own words; the schema shows them.
    password: Annotated[
        Text,
        Field(
            json_schema_extra={"minLength": passwords.MIN_LENGTH, "maxLength": passwords.MAX_LENGTH}
        ),
    ]
    organisation: Code
    roles: Roles
    email: Email | None = None
    # Null until chosen: the web pages follow the browser, and messages are in English.
    language: Language | None = None

    @field_validator("password")
    @classmethod
    def _hard_to_guess(cls, password: str, info: ValidationInfo) -> str:
        context = [str(info.data.get(name, "")) for name in ("username", "display_name")]
        problem = passwords.problem(password, context=context)
        if problem is not None:
            raise PydanticCustomError("password_refused", problem)
        return password

    @field_validator("roles")
    @classmethod
    def _roles(cls, roles: list[Role]) -> list[Role]:
        return _allowed_roles(roles)


class UserUpdate(RequestModel):
    active: StrictBool | None = None
    roles: Roles | None = None
    email: Email | None = None  # null removes the address
    language: Language | None = None

    @field_validator("roles")
    @classmethod
    def _roles(cls, roles: list[Role] | None) -> list[Role] | None:
        return None if roles is None else _allowed_roles(roles)

    @model_validator(mode="after")
    def _no_nulls(self) -> UserUpdate:
        # An empty body is allowed (API.md: both fields optional) and changes nothing; a field
        # that is sent must have a value.
        for name in ("active", "roles", "language"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may be left out, but not sent as null")
        return self
