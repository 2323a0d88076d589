"""A command's path (docs/architecture.md "A command's path"): tracing a command from its route
to its commit passes through four modules of `app/`: the door (`workflow_router`), the command
(`decision_commands` or `case_commands`), its steps (`command_steps`: load, check, advance,
record) and the table (`workflow`).

A module is on the path when it passes control on to the referral's own code (a module of
`app.referrals` other than `models`, the rows). Everything else a command touches is a leaf:
the loader, the guards and clocks, the calendar, the audit trail, the outbox, the letters and
the presenters each return to their caller without calling back into the referral's code. The
profile starts when the route's handler is entered and ends with the request's commit.

The tracer is first shown to see a bounce (a leaf that calls back), so that a path that passes
is not a check that cannot fail.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import CodeType, FrameType, SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import request_transaction
from app.referrals import command_steps, facts, workflow_router
from tests.referrals.builders import RG_NEGATIVE, RG_POSITIVE, Cast, drive, make_cast_quickly, run

DOOR = "app.referrals.workflow_router"
STEPS = "app.referrals.command_steps"
TABLE = "app.referrals.workflow"
ROWS = "app.referrals.models"


def _module(frame: FrameType | None) -> str:
    return frame.f_globals.get("__name__", "") if frame is not None else ""


def _app_caller(frame: FrameType) -> str:
    """The module of the nearest frame of `app` above this one (the framework's frames skipped)."""
    back = frame.f_back
    while back is not None and not _module(back).startswith("app."):
        back = back.f_back
    return _module(back)


def _within(frame: FrameType | None, codes: frozenset[CodeType]) -> bool:
    while frame is not None:
        if frame.f_code in codes:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


class Calls:
    """Every call from one module of `app` into another, inside the given functions."""

    def __init__(self, *within: Callable[..., Any]) -> None:
        self.codes = frozenset(_code_of(function) for function in within)
        self.edges: set[tuple[str, str]] = set()

    def _profile(self, frame: FrameType, event: str, _arg: object) -> None:
        if event != "call" or not _module(frame).startswith("app."):
            return
        caller = _app_caller(frame)
        if caller and caller != _module(frame) and _within(frame.f_back, self.codes):
            self.edges.add((caller, _module(frame)))

    @contextmanager
    def recording(self) -> Iterator[Calls]:
        sys.setprofile(self._profile)
        try:
            yield self
        finally:
            sys.setprofile(None)

    def path(self) -> set[str]:
        """The modules that pass control on to the referral's own code."""
        return {
            caller
            for caller, callee in self.edges
            if callee.startswith("app.referrals.") and callee != ROWS
        }


def _code_of(function: Callable[..., Any]) -> CodeType:
    inner = getattr(function, "__wrapped__", function)
    return inner.__code__  # type: ignore[no-any-return]


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


async def _traced(handler: Callable[..., Awaitable[Any]], send: Awaitable[httpx.Response]) -> Calls:
    calls = Calls(handler, request_transaction)
    with calls.recording():
        response = await send
    assert response.status_code < 300, response.text
    return calls


THE_FOUR = {DOOR, "app.referrals.decision_commands", STEPS, TABLE}


def _filed() -> Any:
    """Enough of a referral awaiting its RG decision for the table's facts."""
    return SimpleNamespace(
        status="awaiting_rg",
        submitted_by_id=uuid.uuid4(),
        decisions=[],
        reconsideration_requests=[],
        status_before_suspension=None,
    )


class TestTheTracer:
    def test_sees_a_module_that_passes_control_on_to_the_referrals_code(self) -> None:
        calls = Calls(command_steps.facts_of)
        with calls.recording():
            command_steps.facts_of(_filed())
        assert (STEPS, "app.referrals.facts") in calls.edges
        assert calls.path() == {STEPS}

    def test_puts_no_leaf_on_the_path(self) -> None:
        calls = Calls(facts.participants)
        with calls.recording():
            facts.participants(_filed())
        assert calls.path() == set()

    def test_records_nothing_outside_the_functions_it_watches(self) -> None:
        calls = Calls(facts.participants)
        with calls.recording():
            command_steps.facts_of(_filed())
        assert calls.edges == set()


class TestADecisionsPath:
    async def test_deciding_passes_through_door_command_steps_and_table(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        calls = await _traced(
            workflow_router.decide,
            run(client, cast.decision_maker, case, "decisions", RG_POSITIVE),
        )
        assert calls.path() == THE_FOUR
        # what it touched on the way, each a leaf: the loader, the trail, the outbox, a letter
        touched = {callee for _caller, callee in calls.edges}
        assert {"app.referrals.queries", "app.audit.service", "app.notifications.outbox"} <= touched
        assert "app.letters.service" in touched

    async def test_a_proposal_and_its_review_take_the_same_path(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        proposed = await _traced(
            workflow_router.decide, run(client, cast.senior, case, "decisions", RG_NEGATIVE)
        )
        reviewed = await _traced(
            workflow_router.review,
            run(
                client,
                cast.senior_two,
                case,
                f"decisions/{case.decision_id}/review",
                {"agree": True, "comments": "Agreed."},
            ),
        )
        assert proposed.path() == reviewed.path() == THE_FOUR

    async def test_a_decided_reconsideration_takes_the_same_path(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await drive(client, cast, "rg_reconsidering")
        calls = await _traced(
            workflow_router.decide_reconsideration,
            run(
                client,
                cast.decision_maker,
                case,
                f"reconsideration-requests/{case.request_id}/decision",
                {"accept": False, "reasons": "Nothing new."},
            ),
        )
        assert calls.path() == THE_FOUR
        assert "app.letters.service" in {callee for _caller, callee in calls.edges}


class TestACaseCommandsPath:
    @pytest.mark.parametrize(
        ("handler", "path", "body"),
        [
            (workflow_router.withdraw, "withdraw", {"reason": "Moved away."}),
            (workflow_router.suspend, "suspend", {"reason": "Missing."}),
        ],
    )
    async def test_passes_through_door_command_steps_and_table(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        handler: Callable[..., Awaitable[Any]],
        path: str,
        body: dict[str, str],
    ) -> None:
        case = await drive(client, cast, "awaiting_rg")
        user = cast.responder if path == "withdraw" else cast.decision_maker
        calls = await _traced(handler, run(client, user, case, path, body))
        # at most the four: the table passes control on only when a row names a guard
        assert {DOOR, "app.referrals.case_commands", STEPS} <= calls.path()
        assert calls.path() <= {DOOR, "app.referrals.case_commands", STEPS, TABLE}
