"""Routes of the identification workflow's commands, the queue and the timeline (API.md
"Referrals" and "Audit").

Thin by rule (STYLE.md): each handler parses, runs one command or query, presents, and sets
the `ETag`. API.md's order of checks falls out of the pieces: the role gate (`Requires`, 403)
and the body (422) in the signature, then the command (visibility 404, `If-Match` 428/412, the
table's 403/409/403, then 422 rules: `app.referrals.command_steps`). No rule, query or commit
lives here.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.http import DbSession, IfMatch, Paging, RequestNow, etag, get_app_settings
from app.identity.deps import Requires
from app.identity.permissions import Permission
from app.identity.principal import Principal
from app.openapi import problems
from app.referrals import case_commands, decision_commands, presenters, queue, timeline
from app.referrals.command_schemas import (
    AgeRequest,
    AssignRequest,
    DecisionRequest,
    NoteCreate,
    ReconsiderationCreate,
    ReconsiderationDecision,
    RerouteRequest,
    ResumeRequest,
    ReviewRequest,
    SuspendRequest,
    WithdrawRequest,
)
from app.referrals.command_steps import CommandResult
from app.referrals.models import Referral
from app.referrals.schemas import DecisionRead, NoteRead, ReconsiderationRead, ReferralRead
from app.routing import api_router
from app.schemas import Page

router = api_router(tags=["workflow"])

Decider = Annotated[Principal, Requires(Permission.DECIDE)]
Reviewer = Annotated[Principal, Requires(Permission.REVIEW)]
Requester = Annotated[Principal, Requires(Permission.REQUEST_RECONSIDERATION)]
Reconsiderer = Annotated[Principal, Requires(Permission.DECIDE_RECONSIDERATION)]
Withdrawer = Annotated[Principal, Requires(Permission.WITHDRAW)]
Suspender = Annotated[Principal, Requires(Permission.SUSPEND)]
Assigner = Annotated[Principal, Requires(Permission.ASSIGN)]
AgeRecorder = Annotated[Principal, Requires(Permission.RECORD_AGE)]
Rerouter = Annotated[Principal, Requires(Permission.REROUTE)]
NoteWriter = Annotated[Principal, Requires(Permission.ADD_NOTE)]
QueueReader = Annotated[Principal, Requires(Permission.READ_QUEUE)]
TimelineReader = Annotated[Principal, Requires(Permission.READ_TIMELINE)]

_PATH = "/referrals/{referral_id}"
# A command the referral's state does not allow is 409 (API.md); the other problem answers
# follow from each route's signature (app.openapi).
_COMMAND = problems(409)


def _answer(body: BaseModel, done: CommandResult[object], status_code: int = 200) -> JSONResponse:
    """A command's answer with the referral's new ETag (API.md "Concurrency")."""
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status_code,
        headers={"ETag": etag(done.version)},
    )


def _representation(
    request: Request, actor: Principal, done: CommandResult[Referral]
) -> JSONResponse:
    view = presenters.for_viewer(done.referral, actor, get_app_settings(request).secret_key)
    return _answer(view, done)


async def _run_and_show(
    command: Callable[..., Awaitable[CommandResult[Referral]]],
    request: Request,
    session: AsyncSession,
    actor: Principal,
    referral_id: uuid.UUID,
    body: BaseModel,
    now: datetime,
    if_match: str | None,
) -> JSONResponse:
    """Run a command that answers with the referral, and show it to the caller with its ETag."""
    done = await command(
        session,
        actor,
        referral_id,
        expected_version=if_match,
        body=body,
        now=now,
        settings=get_app_settings(request),
    )
    return _representation(request, actor, done)


@router.post(f"{_PATH}/decisions", status_code=201, response_model=DecisionRead, responses=_COMMAND)
async def decide(
    request: Request,
    session: DbSession,
    actor: Decider,
    referral_id: uuid.UUID,
    body: DecisionRequest,
    now: RequestNow,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Take a reasonable-grounds or conclusive-grounds decision: a positive one is effective at
    once, a negative one is `proposed` until a senior decision maker (RG) or the panel (CG)
    reviews it. A CG decision before the recovery period ends needs `early_decision_reason`."""
    done = await decision_commands.decide(
        session,
        actor,
        referral_id,
        expected_version=if_match,
        body=body,
        now=now,
        settings=get_app_settings(request),
    )
    return _answer(presenters.decision(done.answer), done, 201)


