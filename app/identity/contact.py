"""Where notifications reach people: users' e-mail and language, organisations' mailboxes
(CASEWORK "Users' contact details and language"). Each change writes one audit event, which
says whether an address is set, never the address. Never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.actions import Action
from app.audit.models import Track
from app.errors import NotFound
from app.identity.models import Organisation, User
from app.identity.principal import Principal
from app.identity.schemas import MeUpdate, OrganisationUpdate, UserUpdate


async def update_organisation(
    session: AsyncSession, actor: Principal, code: str, body: OrganisationUpdate, *, now: datetime
) -> Organisation:
    """Set or remove the organisation's shared mailbox; one `organisation.updated` event when
    it changed (whether an address is set, never the address)."""
    organisation = await session.scalar(
        select(Organisation).where(Organisation.code == code).with_for_update()
    )
    if organisation is None:
        raise NotFound("There is no organisation with this code.")
    if "email" in body.model_fields_set and body.email != organisation.email:
        before, organisation.email = organisation.email, body.email
        await session.flush()
        await audit.record(
            session,
            actor.audit_ref(),
            action=Action.ORGANISATION_UPDATED,
            track=Track.ADMIN,
            now=now,
            changes={
                "code": {"after": code},
                "email": {"before": before is not None, "after": body.email is not None},
            },
        )
    return organisation


async def update_me(
    session: AsyncSession, actor: Principal, user: User, body: MeUpdate, *, now: datetime
) -> User:
    """The user's own language and e-mail (`PATCH /me`); one `user.updated` event when
    anything changed."""
    changes: dict[str, dict[str, object]] = {"user_id": {"after": str(user.id)}}
    apply(user, body, changes)
    if len(changes) > 1:
        await session.flush()
        await audit.record(
            session,
            actor.audit_ref(),
            action=Action.USER_UPDATED,
            track=Track.ADMIN,
            now=now,
            changes=changes,
        )
    return user


def apply(user: User, body: UserUpdate | MeUpdate, changes: dict[str, dict[str, object]]) -> None:
    """The e-mail and language a body sends (a field left out stays); the audit event says
    whether an address is set, never the address."""
    if body.language is not None and body.language != user.language:
        changes["language"] = {"before": user.language, "after": body.language}
        user.language = body.language
    if "email" in body.model_fields_set and body.email != user.email:
        changes["email"] = {"before": user.email is not None, "after": body.email is not None}
        user.email = body.email
