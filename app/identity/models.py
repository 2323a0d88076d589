"""Identity tables: local authorities, organisations, users and their roles.

Invariants only (unique codes and usernames, closed vocabularies as CHECK constraints); what a
role may do lives in `permissions.py`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, new_id
from app.identity.roles import Role, Sector


def _in(column: str, values: type[Role] | type[Sector]) -> str:
    listed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({listed})"


class LocalAuthority(Base):
    """A Welsh council by its ONS code, with the police force and health board covering it."""

    __tablename__ = "local_authorities"

    ons_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_cy: Mapped[str] = mapped_column(String(200))
    police_force: Mapped[str] = mapped_column(String(64))
    health_board: Mapped[str] = mapped_column(String(64))


class Organisation(Base):
    """A body in the mechanism: a referrer, a deciding unit, or both."""

    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint(_in("sector", Sector), name="sector"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_cy: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(32))
    # For a council, its own ONS code; for a decision unit, the council whose child panel it is.
    local_authority: Mapped[str | None] = mapped_column(
        ForeignKey("local_authorities.ons_code"), index=True
    )


class User(Base):
    """A person who signs in; belongs to one organisation and holds one or more roles."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="raise")
    role_rows: Mapped[list[UserRole]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="UserRole.role"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)


class UserRole(Base):
    """One role held by one user."""

    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(_in("role", Role), name="role"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
