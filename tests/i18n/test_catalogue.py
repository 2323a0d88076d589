"""The Welsh catalogue is complete (WEB.md "Language"): no message without its Welsh, none fuzzy,
every message the code gives a problem or a page is in it, and the compiled catalogue ships."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app import labels
from app.i18n import core, extract, templates
from app.identity.roles import Role, Sector
from app.immigration.models import ImmigrationStatus
from app.referrals.vocabulary import ExploitationLocation, ExploitationType, Gender, Indicator
from app.referrals.workflow import NextAction, Status

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app/i18n/locale/cy/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")


def _catalogue() -> list[object]:
    with PO.open("rb") as handle:
        return [m for m in read_po(handle) if m.id]


class TestCatalogue:
    def test_every_message_has_a_welsh_translation_and_none_is_fuzzy(self) -> None:
        untranslated = [m.id for m in _catalogue() if not m.string]  # type: ignore[attr-defined]
        fuzzy = [m.id for m in _catalogue() if m.fuzzy]  # type: ignore[attr-defined]
        assert untranslated == []
        assert fuzzy == []

    def test_every_message_of_the_code_is_in_the_catalogue(self) -> None:
        """Extraction was re-run: each literal a problem or a page is given has its Welsh."""
        missing = sorted(
            f"{path.relative_to(ROOT)}:{line} {message!r}"
            for path in sorted((ROOT / "app").rglob("*.py"))
            for line, message in extract.literal_messages(path.read_text(encoding="utf-8"))
            if not core.is_translated(message, core.WELSH)
        )
        assert missing == []

    def test_every_composed_message_and_template_has_its_welsh(self) -> None:
        composed = [*extract.messages(), *templates.TEMPLATES]
        assert [m for m in composed if not core.is_translated(m, core.WELSH)] == []

    def test_every_template_message_is_in_the_catalogue(self) -> None:
        found = {str(m.id) for m in _catalogue()}  # type: ignore[attr-defined]
        pattern = re.compile(r'_\("((?:[^"\\]|\\.)*)"')
        used = {
            match
            for path in (ROOT / "app").glob("*/templates/*.html")
            for match in pattern.findall(path.read_text(encoding="utf-8"))
        }
        assert used - found == set()

    def test_the_compiled_catalogue_is_current_and_ships_with_the_package(self) -> None:
        assert MO.exists()
        assert MO.stat().st_mtime >= PO.stat().st_mtime - 1
        config = (ROOT / "pyproject.toml").read_text()
        assert "i18n/locale/*/LC_MESSAGES/*.mo" in config

    def test_placeholders_survive_translation(self) -> None:
        for message in _catalogue():
            english, welsh = str(message.id), str(message.string)  # type: ignore[attr-defined]
            for pattern in (r"%\(\w+\)s", r"\{\w+\}", r"%%\{\w+\}"):
                wanted = set(re.findall(pattern, english))
                if "{advice}" in wanted or "{reason}" in wanted or "{name}" in english:
                    continue  # Welsh leaves out the library's English advice and reasons
                assert wanted <= set(re.findall(pattern, welsh)), english


class TestVocabularies:
    @pytest.mark.parametrize(
        ("vocabulary", "codes"),
        [
            ("gender", Gender),
            ("exploitation_type", ExploitationType),
            ("location", ExploitationLocation),
            ("indicator", Indicator),
            ("immigration_status", ImmigrationStatus),
            ("status", Status),
            ("next_action", NextAction),
            ("role", Role),
            ("sector", Sector),
        ],
    )
    def test_every_code_of_the_api_has_its_name(self, vocabulary: str, codes: type) -> None:
        assert set(labels.VOCABULARIES[vocabulary]) == {c.value for c in codes}

    def test_every_role_has_its_name(self) -> None:
        from app.web.account import ROLE_NAMES

        assert set(ROLE_NAMES) == set(Role)


class TestTranslate:
    def test_a_composed_refusal_is_translated_part_by_part(self) -> None:
        text = (
            "The referral's status does not allow you to withdraw the referral "
            "(current status: withdrawn)."
        )
        welsh = core.translate(text, core.WELSH)
        assert welsh == (
            "Nid yw statws yr atgyfeiriad yn caniatáu hyn: tynnu'r atgyfeiriad yn ôl "
            "(statws presennol: withdrawn)."
        )

    def test_english_is_left_as_it_is(self) -> None:
        assert core.translate("no such referral", core.ENGLISH) == "no such referral"

    @pytest.mark.parametrize(
        ("header", "language"),
        [
            ("cy", "cy"),
            ("cy-GB,en;q=0.5", "cy"),
            ("en-GB,cy;q=0.8", "en"),
            ("fr", None),
            (None, None),
        ],
    )
    def test_accept_language_is_read_by_its_weights(
        self, header: str | None, language: str | None
    ) -> None:
        assert core.negotiate(header) == language


class TestExtraction:
    def test_make_i18n_extract_finds_nothing_new(self, tmp_path: Path) -> None:
        out = tmp_path / "messages.pot"
        subprocess.run(
            [
                str(ROOT / ".venv/bin/pybabel"),
                "extract",
                "-F",
                "babel.cfg",
                "--no-location",
                "--sort-output",
                "--omit-header",
                "-o",
                str(out),
                ".",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
        with out.open("rb") as handle:
            extracted = {str(m.id) for m in read_po(handle) if m.id}
        in_catalogue = {str(m.id) for m in _catalogue()}  # type: ignore[attr-defined]
        assert extracted - in_catalogue == set()
