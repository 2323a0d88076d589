"""Identity commands and queries: organisations, users, log-in. Each change writes one audit event.

Never commits (the request's session does); never raises past a refused log-in, whose event must
commit (the router answers 401 after it).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit import service as audit
from app.audit.models import AuditEvent, Track
from app.errors import DuplicateCode, FieldError, NotFound, UsernameTaken, ValidationFailed
from app.identity.deps import Principal
from app.identity.models import LocalAuthority, Organisation, User, UserRole
from app.identity.roles import Role, Sector
from app.identity.schemas import OrganisationCreate, UserCreate, UserUpdate
from app.identity.security import hash_password, verify_password
from app.settings import Settings


async def organisation_by_code(session: AsyncSession, code: str) -> Organisation | None:
    return await session.scalar(select(Organisation).where(Organisation.code == code))


async def list_organisations(
    session: AsyncSession, *, after: str | None, limit: int
) -> list[Organisation]:
    """Organisations in code order, keyset-paged."""
    query = select(Organisation).order_by(Organisation.code).limit(limit)
    if after is not None:
        query = query.where(Organisation.code > after)
    return list((await session.scalars(query)).all())


async def create_organisation(
    session: AsyncSession, actor: Principal, body: OrganisationCreate, *, now: datetime
) -> Organisation:
    return await _create_organisation(session, actor.audit_ref(), body, now=now)


async def create_organisation_as_system(
    session: AsyncSession, body: OrganisationCreate, *, now: datetime
) -> Organisation:
    """An organisation created by the operator's tooling (demo data, the command line)."""
    return await _create_organisation(session, audit.SYSTEM, body, now=now)


async def _create_organisation(
    session: AsyncSession, actor: audit.ActorRef, body: OrganisationCreate, *, now: datetime
) -> Organisation:
    if await organisation_by_code(session, body.code) is not None:
        raise DuplicateCode(f"an organisation with code {body.code} exists")
    if body.local_authority and await session.get(LocalAuthority, body.local_authority) is None:
        raise ValidationFailed(
            "unknown local authority",
            errors=[FieldError("local_authority", "not a Welsh local authority's ONS code")],
        )
    organisation = Organisation(
        code=body.code,
        name=body.name,
        name_cy=body.name_cy or body.name,
        sector=body.sector.value,
        local_authority=body.local_authority,
    )
    session.add(organisation)
    await session.flush()
    await audit.record(
        session,
        actor,
        action="organisation.created",
        track=Track.ADMIN,
        now=now,
        changes={"code": {"after": body.code}, "sector": {"after": body.sector.value}},
    )
    return organisation


async def load_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.scalar(
        select(User)
        .where(User.id == user_id)
        .options(selectinload(User.organisation), selectinload(User.role_rows))
    )


async def create_user(
    session: AsyncSession,
    settings: Settings,
    actor: Principal | None,
    body: UserCreate,
    *,
    now: datetime,
) -> User:
    """A new user; `actor` is None when the operator creates one from the command line."""
    organisation = await organisation_by_code(session, body.organisation)
    if organisation is None:
        raise ValidationFailed(
            "unknown organisation", errors=[FieldError("organisation", "no such organisation")]
        )
    if await session.scalar(select(User.id).where(User.username == body.username)):
        raise UsernameTaken(f"the username {body.username} is taken")
    user = User(
        username=body.username,
        display_name=body.display_name,
        password_hash=hash_password(settings, body.password),
        organisation_id=organisation.id,
        is_active=True,
        created_at=now,
        role_rows=[UserRole(role=r.value) for r in body.roles],
    )
    session.add(user)
    await session.flush()
    await audit.record(
        session,
        actor.audit_ref() if actor else audit.SYSTEM,
        action="user.created",
        track=Track.ADMIN,
        now=now,
        changes={
            "user_id": {"after": str(user.id)},
            "organisation": {"after": organisation.code},
            "roles": {"after": sorted(r.value for r in body.roles)},
        },
    )
    loaded = await load_user(session, user.id)
    assert loaded is not None
    return loaded


async def update_user(
    session: AsyncSession, actor: Principal, user_id: uuid.UUID, body: UserUpdate, *, now: datetime
) -> User:
    """Activate, deactivate or change roles; one `user.updated` event with before and after
    when anything changed (an empty or same-valued update changes and records nothing)."""
    user = await load_user(session, user_id)
    if user is None:
        raise NotFound("no such user")
    changes: dict[str, dict[str, object]] = {"user_id": {"after": str(user.id)}}
    if body.active is not None and body.active != user.is_active:
        changes["active"] = {"before": user.is_active, "after": body.active}
        user.is_active = body.active
    if body.roles is not None:
        before = sorted(r.value for r in user.roles)
        after = sorted({r.value for r in body.roles})
        if before != after:
            changes["roles"] = {"before": before, "after": after}
            user.role_rows = [UserRole(role=r) for r in after]
    await session.flush()
    if len(changes) > 1:  # nothing changed, nothing to record
        await audit.record(
            session,
            actor.audit_ref(),
            action="user.updated",
            track=Track.ADMIN,
            now=now,
            changes=changes,
        )
    refreshed = await load_user(session, user.id)
    assert refreshed is not None
    return refreshed


LOGIN_FAILED = "auth.login_failed"


@dataclass(frozen=True)
class Throttled:
    """Too many failed log-ins of this user lately: refused without checking the password."""

    retry_after_seconds: int


async def _throttled(
    session: AsyncSession, settings: Settings, user: User, now: datetime
) -> Throttled | None:
    """Read from the audit trail, so every worker agrees: the user's recent failures."""
    window = timedelta(minutes=settings.login_failure_window_minutes)
    recent = (
        await session.scalars(
            select(AuditEvent.at)
            .where(
                AuditEvent.actor_id == user.id,
                AuditEvent.action == LOGIN_FAILED,
                AuditEvent.at > now - window,
            )
            .order_by(AuditEvent.at.desc())
            .limit(settings.login_failures_allowed)
        )
    ).all()
    if len(recent) < settings.login_failures_allowed:
        return None
    lifted = recent[-1] + window  # when the oldest counted failure leaves the window
    return Throttled(max(1, math.ceil((lifted - now).total_seconds())))


async def authenticate(
    session: AsyncSession, settings: Settings, username: str, password: str, *, now: datetime
) -> User | Throttled | None:
    """The user if the credentials match, None if not, Throttled after too many failures;
    every attempt is audited (a throttled one as `auth.login_throttled`)."""
    user = await session.scalar(
        select(User).where(User.username == username).options(selectinload(User.organisation))
    )
    if user is not None:
        throttled = await _throttled(session, settings, user, now)
        if throttled is not None:
            await audit.record(
                session,
                audit.ActorRef(user.id, user.organisation.code, ()),
                action="auth.login_throttled",
                track=Track.ACCESS,
                now=now,
                changes={"username": {"after": username[:64]}},
            )
            return throttled
    ok = verify_password(settings, user.password_hash if user else None, password)
    ok = ok and user is not None and user.is_active
    actor = audit.ActorRef(user.id, user.organisation.code, ()) if user else audit.SYSTEM
    await audit.record(
        session,
        actor,
        action="auth.login_succeeded" if ok else LOGIN_FAILED,
        track=Track.ACCESS,
        now=now,
        changes={"username": {"after": username[:64]}},
    )
    return user if ok else None


def is_decision_unit(organisation: Organisation) -> bool:
    return organisation.sector == Sector.DECISION_UNIT.value


def role_values(user: User) -> list[Role]:
    return sorted(user.roles)
