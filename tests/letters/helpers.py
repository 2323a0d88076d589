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


def embedded_fonts(content: bytes) -> set[str]:
    """The base names of the fonts embedded in the PDF (a font file is attached)."""
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                if "/FontFile2" in descriptor:
                    names.add(str(descriptor["/FontName"]))
    return names
