"""The audit tables: events (append-only, chained per stream), stream heads and checkpoints.

The database refuses UPDATE and DELETE on `audit_events` (triggers created by a migration);
no code path edits an event. `audit_streams` holds each stream's length and head hash: the row
a writer locks to append, one per stream, so unrelated referrals never wait on each other.
`audit_checkpoints` keeps every signed checkpoint document exactly as it was signed. Business
rules live in `service.py`, `checkpoints.py` and `verify.py`, never here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

# SQLite only autoincrements an INTEGER PRIMARY KEY.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class Track(StrEnum):
    """Which part of the record an event belongs to (DESIGN §5)."""

    VICTIM = "victim"  # the identification workflow
    IMMIGRATION = "immigration"  # the immigration compartment: auditors only
    ACCESS = "access"  # reads of personal data, log-ins
    ADMIN = "admin"  # organisations, users, roles


_TRACKS = ", ".join(f"'{t.value}'" for t in Track)


class AuditEvent(Base):
    """One event; `canonical` holds the exact bytes its `hash` covers."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("stream", "position"),
        CheckConstraint(f"track IN ({_TRACKS})", name="track"),
        CheckConstraint("position >= 1", name="position_positive"),
        Index("ix_audit_events_referral_id_seq", "referral_id", "seq"),
        Index("ix_audit_events_actor_id_seq", "actor_id", "seq"),
        Index("ix_audit_events_actor_organisation_seq", "actor_organisation", "seq"),
        Index("ix_audit_events_action_seq", "action", "seq"),
        Index("ix_audit_events_track_seq", "track", "seq"),
        Index("ix_audit_events_at", "at"),
    )

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_organisation: Mapped[str | None] = mapped_column(String(64))
    actor_roles: Mapped[list[str]] = mapped_column(JSON)
    action: Mapped[str] = mapped_column(String(64))
    track: Mapped[str] = mapped_column(String(16))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    stream: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(BigInteger)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(128))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    canonical: Mapped[str] = mapped_column(Text)


class AuditStream(Base):
    """A stream's length and head hash; its row is the per-stream append lock.

    `prev_head` is the head before the newest append, i.e. the newest event's `prev_hash`: the
    one-statement append reads it back from the upsert (`append._append_postgresql`).
    """

    __tablename__ = "audit_streams"

    stream: Mapped[str] = mapped_column(String(100), primary_key=True)
    length: Mapped[int] = mapped_column(BigInteger, default=0)
    head: Mapped[str | None] = mapped_column(String(64))
    prev_head: Mapped[str | None] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed checkpoint (API.md): `document` is its canonical JSON, signature included."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    seq: Mapped[int] = mapped_column(BigInteger)  # the newest event covered
    streams: Mapped[int] = mapped_column(BigInteger)  # how many streams it lists
    root: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
