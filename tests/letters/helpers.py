"""Shared steps of the letters' tests: the letters a representation lists, a download, and
the text of a PDF as a reader extracts it (pypdf)."""

from __future__ import annotations

import io
from typing import Any

import httpx
from pypdf import PdfReader

from tests.factories import AppUser
from tests.referrals.builders import Case


async def letters_of(client: httpx.AsyncClient, user: AppUser, case: Case) -> list[Any]:
    response = await client.get(f"/api/v1/referrals/{case.id}", headers=user.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["letters"])


async def fetch(
    client: httpx.AsyncClient, user: AppUser, case: Case, letter_id: str
) -> httpx.Response:
    return await client.get(
        f"/api/v1/referrals/{case.id}/letters/{letter_id}", headers=user.headers
    )


def pdf_pages(content: bytes) -> list[str]:
    """Each page's text, as a reader extracts it."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def pdf_text(content: bytes) -> str:
    return "\n".join(pdf_pages(content))


def fonts(content: bytes) -> dict[str, bool]:
    """Each font the PDF uses, by base name, and whether its font file is embedded."""
    found: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(content)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendants = [d.get_object() for d in font.get("/DescendantFonts", [])]
            descriptors = [d["/FontDescriptor"].get_object() for d in descendants]
            embedded = bool(descriptors) and all("/FontFile2" in d for d in descriptors)
            found[str(font["/BaseFont"]).split("+")[-1]] = embedded
    return found
