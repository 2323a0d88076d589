"""The PDF on its own, without a database: the font it needs, and the same bytes every time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.letters.pdf import LetterFontMissing, render_pdf
from app.letters.rendering import LetterFacts
from app.settings import Settings
from tests.letters.helpers import pdf_text

FACTS = LetterFacts(
    kind="cg_negative",
    reference="NRM-W-2026-000042",
    name="Gwenllïan Ŵyn",
    written_on=date(2026, 12, 4),
    decided_on=date(2026, 12, 4),
    questioned_on=None,
    until_on=date(2026, 12, 17),
    reconsider_by=date(2027, 1, 3),
    reasons="First line.\n\nSecond line: tŷ & <b>not bold</b>.",
    unit=("All-Wales decision unit", "Uned benderfynu Cymru gyfan"),
    local_authority=None,
)
WRITTEN = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
FONTS = Path(Settings().letter_font_dir)


class TestPdf:
    def test_the_same_letter_is_the_same_document(self) -> None:
        once = render_pdf(FACTS, language="cy", created_at=WRITTEN, font_dir=FONTS)
        again = render_pdf(FACTS, language="cy", created_at=WRITTEN, font_dir=FONTS)
        assert once == again

    def test_a_letter_carries_nothing_of_the_letter_before_it(self) -> None:
        # The glyphs and pages another letter used must not reach it (a copied document with
        # its fonts parsed once did carry them: the subset of the next letter lost glyphs).
        first = render_pdf(FACTS, language="cy", created_at=WRITTEN, font_dir=FONTS)
        other = replace(FACTS, name="Ωmega Ŷ", reasons="Ğ ğ Ş ş Ł ł ©", reference="NRM-W-2026-9")
        render_pdf(other, language="en", created_at=WRITTEN, font_dir=FONTS)
        assert render_pdf(FACTS, language="cy", created_at=WRITTEN, font_dir=FONTS) == first

    def test_reasons_keep_their_lines_and_are_text_not_markup(self) -> None:
        text = pdf_text(render_pdf(FACTS, language="en", created_at=WRITTEN, font_dir=FONTS))
        assert "First line." in text
        assert "Second line: tŷ & <b>not bold</b>." in text
        assert "17 December 2026" in text
        assert "3 January 2027" in text

    def test_without_the_font_it_says_what_to_install(self, tmp_path: Path) -> None:
        with pytest.raises(LetterFontMissing, match="fonts-dejavu-core"):
            render_pdf(FACTS, language="en", created_at=WRITTEN, font_dir=tmp_path)
