"""The web service's sessions: server-side rows, so that signing out ends one for good (WEB.md).

The browser holds a random token in an `HttpOnly` cookie; the row is keyed by the token's
SHA-256, so a copy of the table lets no one sign in. A row holds the session's CSRF token and
when it was last used (the real clock: sessions, like bearer tokens, never follow the test
clock). Signing out deletes the row; a row idle for longer than `NRM_WEB_SESSION_IDLE_MINUTES`
is refused and deleted. `kept_form` holds, sealed, a form typed in a session that ended before
it was sent, until the page it belongs to shows it once (`app.web.kept`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class WebSession(Base):
    """One signed-in browser."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The user's token generation at sign-in: a deactivation bumps it and ends the session.
    token_generation: Mapped[int] = mapped_column(Integer)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Sealed (AES-GCM under the service's key), never in the clear; cleared when it is shown.
    kept_form: Mapped[str | None] = mapped_column(Text, default=None)
