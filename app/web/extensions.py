"""Pages that live outside `app.web` plug in here, so that the web package never imports them.

The immigration compartment keeps its pages beside its router (`app.immigration.pages`), and
`app.web` must never import the compartment (import-linter). So a package with pages of its own
registers them when the application is built (`app.main`): its template directory (added to
the one Jinja loader, `rendering.add_templates`) and a `Section`: the navigation link its users
see and, for the roles it is home to, what `/` shows them once signed in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.i18n.core import gettext
from app.identity.permissions import Permission, holds
from app.identity.principal import Principal
from app.identity.roles import Role

if TYPE_CHECKING:
    from starlette.responses import Response

HomeRenderer = Callable[[Any], Awaitable["Response"]]
"""Renders a section's home page for a signed-in `app.web.pages.Page`."""


@dataclass(frozen=True)
class Section:
    """Pages of another package: their link (a catalogue message), who sees it, whose home."""

    path: str
    label: str
    permission: Permission
    home_of: frozenset[Role] = frozenset()
    home: HomeRenderer | None = None


SECTIONS: dict[str, Section] = {}


def add_section(section: Section) -> None:
    """Register a section (again, for another app of the same process, replaces it)."""
    SECTIONS[section.path] = section


def sections_for(principal: Principal | None) -> list[Section]:
    """The sections this person may use, for the navigation."""
    if principal is None:
        return []
    return [s for s in SECTIONS.values() if holds(principal.roles, s.permission)]


def navigation_for(principal: Principal | None, path: str) -> list[dict[str, object]]:
    """The navigation items of the sections, in the page's language."""
    return [
        {
            "href": s.path,
            "text": gettext(s.label),
            "active": path == s.path or path.startswith(s.path + "/"),
        }
        for s in sections_for(principal)
    ]


def home_of(principal: Principal) -> HomeRenderer | None:
    """The home page a section gives this person, when one of their roles is its home."""
    for section in sections_for(principal):
        if section.home is not None and section.home_of & principal.acting_roles:
            return section.home
    return None
