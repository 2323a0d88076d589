"""Pages in Welsh and English (WEB.md "Language"), and the API's problems in Welsh."""

from __future__ import annotations

import re

import httpx
from babel.messages.pofile import read_po

from app.i18n.core import LOCALE_DIR
from tests.web.conftest import SignedIn
from tests.web.helpers import key_of

PAGES = ("/", "/referrals/new", "/referrals", "/duty-to-notify/new", "/me", "/no-such-page")


def _english_sentences() -> set[str]:
    """English messages long enough to be sentences (names of codes are short and may read
    the same in both languages: "Rwmania" aside, "Kosovo" is Kosovo)."""
    with (LOCALE_DIR / "cy/LC_MESSAGES/messages.po").open("rb") as handle:
        return {
            str(m.id)
            for m in read_po(handle)
            if m.id and len(str(m.id).split()) >= 4 and str(m.id) != str(m.string)
        }


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<[^>]*lang="en"[^>]*>[^<]*<', "<", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


# Words GOV.UK Frontend's macros put into attributes when a page does not give its own.
_MACRO_DEFAULTS = {"Service information", "Menu", "Show all sections", "Important"}


def _english_words() -> set[str]:
    """Every English message whose Welsh differs, of any length, and the macros' defaults."""
    with (LOCALE_DIR / "cy/LC_MESSAGES/messages.po").open("rb") as handle:
        return {str(m.id) for m in read_po(handle) if m.id and str(m.id) != str(m.string)} | (
            _MACRO_DEFAULTS
        )


def _read_aloud_attributes(html: str) -> list[str]:
    """What a screen reader or a tooltip reads from attributes: labels, titles, alt texts."""
    return re.findall(r'\b(?:aria-label|title|alt|placeholder)="([^"]*)"', html)


