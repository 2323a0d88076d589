"""Statistics periods are bounded (issue 9, item 4): a period longer than
`NRM_STATISTICS_MAX_SPAN_DAYS` is 422 on every table, the report and `nrm report`, and the
report's chart costs what the data holds, never what the period spans. Item 5: a report period
ending in the year 9999 was a 500."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import ValidationFailed
from app.identity.roles import Role
from app.main import create_app
from app.reports.cli import write_report
from app.reports.report_charts import chart_months
from app.reports.schemas import ReferralRow
from app.settings import STATISTICS_MAX_SPAN_DAYS
from tests.databases import settings_for
from tests.factories import AppUser, make_user
from tests.ops.test_problems import assert_problem

API = "/api/v1/statistics"
TABLES = {
    "referrals": {"by": "gender"},
    "decisions": {"by": "gender"},
    "disparities": {"by": "gender"},
    "report": {},
}
TODAY = date(2026, 6, 1)


@pytest.fixture
async def auditor(app: FastAPI, db: AsyncSession) -> AppUser:
    return await make_user(app, db, Role.AUDITOR)


def period_ending(end: date, days: int) -> dict[str, str]:
    """A period of `days` days, inclusive, that ends on `end`."""
    return {"from": (end - timedelta(days=days - 1)).isoformat(), "to": end.isoformat()}


class TestMaximumSpan:
    @pytest.mark.parametrize("table", TABLES)
    async def test_a_period_from_the_year_1_is_422_on_from(
        self, client: httpx.AsyncClient, auditor: AppUser, table: str
    ) -> None:
        params = {**TABLES[table], "from": "0001-01-01", "to": "9998-12-01"}

        response = await client.get(f"{API}/{table}", params=params, headers=auditor.headers)

        body = assert_problem(response, 422, "validation-failed")
        assert body["detail"] == f"the period is longer than {STATISTICS_MAX_SPAN_DAYS} days"
        assert body["errors"] == [
            {
                "field": "from",
                "message": f"must be at most {STATISTICS_MAX_SPAN_DAYS} days before `to`",
            }
        ]

    @pytest.mark.parametrize("table", ["referrals", "disparities"])
    async def test_the_longest_period_is_served_and_one_day_more_refused(
        self, client: httpx.AsyncClient, auditor: AppUser, table: str
    ) -> None:
        end = date(2026, 3, 31)
        longest = period_ending(end, STATISTICS_MAX_SPAN_DAYS)
        too_long = period_ending(end, STATISTICS_MAX_SPAN_DAYS + 1)

        served = await client.get(
            f"{API}/{table}", params={**TABLES[table], **longest}, headers=auditor.headers
        )
        refused = await client.get(
            f"{API}/{table}", params={**TABLES[table], **too_long}, headers=auditor.headers
        )

        assert served.status_code == 200, served.text
        assert (served.json()["from"], served.json()["to"]) == (longest["from"], longest["to"])
        assert_problem(refused, 422, "validation-failed")

    async def test_follows_the_setting(
        self,
        session_database: str,
        sessions: async_sessionmaker[AsyncSession],
        auditor: AppUser,
    ) -> None:
        app = create_app(settings_for(session_database, statistics_max_span_days=31))
        app.state.sessionmaker = sessions  # inside this test's transaction, like `client`
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                get = partial(client.get, f"{API}/referrals", headers=auditor.headers)
                served = await get(params={"by": "gender", **period_ending(TODAY, 31)})
                refused = await get(params={"by": "gender", **period_ending(TODAY, 32)})
        finally:
            await app.state.engine.dispose()

        assert served.status_code == 200, served.text
        body = assert_problem(refused, 422, "validation-failed")
        assert body["detail"] == "the period is longer than 31 days"

    async def test_bounds_nrm_report_too(self, throwaway: str, tmp_path: Path) -> None:
        with pytest.raises(ValidationFailed):
            await write_report(
                settings_for(throwaway),
                tmp_path,
                date_from=date(1, 1, 1),
                date_to=date(9998, 12, 1),
            )

        assert not any(tmp_path.iterdir())  # nothing written

    async def test_nrm_report_follows_the_setting(self, throwaway: str, tmp_path: Path) -> None:
        settings = settings_for(throwaway, statistics_max_span_days=31)
        with pytest.raises(ValidationFailed, match="longer than 31 days"):
            await write_report(
                settings, tmp_path, date_from=date(2026, 1, 1), date_to=date(2026, 2, 1)
            )

        assert not any(tmp_path.iterdir())


class TestTheLastYears:
    async def test_a_report_of_a_period_ending_in_9999_is_served(
        self, client: httpx.AsyncClient, auditor: AppUser
    ) -> None:
        response = await client.get(
            f"{API}/report",
            params={"from": "9999-01-01", "to": "9999-12-31"},
            headers=auditor.headers,
        )

        assert response.status_code == 200, response.text
        assert "Period 1 January 9999 to 31 December 9999" in response.text

    @pytest.mark.parametrize("table", ["referrals", "decisions", "disparities"])
    async def test_a_table_of_a_period_ending_in_9999_is_served(
        self, client: httpx.AsyncClient, auditor: AppUser, table: str
    ) -> None:
        params = {**TABLES[table], "from": "9999-01-01", "to": "9999-12-31", "format": "csv"}

        response = await client.get(f"{API}/{table}", params=params, headers=auditor.headers)

        assert response.status_code == 200, response.text


def month_row(group: str | None, count: int | None = 1) -> ReferralRow:
    return ReferralRow(
        group=group, label=group or "Total", count=count, duty_to_notify=0, suppressed=count is None
    )


class TestChartMonths:
    def test_run_from_the_first_to_the_last_month_that_holds_something(self) -> None:
        rows = [month_row("2025-11"), month_row("2026-02", None), month_row(None, 2)]

        assert chart_months(rows) == ["2025-11", "2025-12", "2026-01", "2026-02"]

    def test_are_none_for_a_period_that_holds_nothing_however_long(self) -> None:
        assert chart_months([month_row(None, 0)]) == []

    def test_reach_december_9999_without_passing_it(self) -> None:
        rows = [month_row("9999-11"), month_row("9999-12"), month_row(None, 2)]

        assert chart_months(rows) == ["9999-11", "9999-12"]
