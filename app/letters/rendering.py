"""A letter's HTML, from its catalogued template (`templates/letter.html`), in one language.

The same machinery as the web pages (`app.web.rendering`): Jinja with the i18n extension, whose
messages come from the service's catalogues (`app.i18n.core`, `make i18n-extract`), and Babel
for dates. The language is set for the render only, so one letter can be rendered in Welsh and
then in English. Must not: touch the database, or know anything of immigration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from babel.dates import format_date as babel_format_date
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.i18n import core

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class LetterFacts:
    """Everything a letter states, gathered from its row, its decision and its referral."""

    kind: str
    reference: str
    name: str  # the person's name, or "" when none was given
    written_on: date
    decided_on: date
    questioned_on: date | None  # a reconsideration letter: the date of the decision it questioned
    until_on: date | None
    reconsider_by: date | None
    reasons: str | None  # a negative decision's or a reconsideration's, as its maker wrote them
    unit: tuple[str, str]  # the deciding unit's name in English and in Welsh
    local_authority: tuple[str, str] | None  # a child's letter: the council, in both languages


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        core.gettext, core.ngettext, newstyle=True
    )
    return env


ENVIRONMENT = _environment()


def render_html(facts: LetterFacts, language: str) -> str:
    """The letter's HTML in `language` (`en` or `cy`)."""
    token = core.current_language.set(language)
    try:
        welsh = language == core.WELSH

        def format_date(value: date | None) -> str:
            return "" if value is None else babel_format_date(value, "d MMMM y", locale=language)

        authority = facts.local_authority
        return ENVIRONMENT.get_template("letter.html").render(
            facts=facts,
            format_date=format_date,
            unit=facts.unit[1] if welsh else facts.unit[0],
            authority=(authority[1] if welsh else authority[0]) if authority else None,
        )
    finally:
        core.current_language.reset(token)
