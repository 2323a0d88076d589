"""Who did it, as the audit trail records it: `ActorRef` and the `SYSTEM` actor.

Pure: no SQLAlchemy, no FastAPI, so `Principal` and every command can name an actor without
importing the audit trail's storage.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ActorRef:
    """Who did it, as the audit trail records it (ids and codes, never names)."""

    user_id: uuid.UUID | None
    organisation: str | None
    roles: tuple[str, ...] = field(default=())

    def content(self) -> dict[str, Any]:
        """The actor as it appears in an event's canonical form (`app.audit.chain`)."""
        return {
            "id": str(self.user_id) if self.user_id else None,
            "organisation": self.organisation,
            "roles": list(self.roles),
        }


SYSTEM = ActorRef(user_id=None, organisation=None, roles=("system",))
