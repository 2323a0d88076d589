"""Templates: the one Jinja environment of the pages and its globals (dates from `app.i18n.dates`).

Every page extends `base.html`; components come from `govuk-frontend-jinja`'s macros (Jinja
ports of GOV.UK Frontend's), never hand-copied HTML. Messages come from the catalogues through
the i18n extension, which reads the current language from `app.i18n.core`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    select_autoescape,
)

from app import labels
from app.i18n import core
from app.i18n.dates import format_date, format_datetime

TEMPLATES = Path(__file__).parent / "templates"

_DUE_BY_ACTION = {
    "rg_decision": "rg_due",
    "rg_review": "rg_due",
    "cg_decision": "recovery_period_ends",
    "panel_review": "panel_review_due",
}


def next_due(summary: Any) -> date | None:
    """The due date of the work a referral waits for, as the queue reads it."""
    name = _DUE_BY_ACTION.get(summary.next_action or "")
    return getattr(summary.deadlines, name) if name else None


def _environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(TEMPLATES),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        core.gettext, core.ngettext, newstyle=True
    )
    env.globals.update(
        format_date=format_date,
        format_datetime=format_datetime,
        next_due=next_due,
        label=labels.label,
        translate=core.translate,
        choices=labels.choices,
        country=lambda code: labels.country(code, core.current_language.get()),
        language_name=lambda code: labels.language_name(code, core.current_language.get()),
    )
    env.filters["language_name"] = lambda code: labels.language_name(
        code, core.current_language.get()
    )
    env.filters["map_label"] = lambda codes, vocabulary: [
        labels.label(vocabulary, str(code)) for code in codes
    ]
    return env


ENVIRONMENT = _environment()


def add_templates(directory: Path) -> None:
    """Let the loader find another package's templates (`app.web.extensions`), after the web's
    own, so that they can extend `base.html` and use its macros. Adding one twice is a no-op."""
    loader = ENVIRONMENT.loader
    assert isinstance(loader, ChoiceLoader)
    if not any(
        isinstance(found, FileSystemLoader) and str(directory) in found.searchpath
        for found in loader.loaders
    ):
        loader.loaders = [*loader.loaders, FileSystemLoader(directory)]


def render(template: str, context: dict[str, Any]) -> str:
    """A page's HTML, in the current language."""
    return ENVIRONMENT.get_template(template).render(context)
