"""Identity commands and queries: organisations, users, log-in. Each change writes one audit event.

Never commits (the request's session does); never raises past a refused log-in, whose event must
commit (the router answers 401 after it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import Track
from app.errors import (
    DuplicateCode,
    FieldError,
    LastAdmin,
    NotFound,
    UsernameTaken,
    ValidationFailed,
)
from app.identity import contact, throttle
from app.identity.models import LocalAuthority, Organisation, User, UserRole
from app.identity.principal import Principal
from app.identity.roles import Role, combination_problem, effective_roles
from app.identity.schemas import OrganisationCreate, UserCreate, UserUpdate
from app.identity.security import hash_password, verify_password
from app.settings import Settings


async def organisation_by_code(session: AsyncSession, code: str) -> Organisation | None:
    return await session.scalar(select(Organisation).where(Organisation.code == code))


async def list_local_authorities(session: AsyncSession) -> list[LocalAuthority]:
    """The 22 Welsh local authorities, in the order of their ONS codes."""
    return list(
        (await session.scalars(select(LocalAuthority).order_by(LocalAuthority.ons_code))).all()
    )


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
        raise DuplicateCode(
            f"An organisation with the code {body.code} already exists: choose another code."
        )
    if body.local_authority and await session.get(LocalAuthority, body.local_authority) is None:
        raise ValidationFailed(
            "The local authority is not known.",
            errors=[
                FieldError(
                    "local_authority",
                    "Not the ONS code of a Welsh local authority (Cardiff's is W06000015).",
                )
            ],
        )
    organisation = Organisation(
        code=body.code,
        name=body.name,
        name_cy=body.name_cy or body.name,
        sector=body.sector.value,
        local_authority=body.local_authority,
        email=body.email,
    )
    session.add(organisation)
    await session.flush()
    await audit.record(
        session,
        actor,
        action=Action.ORGANISATION_CREATED,
        track=Track.ADMIN,
        now=now,
        changes={
            "code": {"after": body.code},
            "sector": {"after": body.sector.value},
            "email": {"after": body.email is not None},
        },
    )
    return organisation


async def load_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.scalar(
        select(User)
        .where(User.id == user_id)
        .options(selectinload(User.organisation), selectinload(User.role_rows))
    )


async def list_users(session: AsyncSession, *, after: str | None, limit: int) -> list[User]:
    """Users in username order with their organisation and roles, keyset-paged (the
    administrators' page)."""
    query = (
        select(User)
        .options(selectinload(User.organisation), selectinload(User.role_rows))
        .order_by(User.username)
        .limit(limit)
    )
    if after is not None:
        query = query.where(User.username > after)
    return list((await session.scalars(query)).all())


async def decision_makers_of(session: AsyncSession, unit_id: uuid.UUID) -> list[User]:
    """The active decision makers of a unit (seniors included), by name: those a referral
    routed to it may be assigned to (API.md `POST /referrals/{id}/assign`)."""
    users = await session.scalars(
        select(User)
        .where(User.organisation_id == unit_id, User.is_active.is_(True))
        .options(selectinload(User.role_rows))
        .order_by(User.display_name, User.id)
    )
    return [u for u in users if Role.DECISION_MAKER in effective_roles(u.roles)]


async def create_user(
    session: AsyncSession,
    settings: Settings,
    actor: Principal | None,
    body: UserCreate,
    *,
    now: datetime,
) -> User:
    """A new user; `actor` is None when the operator creates one from the command line."""
    _refuse_combination(body.roles)
    organisation = await _new_users_organisation(session, body)
    user = User(
        username=body.username,
        display_name=body.display_name,
        password_hash=hash_password(settings, body.password),
        organisation_id=organisation.id,
        is_active=True,
        created_at=now,
        email=body.email,
        language=body.language,
        role_rows=[UserRole(role=r.value) for r in body.roles],
    )
    session.add(user)
    await session.flush()
    await audit.record(
        session,
        actor.audit_ref() if actor else audit.SYSTEM,
        action=Action.USER_CREATED,
        track=Track.ADMIN,
        now=now,
        changes={
            "user_id": {"after": str(user.id)},
            "organisation": {"after": organisation.code},
            "roles": {"after": sorted(r.value for r in body.roles)},
            "email": {"after": body.email is not None},
            "language": {"after": body.language},
        },
    )
    loaded = await load_user(session, user.id)
    assert loaded is not None
    return loaded


async def _new_users_organisation(session: AsyncSession, body: UserCreate) -> Organisation:
    """The organisation a new user joins; 422 when unknown, 409 when the username is taken."""
    organisation = await organisation_by_code(session, body.organisation)
    if organisation is None:
        raise ValidationFailed(
            "The organisation is not known.",
            errors=[FieldError("organisation", "There is no organisation with this code.")],
        )
    if await session.scalar(select(User.id).where(User.username == body.username)):
        raise UsernameTaken(f"The username {body.username} is taken: choose another.")
    return organisation


async def update_user(
    session: AsyncSession, actor: Principal, user_id: uuid.UUID, body: UserUpdate, *, now: datetime
) -> User:
    """Activate, deactivate or change roles; one `user.updated` event with before and after
    when anything changed (an empty or same-valued update changes and records nothing).

    Deactivating bumps the user's token generation, so their tokens stay refused even if they
    are activated again. The last active admin can be neither deactivated nor demoted (409).
    """
    if body.roles is not None:
        _refuse_combination(body.roles)
    user = await load_user(session, user_id)
    if user is None:
        raise NotFound("There is no user with this id.")
    if _loses_admin(user, body):
        await _refuse_removing_the_last_admin(session, user)
    changes = _apply_update(user, body)
    await session.flush()
    if len(changes) > 1:  # nothing changed, nothing to record
        await audit.record(
            session,
            actor.audit_ref(),
            action=Action.USER_UPDATED,
            track=Track.ADMIN,
            now=now,
            changes=changes,
        )
    refreshed = await load_user(session, user.id)
    assert refreshed is not None
    return refreshed


def _apply_update(user: User, body: UserUpdate) -> dict[str, dict[str, object]]:
    """Change the user as `body` says; what changed, before and after, for the audit event."""
    changes: dict[str, dict[str, object]] = {"user_id": {"after": str(user.id)}}
    if body.active is not None and body.active != user.is_active:
        changes["active"] = {"before": user.is_active, "after": body.active}
        user.is_active = body.active
        if not body.active:
            user.token_generation += 1
    if body.roles is not None:
        before = sorted(r.value for r in user.roles)
        after = sorted({r.value for r in body.roles})
        if before != after:
            changes["roles"] = {"before": before, "after": after}
            user.role_rows = [UserRole(role=r) for r in after]
    contact.apply(user, body, changes)
    return changes


def _refuse_combination(roles: list[Role]) -> None:
    """The schemas refuse these first; this holds for every other caller (docs/separation.md)."""
    problem = combination_problem(set(roles))
    if problem is not None:
        raise ValidationFailed(
            "These roles may not be held together.", errors=[FieldError("roles", problem)]
        )


def _loses_admin(user: User, body: UserUpdate) -> bool:
    if not user.is_active or Role.ADMIN not in user.roles:
        return False
    return body.active is False or (body.roles is not None and Role.ADMIN not in body.roles)


async def _refuse_removing_the_last_admin(session: AsyncSession, user: User) -> None:
    """409 unless another active admin remains.

    Every active admin's row is locked in one order (by id), so two admins removing each other
    at once queue here; the admins are then read again, in a statement that starts after the
    locks were granted and so sees the first one's change (a role change writes `user_roles`,
    which the locking statement's snapshot would not show): one of them is refused.
    """
    active_admins = (
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN.value, User.is_active)
    )
    await session.execute(active_admins.order_by(User.id).with_for_update(of=User))
    admins = await session.scalars(active_admins)
    if not set(admins.all()) - {user.id}:
        raise LastAdmin(
            "This is the last active administrator. Make another user an administrator first, "
            "then deactivate this one or take away their admin role."
        )
    await session.refresh(user, attribute_names=["is_active", "token_generation"])


