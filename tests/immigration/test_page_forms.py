"""The immigration record's form on its page: a change with the record's version as If-Match,
a stale version (412, the record as it now stands, what was typed kept), a form refused for
what it lacks (422), CSRF, and the record created where the referral had none (If-None-Match).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.immigration.models import ImmigrationRecord
from app.immigration.service import reference_fingerprint
from tests.immigration.page_support import events, record_path, version_of
from tests.referrals.builders import Cast
from tests.web.helpers import error_summary
from tests.web.test_language import _english_sentences, _text


class TestChange:
    async def test_the_form_changes_the_record_with_its_version(
        self,
        officer: tuple[httpx.AsyncClient, str],
        referral: dict[str, Any],
        db: AsyncSession,
    ) -> None:
        browser, csrf = officer
        page = (await browser.get(record_path(referral))).text
        assert version_of(page) == "1"
        assert re.search(r'value="refugee_or_protection"\s+checked', page)  # as recorded
        sent = await browser.post(
            record_path(referral),
            data={
                "csrf_token": csrf,
                "version": version_of(page),
                "status": "no_leave",
                "home_office_reference": "HO-NEW-77",
            },
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == record_path(referral) + "?done=changed"
        shown = (await browser.get(sent.headers["location"])).text
        assert "The immigration record is changed" in shown
        assert "No permission to be in the UK" in shown
        assert "HO-NEW-77" in shown
        assert version_of(shown) == "2"
        stored = await db.scalar(
            select(ImmigrationRecord)
            .where(ImmigrationRecord.referral_id == uuid.UUID(referral["id"]))
            .execution_options(populate_existing=True)
        )
        assert stored is not None
        assert stored.status == "no_leave"
        assert await events(db, referral["id"], "immigration.updated") == [
            "immigration.updated",  # at intake
            "immigration.updated",
        ]
        changed = await db.scalar(
            select(AuditEvent)
            .where(
                AuditEvent.stream == f"immigration:{referral['id']}",
                AuditEvent.action == "immigration.updated",
            )
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
        assert changed is not None
        assert changed.track == "immigration"
        assert changed.changes["status"] == {"before": "refugee_or_protection", "after": "no_leave"}
        assert changed.changes["home_office_reference"]["after"] == reference_fingerprint(
            "HO-NEW-77"
        )
        assert "HO-NEW-77" not in str(changed.changes)

    async def test_a_stale_version_is_412_with_the_change_shown_and_the_input_kept(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        officer: tuple[httpx.AsyncClient, str],
        referral: dict[str, Any],
        db: AsyncSession,
    ) -> None:
        browser, csrf = officer
        page = (await browser.get(record_path(referral))).text
        meanwhile = await client.put(
            f"/api/v1/referrals/{referral['id']}/immigration",
            json={"status": "asylum_seeker", "home_office_reference": "HO-THEIRS-1"},
            headers={**cast.immigration.headers, "If-Match": '"1"'},
        )
        assert meanwhile.status_code == 200
        typed = {"status": "settled", "home_office_reference": "HO-MINE-2"}
        answer = await browser.post(
            record_path(referral),
            data={"csrf_token": csrf, "version": version_of(page), **typed},
        )
        assert answer.status_code == 412
        summary = _text(answer.text.split('govuk-error-summary__list">')[1].split("</ul>")[0])
        assert "Someone changed this immigration record" in summary
        assert "Its immigration status is now: Asylum seeker." in summary
        assert "HO-THEIRS-1" in answer.text  # the record as it now stands
        assert 'value="HO-MINE-2"' in answer.text
        assert re.search(r'value="settled"\s+checked', answer.text)
        assert version_of(answer.text) == "2"
        stored = await db.scalar(
            select(ImmigrationRecord.status).where(
                ImmigrationRecord.referral_id == uuid.UUID(referral["id"])
            )
        )
        assert stored == "asylum_seeker"

    async def test_an_invalid_form_is_422_with_the_error_summary_and_the_input_kept(
        self, officer: tuple[httpx.AsyncClient, str], referral: dict[str, Any]
    ) -> None:
        browser, csrf = officer
        answer = await browser.post(
            record_path(referral),
            data={"csrf_token": csrf, "version": "1", "home_office_reference": "HO 12/3"},
        )
        assert answer.status_code == 422
        assert error_summary(answer.text) == [("#status", "Select the person's immigration status")]
        assert 'value="HO 12/3"' in answer.text
        bad = await browser.post(
            record_path(referral),
            data={"csrf_token": csrf, "version": "1", "status": "martian"},
        )
        assert bad.status_code == 422
        assert [href for href, _ in error_summary(bad.text)] == ["#status"]

    async def test_a_form_without_the_csrf_token_changes_nothing(
        self, officer: tuple[httpx.AsyncClient, str], referral: dict[str, Any]
    ) -> None:
        browser, _ = officer
        answer = await browser.post(
            record_path(referral), data={"version": "1", "status": "no_leave"}
        )
        assert answer.status_code == 403
        assert "Refugee or other protection" in (await browser.get(record_path(referral))).text


class TestCreate:
    async def test_a_referral_without_a_record_offers_the_create_form(
        self,
        officer: tuple[httpx.AsyncClient, str],
        bare: dict[str, Any],
        db: AsyncSession,
    ) -> None:
        browser, csrf = officer
        page = (await browser.get(record_path(bare))).text
        assert "No immigration record is recorded for this referral." in page
        assert "Record the immigration status" in page
        assert 'name="version"' not in page
        sent = await browser.post(
            record_path(bare),
            data={"csrf_token": csrf, "status": "visa_holder", "home_office_reference": ""},
        )
        assert sent.status_code == 303
        assert sent.headers["location"].endswith("?done=created")
        shown = (await browser.get(sent.headers["location"])).text
        assert "The immigration record is saved" in shown
        assert "Holds a visa" in shown
        assert "None recorded" in shown
        assert await events(db, bare["id"], "immigration.updated") == ["immigration.updated"]

    async def test_creating_a_record_that_exists_meanwhile_is_412(
        self,
        client: httpx.AsyncClient,
        cast: Cast,
        officer: tuple[httpx.AsyncClient, str],
        bare: dict[str, Any],
    ) -> None:
        browser, csrf = officer
        await browser.get(record_path(bare))
        created = await client.put(
            f"/api/v1/referrals/{bare['id']}/immigration",
            json={"status": "refugee_or_protection"},
            headers={**cast.immigration.headers, "If-None-Match": "*"},
        )
        assert created.status_code == 200
        answer = await browser.post(
            record_path(bare), data={"csrf_token": csrf, "status": "no_leave"}
        )
        assert answer.status_code == 412
        assert "Its immigration status is now: Refugee or other protection." in answer.text
        assert re.search(r'value="no_leave"\s+checked', answer.text)
        assert version_of(answer.text) == "1"  # sending it again changes the record


class TestWelsh:
    async def test_the_refusals_read_in_welsh(
        self, officer: tuple[httpx.AsyncClient, str], referral: dict[str, Any]
    ) -> None:
        browser, csrf = officer
        await browser.get(record_path(referral) + "?lang=cy")
        lacking = await browser.post(record_path(referral), data={"csrf_token": csrf})
        stale = await browser.post(
            record_path(referral), data={"csrf_token": csrf, "version": "7", "status": "settled"}
        )
        assert [lacking.status_code, stale.status_code] == [422, 412]
        assert "Dewiswch statws y person o ran mewnfudo" in lacking.text
        assert "Newidiodd rhywun y cofnod mewnfudo hwn" in stale.text
        english = _english_sentences()
        for answer in (lacking, stale):
            assert '<html lang="cy"' in answer.text
            assert [s for s in english if s in _text(answer.text)] == []
