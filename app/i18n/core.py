"""Catalogues, the request's language and the translation of the service's messages.

Every message's English text is its msgid; `locale/cy/LC_MESSAGES/messages.mo` holds the Welsh
(compiled by `make i18n-compile`, shipped in the package). The language of the code running now
is a context variable, set once per request (by `app.i18n.asgi` from `Accept-Language`, and by
a page from WEB.md's order of choices), so templates, macros and the problem renderer read it
without being handed it.

Problem texts are translated whole when the catalogue has them; a text composed at run time
(a status, a date, a number inside) is matched against the `TEMPLATES` it was made from, and
its parts are translated in turn. What matches nothing stays as written.
"""

from __future__ import annotations

import gettext as gettext_module
import re
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from app.i18n import templates

ENGLISH, WELSH = "en", "cy"
LANGUAGES = (ENGLISH, WELSH)
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

current_language: ContextVar[str] = ContextVar("nrm_language", default=ENGLISH)


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(language: str) -> gettext_module.NullTranslations:
    """The compiled catalogue of a language; English is the msgids themselves."""
    if language == ENGLISH:
        return gettext_module.NullTranslations()
    return gettext_module.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    )


def gettext(message: str) -> str:
    """`message` in the current language."""
    return catalogue(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form, in the current language."""
    return catalogue(current_language.get()).ngettext(singular, plural, n)


def is_translated(message: str, language: str) -> bool:
    """Whether the language's catalogue has this message."""
    found = catalogue(language).gettext(message)
    return language == ENGLISH or found != message


def negotiate(accept_language: str | None) -> str | None:
    """The first of our languages an `Accept-Language` header asks for (by its q-values)."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else None


def translate(text: str, language: str | None = None) -> str:
    """A message of the service in `language` (the current one by default): whole, or by the
    template it was composed from with its parts translated; unchanged when unknown."""
    language = language or current_language.get()
    if language == ENGLISH or not text:
        return text
    found = catalogue(language).gettext(text)
    if found != text:
        return found
    for pattern, template in _compiled():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        translated = catalogue(language).gettext(template)
        if translated == template:
            return text
        parts = {k: _part(v, language) for k, v in match.groupdict().items()}
        return translated.format(**parts)
    return text


_OR_LIST = re.compile(r"^'[^']*'(?:, '[^']*')* or '[^']*'$")


def _part(value: str, language: str) -> str:
    if _OR_LIST.match(value):  # Pydantic's "'a', 'b' or 'c'"
        return value.replace("' or '", "' " + catalogue(language).gettext("or") + " '")
    return translate(value, language)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern[str], str], ...]:
    compiled = []
    for template in templates.TEMPLATES:
        pieces = re.split(r"\{(\w+)\}", template)
        pattern = "".join(
            re.escape(piece) if i % 2 == 0 else f"(?P<{piece}>.+?)"
            for i, piece in enumerate(pieces)
        )
        compiled.append((re.compile(pattern, re.DOTALL), template))
    return tuple(compiled)