@router.post(
    f"{_PATH}/decisions/{{decision_id}}/review", response_model=DecisionRead, responses=_COMMAND
)
async def review(
    request: Request,
    session: DbSession,
    actor: Reviewer,
    referral_id: uuid.UUID,
    decision_id: uuid.UUID,
    body: ReviewRequest,
    now: RequestNow,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Review a proposed negative decision: agreeing makes it effective, disagreeing rejects
    it. A senior decision maker reviews an RG proposal, a panel member a CG one; never the
    proposer, the filer or (on the panel) anyone who took part in the case."""
    done = await decision_commands.review(
        session,
        actor,
        referral_id,
        decision_id,
        expected_version=if_match,
        body=body,
        now=now,
        settings=get_app_settings(request),
    )
    return _answer(presenters.decision(done.answer), done)


@router.post(
    f"{_PATH}/reconsideration-requests",
    status_code=201,
    response_model=ReconsiderationRead,
    responses=_COMMAND,
)
async def request_reconsideration(
    request: Request,
    session: DbSession,
    actor: Requester,
    referral_id: uuid.UUID,
    body: ReconsiderationCreate,
    now: RequestNow,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Ask, as the referring organisation, for the negative decision in effect to be
    reconsidered, giving the grounds. One request may be open at a time."""
    done = await decision_commands.request_reconsideration(
        session,
        actor,
        referral_id,
        expected_version=if_match,
        body=body,
        now=now,
        settings=get_app_settings(request),
    )
    return _answer(presenters.reconsideration(done.answer), done, 201)


@router.post(
    f"{_PATH}/reconsideration-requests/{{request_id}}/decision",
    response_model=ReferralRead,
    responses=_COMMAND,
)
async def decide_reconsideration(
    request: Request,
    session: DbSession,
    actor: Reconsiderer,
    referral_id: uuid.UUID,
    request_id: uuid.UUID,
    body: ReconsiderationDecision,
    now: RequestNow,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Accept or decline the open reconsideration request, with reasons. Accepting returns the
    referral to where it was before the negative decision; the decision maker whose decision
    is questioned may not decide it."""
    done = await decision_commands.decide_reconsideration(
        session,
        actor,
        referral_id,
        request_id,
        expected_version=if_match,
        body=body,
        now=now,
        settings=get_app_settings(request),
    )
    return _representation(request, actor, done)


@router.post(f"{_PATH}/withdraw", response_model=ReferralRead, responses=_COMMAND)
async def withdraw(
    request: Request,
    session: DbSession,
    actor: Withdrawer,
    referral_id: uuid.UUID,
    body: WithdrawRequest,
    now: RequestNow,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Withdraw the referral, with a reason, at any time before a conclusive decision. A
    proposal awaiting review is rejected and an open reconsideration request declined."""
    return await _run_and_show(
        case_commands.withdraw, request, session, actor, referral_id, body, now, if_match
    )


@router.post(f"{_PATH}/suspend", response_model=ReferralRead, responses=_COMMAND)
async def suspend(
    request: Request,
    session: DbSession,
    actor: Suspender,
    referral_id: uuid.UUID,
    body: SuspendRequest,
    now: RequestNow,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Suspend the referral while the person is missing, with a reason: no deadline runs
    until it is resumed. Not while a proposed decision awaits its review."""
    return await _run_and_show(
        case_commands.suspend, request, session, actor, referral_id, body, now, if_match
    )


@router.post(f"{_PATH}/resume", response_model=ReferralRead, responses=_COMMAND)
async def resume(
    request: Request,
    session: DbSession,
    actor: Suspender,
    referral_id: uuid.UUID,
    body: ResumeRequest,
    now: RequestNow,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Resume a suspended referral, with a reason: it returns to the status it left, `rg_due`
    is counted afresh and the other deadlines move on by the time suspended."""
    return await _run_and_show(
        case_commands.resume, request, session, actor, referral_id, body, now, if_match
    )


@router.post(f"{_PATH}/assign", response_model=ReferralRead, responses=_COMMAND)
async def assign(
    request: Request,
    session: DbSession,
    actor: Assigner,
    referral_id: uuid.UUID,
    body: AssignRequest,
    now: RequestNow,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Assign the referral to an active decision maker of the unit it is routed to (the caller
    when `user_id` is left out)."""
    return await _run_and_show(
        case_commands.assign, request, session, actor, referral_id, body, now, if_match
    )


@router.post(f"{_PATH}/age", response_model=ReferralRead, responses=_COMMAND)
async def record_age(
    request: Request,
    session: DbSession,
    actor: AgeRecorder,
    referral_id: uuid.UUID,
    body: AgeRequest,
    now: RequestNow,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Record an age assessment (a date of birth or an estimated age) with a reason; whether
    the person is a child, and so where the referral is decided, follows the new age. A
    person found to be an adult needs their consent recorded (422 otherwise)."""
    return await _run_and_show(
        case_commands.record_age, request, session, actor, referral_id, body, now, if_match
    )


@router.post(f"{_PATH}/reroute", response_model=ReferralRead, responses=_COMMAND)
async def reroute(
    request: Request,
    session: DbSession,
    actor: Rerouter,
    referral_id: uuid.UUID,
    body: RerouteRequest,
    now: RequestNow,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Route the referral to another decision unit, with a reason: the new unit sees it and
    the old one no longer does. `to` must be the code of a decision unit (422 otherwise)."""
    return await _run_and_show(
        case_commands.reroute, request, session, actor, referral_id, body, now, if_match
    )


@router.post(f"{_PATH}/notes", status_code=201, response_model=NoteRead, responses=_COMMAND)
async def add_note(
    request: Request,
    session: DbSession,
    actor: NoteWriter,
    referral_id: uuid.UUID,
    body: NoteCreate,
    now: RequestNow,
) -> JSONResponse:
    """Add further information for the decision, shown in the representation's `notes`. No
    `If-Match`: a note changes no state, but it moves the ETag, so a decision made on an older
    version gets 412 and the decider sees the note first."""
    # API.md: no If-Match (a note changes no state); the row lock still orders racing writers.
    done = await case_commands.add_note(
        session,
        actor,
        referral_id,
        expected_version=None,
        body=body,
        now=now,
        settings=get_app_settings(request),
    )
    return _answer(presenters.note(done.answer), done, 201)


@router.get("/queue", response_model=Page[queue.QueueItem])
async def read_queue(
    session: DbSession, actor: QueueReader, paging: Paging
) -> Page[queue.QueueItem]:
    """The work waiting for the caller's unit and role, earliest due first: RG decisions and
    reviews, CG decisions, panel reviews and reconsideration requests."""
    return await queue.queue(session, actor, paging)


@router.get(f"{_PATH}/timeline", response_model=timeline.TimelineRead)
async def read_timeline(
    response: Response, session: DbSession, actor: TimelineReader, referral_id: uuid.UUID
) -> timeline.TimelineRead:
    """The referral's stages (when each was reached, by whom, its due date and whether it was
    met) and its victim-track audit events; for auditors the access events too."""
    read, version = await timeline.timeline(session, actor, referral_id)
    response.headers["ETag"] = etag(version)  # API.md: every read carries the referral's ETag
    return read
