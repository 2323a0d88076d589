"""An audit event before its place in its stream is known: its columns and canonical text.

Owns the event's column values and the canonical text around its position, so that an append
(`app.audit.append`) only fills in the position and the previous hash. Must not touch the
database: appending is `append`'s, choosing the stream is `service.record`'s.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.audit import chain
from app.audit.actor import ActorRef
from app.audit.models import Track

_POSITION_KEY = ',"position":'
# JSON columns are stored as the exact canonical text of their value, so that verification can
# compare a row's columns with its hashed content as text (`app.audit.verify`).
STORED_AS_CANONICAL_JSON = ("actor_roles", "changes")
# Every column a draft knows, in the order the append statements bind them.
DRAFT_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_organisation",
    "actor_roles",
    "action",
    "track",
    "referral_id",
    "stream",
    "changes",
    "request_id",
)


@dataclass(frozen=True, slots=True)
class Draft:
    """An event before its place in the stream is known.

    `columns` holds every column but `position`, `prev_hash`, `hash` and `canonical`; the
    canonical text is `before` + the position's digits + `after` (its keys are sorted, so the
    top-level position is the last `,"position":` in it: see `chain.ChainVerifier`).
    """

    columns: dict[str, Any]
    before: str
    after: str
    json_texts: dict[str, str]

    @classmethod
    def of(
        cls,
        *,
        stream: str,
        actor: ActorRef,
        action: str,
        track: Track,
        now: datetime,
        referral_id: uuid.UUID | None,
        changes: dict[str, Any],
        request_id: str | None,
    ) -> Draft:
        event_id = uuid.uuid4()
        columns = {
            "id": event_id,
            "at": now,
            "actor_id": actor.user_id,
            "actor_organisation": actor.organisation,
            "actor_roles": list(actor.roles),
            "action": action,
            "track": track.value,
            "referral_id": referral_id,
            "stream": stream,
            "changes": changes,
            "request_id": request_id,
        }
        text = _canonical_text(columns, actor)
        cut = text.rindex(_POSITION_KEY) + len(_POSITION_KEY)
        return cls(columns, text[:cut], text[cut + 1 :], _json_texts(text))

    def canonical(self, position: int) -> str:
        return f"{self.before}{position}{self.after}"

    def params(self) -> dict[str, Any]:
        """Bind values of the columns, JSON columns as their canonical text (`<name>_json`)."""
        params = {k: v for k, v in self.columns.items() if k not in STORED_AS_CANONICAL_JSON}
        params.update(self.json_texts)
        return params

    def row(self, position: int, prev_hash: str | None) -> dict[str, Any]:
        """Every column of the event at `position` after `prev_hash`, hashed."""
        canonical = self.canonical(position)
        digest = chain.event_hash(prev_hash, canonical.encode("utf-8"))
        return {
            **self.columns,
            "position": position,
            "prev_hash": prev_hash,
            "hash": digest,
            "canonical": canonical,
        }


def _canonical_text(columns: dict[str, Any], actor: ActorRef) -> str:
    """The event's canonical text at position 1 (`Draft.of` cuts the position out)."""
    referral_id = columns["referral_id"]
    content = chain.event_content(
        stream=columns["stream"],
        position=1,
        event_id=str(columns["id"]),
        at=chain.format_at(columns["at"]),
        actor=actor.content(),
        action=columns["action"],
        track=columns["track"],
        referral_id=str(referral_id) if referral_id else None,
        changes=columns["changes"],
        request_id=columns["request_id"],
    )
    return chain.canonical_bytes(content).decode("utf-8")


def _json_texts(text: str) -> dict[str, str]:
    """The canonical text of `actor_roles` and `changes`, cut out of the event's canonical text.

    Cheaper than serialising them again, and sound because inside JSON strings every `"` is
    escaped: the first `,"roles":` is the actor's (only `action`, a string, precedes `actor`) and
    its list ends at the first `]},"at":"`; the first `,"changes":` is the top-level key (only
    `action`, `actor` and `at` precede it); the top-level `,"id":"` that ends `changes` is the
    last one (only scalars follow it). A test compares them with a fresh serialisation.
    """
    roles = text.index(',"roles":') + len(',"roles":')
    changes = text.index(',"changes":') + len(',"changes":')
    return {
        "actor_roles_json": text[roles : text.index(']},"at":"', roles) + 1],
        "changes_json": text[changes : text.rindex(',"id":"')],
    }
