"""Signing in to the web pages over the ASGI app, and reading what a page shows."""

from __future__ import annotations

import html as html_module
import re
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
