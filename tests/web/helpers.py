"""Signing in to the web pages over the ASGI app, and reading what a page shows."""

from __future__ import annotations

import html as html_module
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import httpx

from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in_csrf(html: str) -> str:
    """The sign-in form's token (the page's last: a signed-in page has the session's first)."""
    return _CSRF.findall(html)[-1]


def key_of(html: str) -> str:
    found = _KEY.search(html)
    assert found, "the form has no idempotency key"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; the session's CSRF token."""
    form = await client.get("/sign-in")
    answer = await client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": sign_in_csrf(form.text)},
    )
    assert answer.status_code == 303, answer.text
    return csrf_of((await client.get("/me")).text)


def error_summary(html: str) -> list[tuple[str, str]]:
    """(href, text) of each link of the error summary."""
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    assert block, "no error summary"
    return [
        (href, html_module.unescape(re.sub(r"\s+", " ", text).strip()))
        for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', block.group(1), re.S)
    ]


def referral_fields(**overrides: Any) -> dict[str, Any]:
    """A complete referral form for an adult who consents, as a browser posts it."""
    fields: dict[str, Any] = {
        "potential_victim.given_name": "Ana",
        "potential_victim.family_name": "Popescu",
        "potential_victim.date_of_birth.day": "2",
        "potential_victim.date_of_birth.month": "4",
        "potential_victim.date_of_birth.year": "1999",
        "potential_victim.gender": "female",
        "potential_victim.nationality": "RO",
        "potential_victim.languages": ["ro", ""],
        "potential_victim.interpreter_needed": "yes",
        "potential_victim.correspondence_language": "en",
        "consent.given": "yes",
        "consent.recorded_on.day": "1",
        "consent.recorded_on.month": "6",
        "consent.recorded_on.year": "2025",
        "exploitation.types": ["labour", "sexual"],
        "exploitation.location": "uk",
        "exploitation.local_authority": "W06000015",
        "indicators": ["withheld_documents", "debt_bondage"],
        "account": "She was found working in a car wash, with no pay.",
        "immigration.status": "visa_overstayer",
        "immigration.home_office_reference": "HO-123456",
    }
    fields.update(overrides)
    return fields


@dataclass
class Element:
    """One element of a page: its tag, attributes and text (its descendants' text included)."""

    tag: str
    attrs: dict[str, str]
    text: str = ""


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class _ById(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, Element] = {}
        self.duplicates: list[str] = []
        self._open: list[tuple[str, Element]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        if "id" in element.attrs:
            if element.attrs["id"] in self.found:
                self.duplicates.append(element.attrs["id"])
            self.found[element.attrs["id"]] = element
        if tag not in _VOID:
            self._open.append((tag, element))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        for _, element in self._open:
            element.text += data


def elements_by_id(html: str) -> dict[str, Element]:
    """Every element of the page that has an id, by its id (asserts that ids are unique)."""
    parser = _ById()
    parser.feed(html)
    parser.close()
    assert not parser.duplicates, f"ids used twice: {parser.duplicates}"
    return parser.found


def described_by(html: str, control_id: str) -> list[Element]:
    """The elements a control's `aria-describedby` names (asserts the control and each exist)."""
    elements = elements_by_id(html)
    assert control_id in elements, f"no control with id {control_id!r}"
    names = elements[control_id].attrs.get("aria-describedby", "").split()
    missing = [name for name in names if name not in elements]
    assert not missing, f"{control_id!r} is described by missing elements {missing}"
    return [elements[name] for name in names]
