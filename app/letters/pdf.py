"""A letter as a PDF (docs/letters.md): its HTML laid out by fpdf2 (pure Python) in DejaVu Sans,
embedded (subset) so every Welsh letter (ŵ, ŷ, â, ê…) shows on any reader.

A letter in Welsh is one document, Welsh first and English after it on a new page. The output
is deterministic: the document's creation date is the letter's, so the same letter gives the
same bytes at every download. Must not: touch the database.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from app.letters.rendering import LetterFacts, render_html

FONT = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


class LetterFontMissing(RuntimeError):
    """The letters' font is not installed: a fault of the installation (a 500, logged with
    what to do), never of the request."""


def _document(font_dir: Path, created_at: datetime, title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(created_at)
    pdf.set_title(title)
    pdf.set_author("Wales NRM")
    pdf.set_margins(20, 20, 20)
    for style, name in FONT_FILES.items():
        path = font_dir / name
        if not path.is_file():
            raise LetterFontMissing(
                f"{path} is missing: install Debian's fonts-dejavu-core, or set "
                "NRM_LETTER_FONT_DIR to a folder holding DejaVu Sans"
            )
        pdf.add_font(FONT, style, str(path))
    return pdf


def render_pdf(facts: LetterFacts, *, language: str, created_at: datetime, font_dir: Path) -> bytes:
    """The letter's PDF: English, or Welsh then English for `cy`."""
    pdf = _document(font_dir, created_at, facts.reference)
    for part in ("cy", "en") if language == "cy" else ("en",):
        pdf.add_page()
        pdf.set_font(FONT, size=11)
        pdf.write_html(render_html(facts, part), font_family=FONT)
    return bytes(pdf.output())
