"""Builders for referral tests: a valid form, filing it over HTTP, and a cast of users.

Workflow states are reached through the real commands (STYLE.md), so audit events and
deadlines stay consistent; use `file_referral` and then the command endpoints.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.days import wales_date
from app.identity.roles import Role, Sector
from tests.factories import AppUser, make_organisation, make_user

FORM: dict[str, Any] = {
    "potential_victim": {
        "given_name": "Ana",
        "family_name": "Popescu",
        "other_names": [],
        "date_of_birth": "1999-04-02",
        "estimated_age": None,
        "gender": "female",
        "nationality": "RO",
        "languages": ["ro"],
        "interpreter_needed": True,
        "correspondence_language": "en",
    },
    "consent": {"given": True, "recorded_on": "2026-11-27"},
    "exploitation": {
        "types": ["sexual", "labour"],
        "location": "uk",
        "local_authority": "W06000015",
        "began_on": "2025-06-01",
        "ongoing": False,
        "exploited_as_child": False,
    },
    "indicators": ["withheld_documents", "debt_bondage"],
    "account": "What the first responder saw and was told.",
    "immigration": {"status": "visa_overstayer", "home_office_reference": "HO-123456"},
}


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def referral_form(**overrides: Any) -> dict[str, Any]:
    """A valid referral form; nested overrides merge (`potential_victim={"gender": "male"}`)."""
    return _merge(copy.deepcopy(FORM), overrides)


def child_form(**overrides: Any) -> dict[str, Any]:
    """A child's referral (no consent needed): born 2012, Cardiff."""
    form = referral_form(**overrides)
    form["potential_victim"]["date_of_birth"] = "2012-01-01"
    form.pop("consent", None)
    return form


async def file_referral(
    client: httpx.AsyncClient,
    user: AppUser,
    form: dict[str, Any] | None = None,
    **overrides: Any,
) -> httpx.Response:
    """POST /referrals as `user`; asserts 201 and returns the response."""
    response = await client.post(
        "/api/v1/referrals", json=form or referral_form(**overrides), headers=user.headers
    )
    assert response.status_code == 201, response.text
    return response


async def command(
    client: httpx.AsyncClient,
    user: AppUser,
    referral: httpx.Response | dict[str, Any],
    action: str,
    body: dict[str, Any] | None = None,
    *,
    etag: str | None = None,
) -> httpx.Response:
    """POST /referrals/{id}/{action} with If-Match (the referral's current ETag by default)."""
    data = referral.json() if isinstance(referral, httpx.Response) else referral
    tag = etag if etag is not None else f'"{data["version"]}"'
    return await client.post(
        f"/api/v1/referrals/{data['id']}/{action}",
        json=body or {},
        headers={**user.headers, "If-Match": tag},
    )


@dataclass
class Cast:
    """The people of one case: a referrer, deciders, a panel, oversight, and outsiders."""

    responder: AppUser  # first responder, south-wales-police
    decision_maker: AppUser  # all-wales-decision-unit
    senior: AppUser
    senior_two: AppUser
    panel: AppUser
    auditor: AppUser
    immigration: AppUser
    admin: AppUser
    other_responder: AppUser  # first responder of another organisation (gwent-police)
    other_unit_maker: AppUser  # decision maker of another unit (a child panel)
    child_panel: str  # code of Cardiff's child decision panel


async def make_cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    async with sessions() as s:
        panel = await make_organisation(
            s,
            code="cardiff-child-panel",
            sector=Sector.DECISION_UNIT,
            local_authority="W06000015",
        )
        unit = "all-wales-decision-unit"
        return Cast(
            responder=await make_user(
                app, s, Role.FIRST_RESPONDER, organisation="south-wales-police"
            ),
            decision_maker=await make_user(app, s, Role.DECISION_MAKER, organisation=unit),
            senior=await make_user(app, s, Role.SENIOR_DECISION_MAKER, organisation=unit),
            senior_two=await make_user(app, s, Role.SENIOR_DECISION_MAKER, organisation=unit),
            panel=await make_user(app, s, Role.PANEL_MEMBER, organisation=unit),
            auditor=await make_user(app, s, Role.AUDITOR, organisation=unit),
            immigration=await make_user(app, s, Role.IMMIGRATION_OFFICER, organisation=unit),
            admin=await make_user(app, s, Role.ADMIN, organisation=unit),
            other_responder=await make_user(
                app, s, Role.FIRST_RESPONDER, organisation="gwent-police"
            ),
            other_unit_maker=await make_user(app, s, Role.DECISION_MAKER, organisation=panel.code),
            child_panel=panel.code,
        )


