"""`/statistics` (WEB.md "Pages"): the API's tables with suppressed cells marked, an accessible
chart, the disparity table in words, the API's CSV and report, the API's gates; in Welsh too."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.web import chart
from tests.referrals.builders import RG_POSITIVE, Cast, file_case, make_cast, referral_form, step
from tests.web.helpers import error_summary, sign_in
from tests.web.test_language import _english_sentences, _text

API = "/api/v1/statistics"


@dataclass
class Scene:
    cast: Cast


@pytest.fixture
async def scene(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> Scene:
    cast = await make_cast(app, sessions)
    for gender in ("female", "female", "male"):
        case = await file_case(
            client, cast.responder, referral_form(potential_victim={"gender": gender})
        )
        await step(client, cast.decision_maker, case, "decisions", RG_POSITIVE)
    return Scene(cast)


@pytest.fixture
def nothing_suppressed(app: FastAPI) -> Iterator[None]:
    """The app with a suppression threshold of 1, so that the raw figures can be compared."""
    original = app.state.settings
    app.state.settings = original.model_copy(update={"suppression_threshold": 1})
    try:
        yield
    finally:
        app.state.settings = original


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The cells of each body row of a table, tags stripped."""
    body = html.split(f'id="{table_id}"', 1)[1].split("<tbody", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


async def api_json(client: httpx.AsyncClient, scene: Scene, table: str, **params: Any) -> Any:
    answer = await client.get(f"{API}/{table}", params=params, headers=scene.cast.auditor.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


class TestWhoMaySee:
    async def test_auditors_and_seniors_only(self, client: httpx.AsyncClient, scene: Scene) -> None:
        for user in (scene.cast.responder, scene.cast.decision_maker, scene.cast.panel):
            await sign_in(client, user.username)
            assert (await client.get("/statistics")).status_code == 403
            assert (await client.get("/statistics.csv?table=referrals")).status_code == 403
        for user in (scene.cast.auditor, scene.cast.senior):
            await sign_in(client, user.username)
            page = await client.get("/statistics")
            assert page.status_code == 200
            assert 'href="/statistics"' in page.text

    async def test_a_senior_never_by_immigration_status_and_no_report(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.senior.username)
        page = await client.get("/statistics?table=decisions")
        assert 'value="immigration_status"' not in page.text
        assert "your own decision unit" in page.text
        assert 'id="report"' not in page.text
        refused = await client.get("/statistics?table=decisions&by=immigration_status")
        assert refused.status_code == 403
        csv = await client.get("/statistics.csv?table=disparities&by=immigration_status")
        assert csv.status_code == 403
        assert (await client.get("/statistics/report")).status_code == 403


class TestTables:
    async def test_the_apis_figures_with_the_chart_and_csv(
        self, client: httpx.AsyncClient, scene: Scene, nothing_suppressed: None
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get("/statistics?table=decisions&by=gender")
        assert page.status_code == 200
        api = await api_json(client, scene, "decisions", by="gender")
        rows = table_rows(page.text, "figures")
        assert [r[0] for r in rows] == ["Female", "Male", "Total"]
        assert [int(r[1]) for r in rows] == [row["count"] for row in api["rows"]]
        assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in page.text
        assert 'aria-labelledby="chart-title chart-desc"' in page.text
        assert "style=" not in page.text.split('id="chart"', 1)[1].split("</svg>", 1)[0]
        assert len(re.findall(r"<rect ", page.text)) == 2
        gaps = table_rows(page.text, "disparities")
        assert gaps[0][0] == "Female"
        assert "chance would explain" in gaps[0][-1]
        link = re.search(r'href="(/statistics\.csv\?[^"]+)" id="csv"', page.text)
        assert link is not None
        csv = await client.get(link.group(1).replace("&amp;", "&"))
        wanted = await client.get(
            f"{API}/decisions",
            params={"by": "gender", "format": "csv"},
            headers=scene.cast.auditor.headers,
        )
        assert csv.status_code == 200
        assert csv.text == wanted.text
        assert csv.headers["content-disposition"] == wanted.headers["content-disposition"]
        assert csv.headers["content-disposition"].startswith("attachment;")

    async def test_suppressed_cells_are_marked_explained_and_empty_in_the_csv(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get("/statistics?by=gender")
        assert page.status_code == 200
        rows = table_rows(page.text, "figures")
        assert rows[0][0] == "Female"
        assert rows[0][1].startswith("suppressed")
        assert "A number from 1 to 4 is not published" in page.text
        assert "<rect " not in page.text  # a suppressed count has no bar
        csv = await client.get("/statistics.csv?table=referrals&by=gender")
        wanted = await client.get(
            f"{API}/referrals",
            params={"by": "gender", "format": "csv"},
            headers=scene.cast.auditor.headers,
        )
        assert csv.text == wanted.text
        assert "female,Female,,0,true" in csv.text

    async def test_the_report_is_the_apis_with_no_script(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get("/statistics")
        link = re.search(r'href="(/statistics/report\?[^"]+)"', page.text)
        assert link is not None
        report = await client.get(link.group(1).replace("&amp;", "&"))
        assert report.status_code == 200
        assert "<svg" in report.text
        policy = report.headers["content-security-policy"]
        assert "script-src" not in policy
        assert "default-src 'none'" in policy

    async def test_the_report_has_the_language_link_of_every_page(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get("/statistics")
        found = re.search(r'href="(/statistics/report\?[^"]+)"', page.text)
        assert found is not None
        address = html.unescape(found.group(1))
        period = parse_qsl(urlsplit(address).query)

        english = await client.get(address)
        href, hreflang, text = _report_language_link(english.text)
        assert (hreflang, text) == ("cy", "Cymraeg")
        assert urlsplit(href).path == "/statistics/report"
        assert parse_qsl(urlsplit(href).query) == [*period, ("lang", "cy")]
        welsh = await client.get(href)
        assert welsh.status_code == 200
        assert welsh.text.startswith('<!DOCTYPE html>\n<html lang="cy">')
        back, hreflang, text = _report_language_link(welsh.text)
        assert (hreflang, text) == ("en", "English")
        assert parse_qsl(urlsplit(back).query) == [*period, ("lang", "en")]
        for report in (english, welsh):
            policy = report.headers["content-security-policy"]
            assert "script-src" not in policy
            assert "default-src 'none'" in policy
            assert "<script" not in report.text
            assert '<p class="language"><a href="/statistics/report?' in report.text

    async def test_the_apis_report_has_no_language_link(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        report = await client.get(f"{API}/report", headers=scene.cast.auditor.headers)
        assert report.status_code == 200
        assert "<h2>Referrals over time</h2>" in report.text
        assert "hreflang" not in report.text


def _report_language_link(page: str) -> tuple[str, str, str]:
    """The report's link to the other language: its target (unescaped), hreflang and text."""
    found = re.search(r'<a href="([^"]+)" hreflang="(cy|en)" lang="\2">([^<]+)</a>', page)
    assert found is not None, "the report has no language link"
    return html.unescape(found.group(1)), found.group(2), found.group(3)


class TestRefusals:
    @pytest.mark.parametrize(
        ("query", "field", "message"),
        [
            ("by=everything", "by", "Choose a breakdown from the list"),
            ("table=referrals&by=decision_unit", "by", "must be one of"),
            (
                "from.day=5&from.month=6&from.year=2026&to.day=1&to.month=6&to.year=2026",
                "from.day",
                "must be on or before",
            ),
            ("from.day=31&from.month=2&from.year=2026", "from.day", "Enter a real date"),
        ],
    )
    async def test_a_bad_choice_is_a_422_page_keeping_what_was_chosen(
        self, client: httpx.AsyncClient, scene: Scene, query: str, field: str, message: str
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get(f"/statistics?{query}")
        assert page.status_code == 422
        [(href, text)] = error_summary(page.text)
        assert href == f"#{field}"
        assert message in text
        assert 'id="figures"' not in page.text
        if "from.day=31" in query:
            assert 'value="31"' in page.text


class TestWelsh:
    async def test_names_numbers_and_words_in_welsh(
        self, client: httpx.AsyncClient, scene: Scene, nothing_suppressed: None
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get("/statistics?table=decisions&by=gender&lang=cy")
        assert page.status_code == 200
        assert '<html lang="cy"' in page.text
        rows = table_rows(page.text, "figures")
        assert rows[0][0] == "Benyw"
        text = _text(page.text)
        assert [s for s in _english_sentences() if s in text] == []
        chart = page.text.split('id="chart"', 1)[1].split("</svg>", 1)[0]
        assert "Benyw" in chart
        assert "Female" not in chart

    async def test_the_report_follows_the_page_language(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        await sign_in(client, scene.cast.auditor.username)
        page = await client.get("/statistics?lang=cy")
        assert "Saesneg" not in _text(page.text)  # the report is no longer in English only
        link = re.search(r'href="(/statistics/report\?[^"]+)"', page.text)
        assert link is not None

        welsh = await client.get(link.group(1).replace("&amp;", "&"))
        english = await client.get(link.group(1).replace("&amp;", "&") + "&lang=en")

        assert welsh.status_code == english.status_code == 200
        assert welsh.text.startswith('<!DOCTYPE html>\n<html lang="cy">')
        assert "<h2>Atgyfeiriadau dros amser</h2>" in welsh.text
        assert "<h3>Achos rhesymol, fesul uned benderfynu</h3>" in welsh.text
        assert [s for s in _english_sentences() if s in _text(welsh.text)] == []
        assert english.text.startswith('<!DOCTYPE html>\n<html lang="en">')
        assert "<h2>Referrals over time</h2>" in english.text


class TestChart:
    def test_bars_scale_to_the_largest_and_a_suppressed_count_has_none(self) -> None:
        drawn = chart.bar_chart(
            [("Police", 10), ("Health", None), ("Charity", 5), ("Oversight", 0)],
            show=str,
            suppressed="suppressed",
        )
        widths = [bar.width for bar in drawn.bars]
        assert widths == [chart.BAR_WIDTH, 0, chart.BAR_WIDTH // 2, 0]
        assert [bar.text for bar in drawn.bars] == ["10", "suppressed", "5", "0"]
        assert drawn.height == 2 * chart.TOP + 4 * chart.ROW_HEIGHT