class TestChoosingTheLanguage:
    async def test_lang_sets_the_page_language_and_the_cookie(
        self, client: httpx.AsyncClient
    ) -> None:
        answer = await client.get("/?lang=cy")
        assert '<html lang="cy"' in answer.text
        assert "Mecanwaith Atgyfeirio Cenedlaethol Cymru" in answer.text
        assert "Wales National Referral Mechanism" not in answer.text
        assert 'hreflang="en"' in answer.text
        assert client.cookies.get("nrm_lang") == "cy"
        assert '<html lang="cy"' in (await client.get("/sign-in")).text

    async def test_accept_language_serves_when_nothing_else_says(
        self, client: httpx.AsyncClient
    ) -> None:
        answer = await client.get("/", headers={"Accept-Language": "cy-GB"})
        assert '<html lang="cy"' in answer.text
        assert 'href="/?lang=en"' in answer.text

    async def test_the_users_language_follows_them_after_signing_in(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        saved = await client.post("/me", data={"language": "cy", "csrf_token": signed_in.csrf})
        assert saved.status_code == 303
        assert '<html lang="cy"' in (await client.get("/")).text
        me = await client.get("/api/v1/me", headers=signed_in.user.headers)
        assert me.json()["language"] == "cy"

    async def test_the_language_link_sets_the_cookie_not_the_saved_preference(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        saved = await client.post("/me", data={"language": "en", "csrf_token": signed_in.csrf})
        assert saved.status_code == 303
        answer = await client.get("/referrals?lang=cy")
        assert '<html lang="cy"' in answer.text
        assert client.cookies.get("nrm_lang") == "cy"
        assert '<html lang="cy"' in (await client.get("/me")).text  # the cookie wins
        me = await client.get("/api/v1/me", headers=signed_in.user.headers)
        assert me.json()["language"] == "en"  # the saved preference is untouched

    async def test_every_form_leaves_validation_to_the_server(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        """WEB.md "Forms": `novalidate` on every form, so the browser never blocks a POST."""
        del signed_in
        for path in ("/referrals/new", "/duty-to-notify/new", "/me", "/referrals"):
            forms = re.findall(r"<form\b[^>]*>", (await client.get(path)).text)
            assert forms, path
            assert [f for f in forms if 'method="post"' in f and "novalidate" not in f] == []

    async def test_the_language_link_keeps_the_person_on_the_same_page(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        del signed_in
        answer = await client.get("/referrals/new")
        assert 'href="/referrals/new?lang=cy" hreflang="cy" lang="cy">Cymraeg' in answer.text


class TestWelshPages:
    async def test_no_welsh_page_shows_an_english_sentence(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        del signed_in
        english = _english_sentences()
        client.cookies.set("nrm_lang", "cy")
        for path in PAGES:
            text = _text((await client.get(path)).text)
            assert [s for s in english if s in text] == [], path

    async def test_no_welsh_page_reads_english_aloud_from_its_attributes(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        english = _english_words()
        from tests.web.test_referral_pages import _file

        referral = (await _file(client, signed_in.csrf)).headers["location"].split("?")[0]
        client.cookies.set("nrm_lang", "cy")
        for path in (*PAGES, referral):
            said = _read_aloud_attributes((await client.get(path)).text)
            assert said, path  # the pages do label their landmarks
            assert [a for a in said if a in english] == [], path

    async def test_a_failed_form_in_welsh_says_its_problems_in_welsh(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        client.cookies.set("nrm_lang", "cy")
        form = await client.get("/referrals/new")
        answer = await client.post(
            "/referrals/new",
            data={"csrf_token": signed_in.csrf, "idempotency_key": key_of(form.text)},
        )
        assert answer.status_code == 422
        assert "Dewiswch rywedd y person" in answer.text
        assert "Mae problem" in answer.text

    async def test_dates_are_written_in_welsh(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        from tests.web.test_referral_pages import _file

        location = (await _file(client, signed_in.csrf)).headers["location"]
        client.cookies.set("nrm_lang", "cy")
        page = (await client.get(location)).text
        months = (
            "Ionawr",
            "Chwefror",
            "Mawrth",
            "Ebrill",
            "Mai",
            "Mehefin",
            "Gorffennaf",
            "Awst",
            "Medi",
            "Hydref",
            "Tachwedd",
            "Rhagfyr",
        )
        assert any(f" {month} 20" in page for month in months)
        assert "Caerdydd" in page or "Heddlu" in page or "Cymru" in page
        assert [s for s in _english_sentences() if s in _text(page)] == []


class TestWelshProblems:
    async def test_the_apis_problems_are_in_welsh_under_accept_language_cy(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        headers = {**signed_in.user.headers, "Accept-Language": "cy"}
        body = {"potential_victim": {"gender": "x"}, "exploitation": {}, "account": ""}
        answer = await client.post("/api/v1/referrals", json=body, headers=headers)
        problem = answer.json()
        assert answer.status_code == 422
        assert problem["type"] == "/problems/validation-failed"
        assert problem["title"] == "Nid yw'r cais yn ddilys"
        assert problem["detail"] == "mae meysydd annilys yn y cais"
        fields = {e["field"]: e["message"] for e in problem["errors"]}
        assert fields["exploitation.location"] == "Mae angen llenwi'r maes hwn"
        assert "neu 'unknown'" in fields["potential_victim.gender"]
        assert answer.headers["content-language"] == "cy"

    async def test_a_refusal_of_the_role_gate_is_in_welsh(
        self, client: httpx.AsyncClient, signed_in: SignedIn
    ) -> None:
        headers = {**signed_in.user.headers, "Accept-Language": "cy"}
        problem = (await client.get("/api/v1/queue", headers=headers)).json()
        assert problem["detail"] == "Nid yw eich rolau yn caniatáu i chi weld y ciw gwaith."

    async def test_without_accept_language_problems_stay_english(
        self, client: httpx.AsyncClient
    ) -> None:
        assert (await client.get("/api/v1/me")).json()["title"] == "Authentication required"
