"""A refused field's control points at its message (WEB.md "Forms", the GOV.UK error pattern):
on a 422 the error summary links to the control (`href="#<control id>"`), and the control's
`aria-describedby` names the element that shows the field's message, which exists once on the
page and says it, so a screen reader reads the message with the control. Pinned for the
referral form, a decision form and a case command's reason, whose controls on the referral's
page have ids of their own (`suspend_reason` beside `reason` and `age_reason`)."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.referrals.builders import Cast, file_case, make_cast
from tests.web.conftest import SignedIn
from tests.web.helpers import described_by, error_summary
from tests.web.test_case_forms import send
from tests.web.test_decision_forms import decide
from tests.web.test_referral_pages import _file


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast(app, sessions)


def assert_points_at_its_message(html: str, control_id: str, message: str) -> None:
    """The summary links to the control, and the control is described by its message."""
    assert (f"#{control_id}", message) in error_summary(html)
    shown = [
        re.sub(r"\s+", " ", element.text).strip() for element in described_by(html, control_id)
    ]
    assert any(text.endswith(message) for text in shown), shown


class TestErrorLinks:
    async def test_the_referral_forms_account(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        answer = await _file(client, signed_in.csrf, account="")
        assert answer.status_code == 422
        assert_points_at_its_message(
            answer.text, "account", "Write what you saw and what you were told"
        )

    async def test_a_decisions_reasons(self, client: httpx.AsyncClient, cast: Cast) -> None:
        case = await file_case(client, cast.responder)
        answer = await decide(
            client,
            cast.decision_maker,
            case,
            stage="reasonable_grounds",
            outcome="positive",
            reasons="",
        )
        assert answer.status_code == 422
        assert_points_at_its_message(answer.text, "reasons", "Enter the reasons for the decision")

    async def test_a_suspensions_reason_and_not_the_other_reasons(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(client, cast.decision_maker, case, "suspend", reason="")
        assert answer.status_code == 422
        assert_points_at_its_message(
            answer.text, "suspend_reason", "Enter why the referral is suspended"
        )
        # The other reasons on the page were not refused: nothing describes them as refused.
        for other in ("reason", "age_reason"):
            classes = [e.attrs.get("class", "") for e in described_by(answer.text, other)]
            assert not any("govuk-error-message" in c for c in classes), (other, classes)

    async def test_a_withdrawals_reason(self, client: httpx.AsyncClient, cast: Cast) -> None:
        case = await file_case(client, cast.responder)
        answer = await send(client, cast.decision_maker, case, "withdraw", reason=" ")
        assert answer.status_code == 422
        summary = error_summary(answer.text)
        assert [href for href, _ in summary] == ["#reason"]
        assert_points_at_its_message(answer.text, "reason", summary[0][1])
