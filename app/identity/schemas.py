"""Request and response bodies of the identity endpoints (API.md "Auth and identity")."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from app.identity.roles import Role, Sector
from app.schemas import RequestModel, ResponseModel, ShortText, StrictBool, Text

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
OnsCode = Annotated[str, Field(pattern=r"^W06\d{6}$")]
Username = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$")]
Password = Annotated[Text, Field(min_length=12, max_length=1024)]


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


class OrganisationCreate(RequestModel):
    code: Code
    name: ShortText
    name_cy: ShortText | None = None
    sector: Sector
    local_authority: OnsCode | None = None


class UserRead(ResponseModel):
    id: uuid.UUID
    username: str
    display_name: str
    organisation: OrganisationRef
    roles: list[Role]
    active: bool


class UserCreate(RequestModel):
    username: Username
    display_name: ShortText
    password: Password
    organisation: Code
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(Role))]

    @field_validator("roles")
    @classmethod
    def _distinct(cls, roles: list[Role]) -> list[Role]:
        if len(set(roles)) != len(roles):
            raise ValueError("roles must not repeat")
        return roles


class UserUpdate(RequestModel):
    active: StrictBool | None = None
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(Role))] | None = None

    @model_validator(mode="after")
    def _distinct_roles(self) -> UserUpdate:
        # An empty body is allowed (API.md: both fields optional) and changes nothing; a field
        # that is sent must have a value.
        for name in ("active", "roles"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may be left out but not null")
        if self.roles is not None and len(set(self.roles)) != len(self.roles):
            raise ValueError("roles must not repeat")
        return self
