"""The auditor's report: GET /statistics/report and `nrm report --from --to --out DIR`.

A small world is filed through the real endpoints on a database of its own (the CLI opens its
own engine, so the data must be committed): referrals of three nationalities, a duty-to-notify
report, and decisions through the workflow's commands.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app import cli
from app.identity.roles import Role
from app.reports.cli import write_report
from tests.databases import settings_for
from tests.factories import AppUser, make_user
from tests.referrals.builders import (
    CG_POSITIVE,
    RG_POSITIVE,
    file_case,
    referral_form,
    service_date,
    step,
)
from tests.web.test_language import _english_sentences, _text

UNIT = "all-wales-decision-unit"
CHARTS = ("Referrals over time", "Outcomes per stage", "Time to decision", "Disparities")
WELSH_CHARTS = (
    "Atgyfeiriadau dros amser",
    "Canlyniadau fesul cam",
    "Yr amser i benderfynu",
    "Gwahaniaethau rhwng grwpiau",
)


class Filed:
    def __init__(self, auditor: AppUser, today: date) -> None:
        self.auditor, self.today = auditor, today

    @property
    def period(self) -> dict[str, str]:
        return {"from": f"{self.today.year}-01-01", "to": self.today.isoformat()}


@pytest.fixture
async def filed(committed_app: FastAPI, committed_client: httpx.AsyncClient) -> Filed:
    async with committed_app.state.sessionmaker() as s:
        responder = await make_user(committed_app, s, Role.FIRST_RESPONDER, organisation="bawso")
        maker = await make_user(committed_app, s, Role.DECISION_MAKER, organisation=UNIT)
        auditor = await make_user(committed_app, s, Role.AUDITOR, organisation=UNIT)
    for index, nationality in enumerate(["GB"] * 4 + ["AL"] * 4 + ["VN"]):
        form = referral_form(potential_victim={"nationality": nationality})
        case = await file_case(committed_client, responder, form)
        if index % 2 == 0:
            await step(committed_client, maker, case, "decisions", RG_POSITIVE)
        if index % 4 == 0:
            await step(committed_client, maker, case, "decisions", CG_POSITIVE)
    response = await committed_client.post(
        "/api/v1/duty-to-notify",
        json={
            "gender": "male",
            "nationality": "VN",
            "exploitation": {
                "types": ["criminal"],
                "location": "uk",
                "local_authority": "W06000015",
            },
        },
        headers=responder.headers,
    )
    assert response.status_code == 201, response.text
    return Filed(auditor, await service_date(committed_client, auditor))


def assert_self_contained_page(
    page: str, *, charts: int = 4, titles: tuple[str, ...] = CHARTS
) -> None:
    assert page.startswith("<!DOCTYPE html>")
    for title in titles:
        assert f"<h2>{title}</h2>" in page
    assert page.count("<svg") >= charts  # the charts are inline SVG
    # Nothing is fetched from elsewhere: no scripts, stylesheets or images by address.
    assert not re.search(r"<(script|link|img)\b", page)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


class TestReportEndpoint:
    async def test_serves_a_self_contained_page_that_shows_no_suppressed_count(
        self, committed_client: httpx.AsyncClient, filed: Filed
    ) -> None:
        response = await committed_client.get(
            "/api/v1/statistics/report", params=filed.period, headers=filed.auditor.headers
        )

        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert_self_contained_page(response.text)
        assert '<html lang="en">' in response.text
        # Viet Nam has one referral: each of its rows in the disparity tables is suppressed.
        # Countries are named as the pages name them (CLDR).
        rows = re.findall(
            r'<tr class="[^"]*"><td class="group">Vietnam</td>(.*?)</tr>', response.text
        )
        assert rows  # one per stage in which it has a decision
        assert all('<td class="suppressed">' in row and "<td>1</td>" not in row for row in rows)
        assert "United Kingdom" in response.text
        assert "<h3>Reasonable grounds, by nationality</h3>" in response.text

    async def test_is_in_welsh_under_accept_language_cy(
        self, committed_client: httpx.AsyncClient, filed: Filed
    ) -> None:
        english = await committed_client.get(
            "/api/v1/statistics/report", params=filed.period, headers=filed.auditor.headers
        )
        response = await committed_client.get(
            "/api/v1/statistics/report",
            params=filed.period,
            headers={**filed.auditor.headers, "Accept-Language": "cy"},
        )

        assert response.status_code == 200, response.text
        page = response.text
        assert_self_contained_page(page, titles=WELSH_CHARTS)
        assert '<html lang="cy">' in page
        assert "<h3>Achos rhesymol, yn ôl cenedligrwydd</h3>" in page
        assert "<h3>Sail bendant, fesul uned benderfynu</h3>" in page
        for group in ("Fietnam", "Y Deyrnas Unedig", "Cyfanswm", "Canolrif y diwrnodau gwaith"):
            assert group in page, group
        assert f"Cyfnod o 1 Ionawr {filed.today.year} i " in page
        assert [s for s in _english_sentences() if s in _text(page)] == []
        # The numbers read the same in both languages.
        assert _cells(page) == _cells(english.text)


def _cells(page: str) -> list[str]:
    return re.findall(r'<td(?: class="suppressed")?>([0-9.e\-\u2013]*)</td>', page)


class TestReportCommand:
    async def test_writes_the_csv_tables_the_api_serves(
        self,
        committed_app: FastAPI,
        committed_client: httpx.AsyncClient,
        filed: Filed,
        tmp_path: Path,
    ) -> None:
        start, end = (date.fromisoformat(filed.period[k]) for k in ("from", "to"))

        written = await write_report(
            committed_app.state.settings, tmp_path, date_from=start, date_to=end
        )

        assert {p.name for p in written} >= {"report.html", "referrals_by_month.csv", *TABLES}
        assert_self_contained_page((tmp_path / "report.html").read_text(encoding="utf-8"))
        for name, (path, params) in TABLES.items():
            response = await committed_client.get(
                f"/api/v1/statistics/{path}",
                params={**filed.period, **params, "format": "csv"},
                headers=filed.auditor.headers,
            )
            assert (tmp_path / name).read_bytes().decode() == response.text, name

    def test_runs_as_nrm_report(
        self, throwaway: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(cli, "get_settings", lambda: settings_for(throwaway))
        out = tmp_path / "report"

        code = cli.main(["report", "--from", "2026-01-01", "--to", "2026-03-31", "--out", str(out)])

        assert code == 0
        page = (out / "report.html").read_text(encoding="utf-8")
        assert_self_contained_page(page, charts=3)  # no disparity has a rate to draw
        assert "Period 1 January 2026 to 31 March 2026" in page
        assert (out / "referrals_by_month.csv").read_text().splitlines() == [
            "group,label,count,duty_to_notify,suppressed",
            ",Total,0,0,false",
        ]

    def test_writes_welsh_with_language_cy_and_the_same_csv(
        self, throwaway: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(cli, "get_settings", lambda: settings_for(throwaway))
        out = tmp_path / "report"
        period = ["--from", "2026-01-01", "--to", "2026-03-31"]

        code = cli.main(["report", *period, "--out", str(out), "--language", "cy"])

        assert code == 0
        page = (out / "report.html").read_text(encoding="utf-8")
        assert_self_contained_page(page, charts=3, titles=WELSH_CHARTS)
        assert '<html lang="cy">' in page
        assert "Cyfnod o 1 Ionawr 2026 i 31 Mawrth 2026" in page
        assert [s for s in _english_sentences() if s in _text(page)] == []
        assert (out / "referrals_by_month.csv").read_text().splitlines() == [
            "group,label,count,duty_to_notify,suppressed",
            ",Total,0,0,false",
        ]

    def test_refuses_a_date_that_is_not_a_date(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_:
            cli.main(["report", "--from", "2026-13-01", "--out", "/tmp/never"])

        assert exit_.value.code == 2
        assert "not a date" in capsys.readouterr().err


TABLES = {
    "decisions_reasonable_grounds_by_decision_unit.csv": (
        "decisions",
        {"by": "decision_unit", "stage": "reasonable_grounds"},
    ),
    "decisions_conclusive_grounds_by_decision_unit.csv": (
        "decisions",
        {"by": "decision_unit", "stage": "conclusive_grounds"},
    ),
    "disparities_reasonable_grounds_by_nationality.csv": (
        "disparities",
        {"by": "nationality", "stage": "reasonable_grounds"},
    ),
    "disparities_conclusive_grounds_by_immigration_status.csv": (
        "disparities",
        {"by": "immigration_status", "stage": "conclusive_grounds"},
    ),
    "disparities_reasonable_grounds_by_sector.csv": (
        "disparities",
        {"by": "sector", "stage": "reasonable_grounds"},
    ),
}