@dataclass(frozen=True)
class Throttled:
    """Too many failed log-ins of this username or from this address lately: refused, and the
    password's verdict (if it was checked) is not told."""

    retry_after_seconds: int


async def authenticate(
    session: AsyncSession,
    settings: Settings,
    username: str,
    password: str,
    *,
    address: str | None,
    now: datetime,
) -> User | Throttled | None:
    """The one way in, for every door (the API's token endpoint, the web sign-in): the user if
    the credentials match, None if not, Throttled while the username or the client `address`
    is locked (`app.identity.throttle`). Every attempt is audited, a throttled one as
    `auth.login_throttled`; an unknown username's events are the system's."""
    keys = throttle.keys_for(username, address)
    user = await session.scalar(
        select(User).where(User.username == username).options(selectinload(User.organisation))
    )
    actor = audit.ActorRef(user.id, user.organisation.code, ()) if user else audit.SYSTEM
    ok = False
    wait = await throttle.locked(session, keys, now=now)
    if wait is None:  # the hash is checked before the row locks are taken, so they are brief
        ok = verify_password(settings, user.password_hash if user else None, password)
        ok = ok and user is not None and user.is_active
        wait = await throttle.count(session, settings, keys, failed=not ok, now=now)
    if wait is not None:
        action = Action.AUTH_LOGIN_THROTTLED
    else:
        action = Action.AUTH_LOGIN_SUCCEEDED if ok else Action.AUTH_LOGIN_FAILED
    await audit.record(
        session,
        actor,
        action=action,
        track=Track.ACCESS,
        now=now,
        changes={"username": {"after": username[:64]}},
    )
    if wait is not None:
        return Throttled(wait)
    return user if ok else None