async def service_now(client: httpx.AsyncClient, user: AppUser) -> datetime:
    """The service clock's instant (the test clock included)."""
    response = await client.get("/api/v1/test-clock", headers=user.headers)
    assert response.status_code == 200, response.text
    return datetime.fromisoformat(response.json()["now"])


async def service_date(client: httpx.AsyncClient, user: AppUser) -> date:
    """Today's Welsh date on the service clock (the test clock included)."""
    return wales_date(await service_now(client, user))


def days_to(now: datetime, day: date) -> int:
    """The whole days to move the clock by so that its Welsh date becomes `day`.

    The test clock moves by whole days, which keep the time of day in UTC; across a change of
    the clocks in Wales that time can fall an hour either side of midnight (after 23:00 UTC
    in winter, a summer day's 23:xx UTC is already the next day's 00:xx BST), so the offset
    is corrected by where it would land."""
    offset = (day - wales_date(now)).days
    return offset + (day - wales_date(now + timedelta(days=offset))).days


async def set_service_date(client: httpx.AsyncClient, user: AppUser, day: date) -> None:
    """Move the test clock so that the service's Welsh date is `day`, at any time of day."""
    offset = days_to(await service_now(client, user), day)
    response = await client.post(
        "/api/v1/test-clock", json={"advance_days": offset}, headers=user.headers
    )
    assert response.status_code == 200, response.text


# --- The workflow's commands (issue 4: commands, queue, timeline) ---------------------------

RG_POSITIVE = {"stage": "reasonable_grounds", "outcome": "positive", "reasons": "Credible account."}
RG_NEGATIVE = {"stage": "reasonable_grounds", "outcome": "negative", "reasons": "No indicators."}
CG_POSITIVE = {
    "stage": "conclusive_grounds",
    "outcome": "positive",
    "reasons": "On the balance.",
    "early_decision_reason": "The person asked for an early decision.",
}
CG_NEGATIVE = {
    "stage": "conclusive_grounds",
    "outcome": "negative",
    "reasons": "Not on the balance.",
    "early_decision_reason": "The person asked for an early decision.",
}


@dataclass
class Case:
    """A filed referral as a test drives it: its id and the ETag version it is at now."""

    id: str
    reference: str
    version: int
    decision_id: str | None = None  # the latest decision taken or proposed
    request_id: str | None = None  # the latest reconsideration request

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


async def file_case(
    client: httpx.AsyncClient, user: AppUser, form: dict[str, Any] | None = None
) -> Case:
    """File a referral (adult, Cardiff: routed to the All-Wales unit) and follow it."""
    body = (await file_referral(client, user, form)).json()
    return Case(id=body["id"], reference=body["reference"], version=body["version"])


async def run(
    client: httpx.AsyncClient,
    user: AppUser,
    case: Case,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    etag: str | None = None,
    if_match: bool = True,
) -> httpx.Response:
    """POST /referrals/{id}/{path} with the case's ETag; follows the new ETag on success."""
    headers = dict(user.headers)
    if if_match:
        headers["If-Match"] = etag or case.etag
    response = await client.post(
        f"/api/v1/referrals/{case.id}/{path}", json=body or {}, headers=headers
    )
    if response.is_success:
        case.version = int(response.headers["ETag"].strip('"'))
        if path == "decisions":
            case.decision_id = response.json()["id"]
        if path == "reconsideration-requests":
            case.request_id = response.json()["id"]
    return response


