"""The signed-in user as the rest of the service sees them: `Principal`.

Framework-free (no FastAPI, no SQLAlchemy), so that commands, queries and the workflow can take
the acting user without depending on how a door authenticated them. `app.identity.deps` builds
one from a bearer token; the web pages and the CLI build theirs the same way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.audit.actor import ActorRef
from app.identity.roles import Role, effective_roles


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user as the rest of the service sees them."""

    id: uuid.UUID
    username: str
    display_name: str
    organisation_id: uuid.UUID
    organisation_code: str
    sector: str
    roles: frozenset[Role]
    # True when the stored roles break the rule of roles held alone and `roles` holds fewer.
    roles_withheld: bool = False

    @property
    def acting_roles(self) -> frozenset[Role]:
        """The roles with their implications (a senior decision maker is a decision maker)."""
        return effective_roles(self.roles)

    def has(self, role: Role) -> bool:
        return role in self.acting_roles

    def audit_ref(self) -> ActorRef:
        return ActorRef(self.id, self.organisation_code, tuple(sorted(self.roles)))
