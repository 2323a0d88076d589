"""`/audit` and `/referrals/{id}/timeline` (WEB.md "Pages"): the API's filters, paging,
verification and checkpoint, and the timeline's visibility, over HTTP as a browser asks."""

from __future__ import annotations

import html as html_module
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import labels
from app.audit import triggers
from app.audit.actions import Action
from app.audit.models import AuditEvent, Track
from app.identity.roles import Role, Sector
from app.reports import names
from app.reports.schemas import AgeGroup, Breakdown
from app.web import audit_page, oversight_words
from tests.referrals.builders import RG_POSITIVE, Case, Cast, file_case, make_cast, step
from tests.web.helpers import error_summary, sign_in
from tests.web.test_language import _english_sentences, _text


@dataclass
class Scene:
    cast: Cast
    case: Case  # decided: RG positive
    other: Case  # only filed


@pytest.fixture
async def scene(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> Scene:
    cast = await make_cast(app, sessions)
    case = await file_case(client, cast.responder)
    await step(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
    other = await file_case(client, cast.responder)
    return Scene(cast, case, other)


def event_rows(html: str) -> list[str]:
    """Each row of the events table, its tags stripped."""
    if 'id="events"' not in html:
        return []
    body = html.split('id="events"', 1)[1].split("<tbody", 1)[1].split("</tbody>", 1)[0]
    found = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in found]


def seqs(html: str) -> list[int]:
    return [int(row.split()[0]) for row in event_rows(html)]


async def api_events(
    client: httpx.AsyncClient, scene: Scene, **params: Any
) -> list[dict[str, Any]]:
    answer = await client.get(
        "/api/v1/audit/events", params={**params, "limit": 200}, headers=scene.cast.auditor.headers
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def next_link(html: str) -> str | None:
    found = re.search(r'href="(/audit\?[^"]*cursor=[^"]+)" rel="next"', html)
    return html_module.unescape(found.group(1)) if found else None


class TestWhoMaySee:
    async def test_only_auditors(self, client: httpx.AsyncClient, scene: Scene) -> None:
        for user in (scene.cast.responder, scene.cast.decision_maker, scene.cast.admin):
            await sign_in(client, user.username)
            assert (await client.get("/audit")).status_code == 403
        client.cookies.clear()
        anonymous = await client.get("/audit?verify=1")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/sign-in?next=/audit%3Fverify%3D1"

    async def test_the_auditors_home_is_the_audit_page_with_their_links(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        home = await client.get("/")
        assert home.status_code == 200
        assert '<h1 class="govuk-heading-l">Audit trail</h1>' in home.text
        for link in ('href="/audit"', 'href="/statistics"', 'href="/referrals"'):
            assert link in home.text
        assert 'href="/queue"' not in home.text
        assert seqs(home.text) == seqs((await client.get("/audit")).text)
        assert home.headers["cache-control"] == "no-store"


class TestFilters:
    async def test_the_apis_filters_pass_through(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        for params in (
            {"referral_id": scene.case.id},
            {"referral_id": scene.case.id, "track": "victim"},
            {"action": "decision.effective"},
            {"actor_id": str(scene.cast.decision_maker.id), "track": "victim"},
            {"organisation": "south-wales-police", "action": "referral.submitted"},
            {"since": "2000-01-01", "until": "2999-01-01T00:00:00Z"},
        ):
            page = await client.get("/audit", params=params)
            assert page.status_code == 200, params
            expected = [e["seq"] for e in await api_events(client, scene, **params_for_api(params))]
            assert seqs(page.text) == expected, params
            assert expected, params
        page = await client.get("/audit", params={"action": "decision.effective"})
        assert "Decision took effect" in event_rows(page.text)[0]
        assert 'value="decision.effective" selected' in page.text

    async def test_the_action_is_a_select_of_every_action_by_name(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = (await client.get("/audit")).text
        select = page.split('id="action"', 1)[1].split("</select>", 1)[0]
        assert '<option value="referral.viewed">Referral read</option>' in select
        assert select.count("<option") == len(Action) + 1  # "Anything" and every action

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            ({"referral_id": "NRM-W-1"}, "referral_id", "Enter the id as the service shows it"),
            ({"track": "everything"}, "track", "Choose a track from the list"),
            ({"since": "yesterday"}, "since", "Enter a date such as 2026-12-04"),
            ({"organisation": "x" * 65}, "organisation", "Enter at most 64 characters"),
            ({"since": "2026-12-04", "until": "2026-12-01"}, "until", "must not be before since"),
        ],
    )
    async def test_a_bad_filter_is_a_422_page_keeping_what_was_typed(
        self,
        client: httpx.AsyncClient,
        scene: Scene,
        params: dict[str, str],
        field: str,
        message: str,
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get("/audit", params=params)
        assert page.status_code == 422
        [(href, text)] = error_summary(page.text)
        assert href == f"#{field}"
        assert text.startswith(message)
        for value in params.values():
            assert f'value="{html_module.escape(value)}"' in page.text or value in page.text
        assert event_rows(page.text) == []

    async def test_a_forged_cursor_is_refused_in_words(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get("/audit?cursor=forged")
        assert page.status_code == 422
        assert "start again from the first page" in page.text


def params_for_api(params: dict[str, str]) -> dict[str, str]:
    """The page takes a bare date for `since`; the API wants a time with its zone."""
    found = dict(params)
    if found.get("since") == "2000-01-01":
        found["since"] = "2000-01-01T00:00:00Z"
    return found


class TestPaging:
    async def test_next_page_links_walk_every_event_once(
        self, client: httpx.AsyncClient, scene: Scene, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(audit_page, "PAGE_SIZE", 3)
        await sign_in(client, scene.cast.auditor.username)
        wanted = [e["seq"] for e in await api_events(client, scene, referral_id=scene.case.id)]
        assert len(wanted) > 3
        url: str | None = f"/audit?referral_id={scene.case.id}"
        found: list[int] = []
        for _ in range(len(wanted)):
            if url is None:
                break
            page = await client.get(url)
            assert page.status_code == 200
            assert len(seqs(page.text)) <= 3
            found += seqs(page.text)
            url = next_link(page.text)
            if url:
                assert f"referral_id={scene.case.id}" in url
        assert url is None
        assert found == wanted


class TestVerification:
    async def test_runs_only_when_asked_and_says_what_it_checked(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        plain = await client.get("/audit")
        assert "Events checked" not in plain.text
        assert 'id="verify"' in plain.text
        page = await client.get("/audit", params={"verify": "1", "track": "victim"})
        assert page.status_code == 200
        assert "The audit trail has not been changed" in page.text
        verified = await client.get("/api/v1/audit/verify", headers=scene.cast.auditor.headers)
        checked = re.search(r"Events checked\s*</dt>\s*<dd[^>]*>\s*([\d,]+)", page.text)
        assert checked is not None
        assert int(checked.group(1).replace(",", "")) <= verified.json()["events_checked"]
        latest = await client.get(
            "/api/v1/audit/checkpoints/latest", headers=scene.cast.auditor.headers
        )
        assert latest.json()["public_key"] in page.text
        assert latest.json()["root"] in page.text or "Merkle root" in page.text
        assert "nrm audit verify --checkpoint" in page.text
        assert "nrm audit checkpoint" in page.text
        assert seqs(page.text) == [
            e["seq"] for e in await api_events(client, scene, track="victim")
        ]

    async def test_the_latest_signed_checkpoint_is_shown_on_every_visit(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        # WEB.md: /audit shows the verification and the latest signed checkpoint; the walk
        # waits for the button, the checkpoint does not.
        await sign_in(client, scene.cast.auditor.username)
        plain = await client.get("/audit")
        assert plain.status_code == 200
        assert "Events checked" not in plain.text
        latest = await client.get(
            "/api/v1/audit/checkpoints/latest", headers=scene.cast.auditor.headers
        )
        assert latest.status_code == 200
        assert 'id="checkpoint"' in plain.text
        assert latest.json()["public_key"] in plain.text
        assert "nrm audit verify --checkpoint" in plain.text

    async def test_a_changed_event_is_reported_with_what_it_means(
        self, client: httpx.AsyncClient, scene: Scene, db: AsyncSession
    ) -> None:
        """An event's action edited behind the service's back (the triggers dropped, as an
        owner of the database could): the page says the trail is broken, and where."""
        [first, *_] = await api_events(client, scene, referral_id=scene.other.id)
        postgresql = db.get_bind().dialect.name == "postgresql"
        for statement in triggers.POSTGRESQL_DROP if postgresql else triggers.SQLITE_DROP:
            await db.execute(text(statement))
        await db.execute(
            update(AuditEvent).where(AuditEvent.seq == first["seq"]).values(action="note.added")
        )
        await db.commit()
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get("/audit?verify=1")
        result = page.text.split('id="verification-result"', 1)[1]
        assert "The audit trail does not match its chains" in result
        assert "cannot be relied on" in result
        found = re.search(r"First event that does not match\s*</dt>\s*<dd[^>]*>\s*(\d+)", result)
        assert found is not None
        assert int(found.group(1)) == first["seq"]

    async def test_in_welsh(self, client: httpx.AsyncClient, scene: Scene) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get("/audit?verify=1&lang=cy")
        assert '<html lang="cy"' in page.text
        assert "Atgyfeiriad wedi'i anfon" in _text(page.text)
        assert "Daeth penderfyniad i rym" in page.text
        text = _text(page.text)
        assert [s for s in _english_sentences() if s in text] == []


class TestTimeline:
    async def test_auditors_and_the_units_deciders_see_the_stages(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        url = f"/referrals/{scene.case.id}/timeline"
        for user in (scene.cast.auditor, scene.cast.decision_maker, scene.cast.senior):
            await sign_in(client, user.username)
            page = await client.get(url)
            assert page.status_code == 200, user.username
            stages = page.text.split('id="stages"', 1)[1].split("</table>", 1)[0]
            assert "Referral filed" in stages
            assert "Reasonable grounds decision" in stages
            assert "Met" in stages
            assert scene.case.reference in page.text
            referral = await client.get(f"/referrals/{scene.case.id}")
            assert f'href="{url}"' in referral.text
        api = await client.get(f"/api/v1{url}", headers=scene.cast.auditor.headers)
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get(url)
        events = page.text.split('id="timeline-events"', 1)[1]
        assert (
            len(re.findall(r'<tr class="govuk-table__row">', events))
            == len(api.json()["events"]) + 1
        )

    async def test_others_are_refused_as_by_the_api(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        url = f"/referrals/{scene.case.id}/timeline"
        await sign_in(client, scene.cast.responder.username)
        assert (await client.get(url)).status_code == 403
        referral = await client.get(f"/referrals/{scene.case.id}")
        assert url not in referral.text
        await sign_in(client, scene.cast.other_unit_maker.username)
        assert (await client.get(url)).status_code == 404
        await sign_in(client, scene.cast.auditor.username)
        assert (await client.get("/referrals/not-an-id/timeline")).status_code == 404

    async def test_in_welsh(self, client: httpx.AsyncClient, scene: Scene) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get(f"/referrals/{scene.case.id}/timeline?lang=cy")
        assert page.status_code == 200
        text = _text(page.text)
        assert [s for s in _english_sentences() if s in text] == []
        assert "December" not in text
        assert "Reasonable grounds" not in text


class TestTimes:
    def test_a_bare_date_is_the_start_of_that_day_in_wales_in_utc(self) -> None:
        summer = audit_page._moment("2026-07-01")
        winter = audit_page._moment("2026-12-04")
        assert summer == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
        assert winter == datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
        assert summer.utcoffset() == timedelta(0)
        assert audit_page._moment("2026-12-04T09:30:00+01:00") == datetime(
            2026, 12, 4, 8, 30, tzinfo=UTC
        )
        with pytest.raises(ValueError, match="Enter a date"):
            audit_page._moment("2026-12-04T09:30:00")  # no zone, as the API refuses


class TestWords:
    def test_every_code_an_auditor_reads_has_its_name(self) -> None:
        assert set(oversight_words.ACTIONS) == set(Action)
        assert set(oversight_words.TRACKS) == set(Track)
        assert set(names.BREAKDOWNS) == set(Breakdown)
        assert set(labels.SECTORS) == {s.value for s in Sector}  # one table of sector names
        assert set(names.AGE_GROUPS) == {a.value for a in AgeGroup}
        assert set(labels.ROLES) == {r.value for r in Role}  # the one table of role names