async def step(
    client: httpx.AsyncClient,
    user: AppUser,
    case: Case,
    path: str,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    """`run`, asserting success: for arranging a state, not for the behaviour under test."""
    response = await run(client, user, case, path, body)
    assert response.is_success, f"{path}: {response.status_code} {response.text}"
    return response


async def review_case(
    client: httpx.AsyncClient,
    user: AppUser,
    case: Case,
    *,
    agree: bool,
    comments: str = "Reviewed.",
) -> httpx.Response:
    """Review the case's latest decision (a proposal) as `user`."""
    return await run(
        client,
        user,
        case,
        f"decisions/{case.decision_id}/review",
        {"agree": agree, "comments": comments},
    )


STATES = (
    "awaiting_rg",
    "rg_proposed",
    "rg_negative",
    "rg_reconsidering",
    "recovery_period",
    "cg_proposed",
    "cg_positive",
    "cg_negative",
    "cg_reconsidering",
    "suspended",
    "withdrawn",
)
"""States a test can ask `drive` for: the statuses, plus a pending proposal (`*_proposed`) or an
open reconsideration request (`*_reconsidering`)."""


async def drive(client: httpx.AsyncClient, cast: Cast, state: str) -> Case:
    """A fresh referral brought to `state` through the real commands.

    Who did what: `senior` proposes a negative RG and `senior_two` confirms it;
    `decision_maker` decides RG positive and proposes CG (early, with a reason); `panel` agrees.
    """
    case = await file_case(client, cast.responder)
    steps = _STEPS[state]
    for name in steps:
        await _STEP_ACTIONS[name](client, cast, case)
    return case


async def _rg_positive(client: httpx.AsyncClient, cast: Cast, case: Case) -> None:
    await step(client, cast.decision_maker, case, "decisions", RG_POSITIVE)


async def _rg_negative(client: httpx.AsyncClient, cast: Cast, case: Case) -> None:
    await step(client, cast.senior, case, "decisions", RG_NEGATIVE)


async def _confirm(client: httpx.AsyncClient, cast: Cast, case: Case) -> None:
    response = await review_case(client, cast.senior_two, case, agree=True)
    assert response.status_code == 200, response.text


async def _cg_positive(client: httpx.AsyncClient, cast: Cast, case: Case) -> None:
    await step(client, cast.decision_maker, case, "decisions", CG_POSITIVE)


async def _cg_negative(client: httpx.AsyncClient, cast: Cast, case: Case) -> None:
    await step(client, cast.decision_maker, case, "decisions", CG_NEGATIVE)


async def _panel_agrees(client: httpx.AsyncClient, cast: Cast, case: Case) -> None:
    response = await review_case(client, cast.panel, case, agree=True)
    assert response.status_code == 200, response.text


async def _request(client: httpx.AsyncClient, cast: Cast, case: Case) -> None:
    await step(
        client, cast.responder, case, "reconsideration-requests", {"grounds": "New evidence."}
    )


async def _suspend(client: httpx.AsyncClient, cast: Cast, case: Case) -> None:
    await step(client, cast.decision_maker, case, "suspend", {"reason": "Missing."})


async def _withdraw(client: httpx.AsyncClient, cast: Cast, case: Case) -> None:
    await step(client, cast.responder, case, "withdraw", {"reason": "Moved away."})


_STEP_ACTIONS = {
    "rg_positive": _rg_positive,
    "rg_negative": _rg_negative,
    "confirm": _confirm,
    "cg_positive": _cg_positive,
    "cg_negative": _cg_negative,
    "panel_agrees": _panel_agrees,
    "request": _request,
    "suspend": _suspend,
    "withdraw": _withdraw,
}
_STEPS: dict[str, tuple[str, ...]] = {
    "awaiting_rg": (),
    "rg_proposed": ("rg_negative",),
    "rg_negative": ("rg_negative", "confirm"),
    "rg_reconsidering": ("rg_negative", "confirm", "request"),
    "recovery_period": ("rg_positive",),
    "cg_proposed": ("rg_positive", "cg_negative"),
    "cg_positive": ("rg_positive", "cg_positive"),
    "cg_negative": ("rg_positive", "cg_negative", "panel_agrees"),
    "cg_reconsidering": ("rg_positive", "cg_negative", "panel_agrees", "request"),
    "suspended": ("suspend",),
    "withdrawn": ("withdraw",),
}


async def case_events(db: AsyncSession, case: Case, track: str = "victim") -> list[Any]:
    """The case's audit events on one track, oldest first."""
    import uuid

    from sqlalchemy import select

    from app.audit.models import AuditEvent

    rows = await db.scalars(
        select(AuditEvent)
        .where(AuditEvent.referral_id == uuid.UUID(case.id), AuditEvent.track == track)
        .order_by(AuditEvent.seq)
    )
    return list(rows.all())


async def make_cast_quickly(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    """The same cast as `make_cast`, written straight to the tables in one flush.

    For tests of the workflow that create a cast each and never look at how users came to be:
    it skips the identity service (and so its `user.created` events), which costs a tenth.
    """
    import uuid

    from sqlalchemy import select

    from app.clock import real_now
    from app.identity.models import Organisation, User, UserRole
    from app.identity.security import issue_token

    unit, panel_code = "all-wales-decision-unit", "cardiff-child-panel"
    members: dict[str, tuple[Role, str]] = {
        "responder": (Role.FIRST_RESPONDER, "south-wales-police"),
        "decision_maker": (Role.DECISION_MAKER, unit),
        "senior": (Role.SENIOR_DECISION_MAKER, unit),
        "senior_two": (Role.SENIOR_DECISION_MAKER, unit),
        "panel": (Role.PANEL_MEMBER, unit),
        "auditor": (Role.AUDITOR, unit),
        "immigration": (Role.IMMIGRATION_OFFICER, unit),
        "admin": (Role.ADMIN, unit),
        "other_responder": (Role.FIRST_RESPONDER, "gwent-police"),
        "other_unit_maker": (Role.DECISION_MAKER, panel_code),
    }
    async with sessions() as session:
        session.add(
            Organisation(
                code=panel_code,
                name="Cardiff child decision panel",
                name_cy="Panel plant Caerdydd",
                sector=Sector.DECISION_UNIT.value,
                local_authority="W06000015",
            )
        )
        await session.flush()
        codes = {role_org[1] for role_org in members.values()}
        rows = await session.execute(
            select(Organisation.code, Organisation.id).where(Organisation.code.in_(codes))
        )
        ids = dict(rows.all())
        users: dict[str, AppUser] = {}
        for name, (role, code) in members.items():
            user_id, username = uuid.uuid4(), f"{name}-{uuid.uuid4().hex[:8]}"
            session.add(
                User(
                    id=user_id,
                    username=username,
                    display_name=name.replace("_", " ").title(),
                    password_hash="!unusable",
                    organisation_id=ids[code],
                    is_active=True,
                    created_at=real_now(),
                    role_rows=[UserRole(role=role.value)],
                )
            )
            token = issue_token(app.state.settings, user_id).access_token
            users[name] = AppUser(user_id, username, code, (role,), token)
        await session.commit()
    return Cast(**users, child_panel=panel_code)


async def events_of_request(db: AsyncSession, response: httpx.Response) -> list[Any]:
    """Every audit event the request that gave this response wrote, on any track."""
    from sqlalchemy import select

    from app.audit.models import AuditEvent

    request_id = response.headers["X-Request-ID"]
    rows = await db.scalars(select(AuditEvent).where(AuditEvent.request_id == request_id))
    return list(rows.all())


async def refused(db: AsyncSession, response: httpx.Response, status: int, slug: str) -> None:
    """The command was refused with this status and problem type, and left no event behind."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == f"/problems/{slug}"
    assert await events_of_request(db, response) == []
