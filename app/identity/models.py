"""Identity tables: local authorities, organisations, users and their roles, log-in throttles.

Invariants only (unique codes and usernames, closed vocabularies as CHECK constraints); what a
role may do lives in `permissions.py`, which roles may be held together in `roles.py`, how the
throttles count in `throttle.py`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, new_id
from app.identity.roles import Role, Sector


class ThrottleKind(StrEnum):
    """What a log-in throttle counts failures of: a username (known or not) or a client address."""

    USERNAME = "username"
    ADDRESS = "address"


def _in(column: str, values: type[Role] | type[Sector] | type[ThrottleKind]) -> str:
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
    # The organisation's shared mailbox (a team address), told of its referrals' news
    # (docs/notifications.md); None when it has none.
    email: Mapped[str | None] = mapped_column(String(320))


class User(Base):
    """A person who signs in; belongs to one organisation and holds one or more roles."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("language IN ('en', 'cy')", name="language"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Bumped when the user is deactivated: tokens carry the generation they were issued in and
    # an older one is refused, so reactivating a user never revives their old tokens.
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The language the user chose for the web pages (`en` or `cy`, WEB.md); None until they
    # choose, so that their browser's language serves meanwhile.
    language: Mapped[str | None] = mapped_column(String(2))
    # Where the user's notifications go (docs/notifications.md); None: they get none.
    email: Mapped[str | None] = mapped_column(String(320))

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


class LoginThrottle(Base):
    """Failed log-ins of one username or one client address (`app.identity.throttle`).

    `failures` counts within the window that began at `window_started_at`; reaching the limit
    locks the key until `locked_until` and counts one more of `lockouts`, which makes the next
    lock longer. After `expires_at` the row means nothing and may be deleted.
    """

    __tablename__ = "login_throttles"
    __table_args__ = (
        CheckConstraint(_in("kind", ThrottleKind), name="kind"),
        CheckConstraint("failures >= 0 AND lockouts >= 0", name="counts"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lockouts: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
