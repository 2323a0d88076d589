"""`N_`: marks a message for the catalogue where it is declared (Babel extracts it); it is
translated where it is shown. A module of its own, so that every module may import it."""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name
    return message
