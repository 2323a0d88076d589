"""Signed checkpoints of the audit trail: made in batches off the write path, kept, served.

A checkpoint (API.md) lists every stream's length and head hash up to a seq, under an RFC 6962
Merkle root, signed with the Ed25519 seed in `NRM_AUDIT_SIGNING_KEY` (`chain` builds and signs
the document). It is made by `nrm audit checkpoint` (run it from cron; docs/audit.md) and
brought up to date when an auditor asks for the latest, never by a write: appends never make
one. Each batch extends the previous checkpoint with the
events after its seq, checking that they extend each stream's chain, and refuses to sign
otherwise. Batches run one at a time across hosts (a PostgreSQL advisory lock; SQLite's
IMMEDIATE transactions serialise them anyway). This module never writes an event and never
edits or deletes a checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import chain, fences, proofs, queries
from app.audit.models import AuditCheckpoint, AuditEvent
from app.db import transaction
from app.settings import Environment, Settings

BATCH = 5000

Heads = dict[str, tuple[int, str]]


class CheckpointError(Exception):
    """A checkpoint cannot be made: no usable signing key, or events that break their chain."""


DEVELOPMENT_KEY_LABEL = b"wales-nrm development audit checkpoint key\n"


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The checkpoint signing key from the settings.

    Outside production, without `NRM_AUDIT_SIGNING_KEY`, a development key derived from the
    secret key signs, so that checkpoints work out of the box; production refuses to start
    without a key of its own (`Settings`), so a derived key never signs there.
    """
    if not settings.audit_signing_key:
        if settings.env == Environment.PRODUCTION:
            raise CheckpointError(
                "NRM_AUDIT_SIGNING_KEY is not set: make one with `nrm audit keygen` and set it"
            )
        seed = hashlib.sha256(DEVELOPMENT_KEY_LABEL + settings.secret_key.encode()).digest()
        return Ed25519PrivateKey.from_private_bytes(seed)
    try:
        return proofs.load_private_key(settings.audit_signing_key)
    except (ValueError, binascii.Error) as exc:
        raise CheckpointError(
            "NRM_AUDIT_SIGNING_KEY is not the base64 of a 32-byte Ed25519 seed"
        ) from exc


def public_key(settings: Settings) -> str:
    """The base64 public key checkpoints are signed with."""
    raw = signing_key(settings).public_key().public_bytes_raw()
    return base64.b64encode(raw).decode("ascii")


async def make_checkpoint(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    now: datetime,
    force: bool = True,
) -> dict[str, Any] | None:
    """Make, store and return a signed checkpoint up to the current horizon.

    Without `force`, returns None when no event was appended since the latest checkpoint.
    Raises CheckpointError without a key or when new events do not extend their chains.
    """
    key = signing_key(settings)
    # The horizon in a transaction of its own: its SHARE lock holds appends back only for
    # the instant it takes to read max(seq), not for the whole batch.
    async with transaction(factory) as session:
        upto = await queries.horizon(session)
    async with transaction(factory) as session:
        await fences.one_batch_at_a_time(session)
        return await _make(session, key, upto=upto, now=now, force=force)


async def current(
    session: AsyncSession,
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    now: datetime,
) -> dict[str, Any] | None:
    """The newest checkpoint, first extended to the present when events were appended since.

    An auditor's request, off the write path. On PostgreSQL the batch runs as the CLI's does,
    in transactions of its own from `factory`: appends wait only for the instant it takes to
    fence the horizon, never for the batch. On SQLite, whose request transaction already holds
    the one write lock, it runs in the caller's transaction. The batch covers only the events
    after the newest checkpoint, so with `nrm audit checkpoint` run from cron it is small. When
    no checkpoint can be signed (no usable key, or a chain that does not verify), the newest
    stored one is returned, never a new one over a broken chain.
    """
    try:
        if fences.batches_in_own_transactions(session):
            await make_checkpoint(factory, settings, now=now, force=False)
        else:
            key = signing_key(settings)
            upto = await queries.horizon(session)
            await _make(session, key, upto=upto, now=now, force=False)
    except CheckpointError:
        pass  # the newest stored checkpoint stands
    return await latest(session)


async def latest(session: AsyncSession) -> dict[str, Any] | None:
    """The newest stored checkpoint document, or None before the first."""
    document = await session.scalar(
        select(AuditCheckpoint.document).order_by(AuditCheckpoint.id.desc()).limit(1)
    )
    return None if document is None else dict(json.loads(document))


async def _make(
    session: AsyncSession, key: Ed25519PrivateKey, *, upto: int, now: datetime, force: bool
) -> dict[str, Any] | None:
    previous = await latest(session)
    # A stored checkpoint whose signature fails is not built upon: start again from nothing.
    base = previous if previous and proofs.verify_checkpoint_signature(previous) else None
    start = int(base["seq"]) if base else 0
    if base is not None and start >= upto and not force:
        return None
    upto = max(upto, start)  # another host's batch may have gone further meanwhile
    heads: Heads = {e["stream"]: (e["length"], e["head"]) for e in base["streams"]} if base else {}
    await _extend(session, heads, after=start, upto=upto)
    document = proofs.checkpoint_document(
        at=chain.format_at(now),
        seq=upto,
        streams=[(stream, length, head) for stream, (length, head) in heads.items()],
    )
    signed = proofs.sign_checkpoint(document, key)
    session.add(
        AuditCheckpoint(
            at=now,
            seq=upto,
            streams=len(heads),
            root=signed["root"],
            document=chain.canonical_bytes(signed).decode("utf-8"),
        )
    )
    await session.flush()
    return signed


async def _extend(session: AsyncSession, heads: Heads, *, after: int, upto: int) -> None:
    """Move each stream's head over the events in (after, upto], checking each extends it."""
    query = (
        select(
            AuditEvent.seq,
            AuditEvent.stream,
            AuditEvent.position,
            AuditEvent.canonical,
            AuditEvent.prev_hash,
            AuditEvent.hash,
        )
        .where(AuditEvent.seq > after, AuditEvent.seq <= upto)
        .order_by(AuditEvent.stream, AuditEvent.position)
        .execution_options(yield_per=BATCH)
    )
    result = await session.stream(query)
    previous = ("", 0)  # the stream and seq of the event before, whose seq this one must pass
    async for rows in result.partitions():
        for seq, stream, position, canonical, prev_hash, digest in rows:
            length, head = heads.get(stream, (0, None))
            # DESIGN §6: never sign over a chain that does not verify (`verify`'s rules).
            if (
                position != length + 1
                or prev_hash != head
                or (stream == previous[0] and seq <= previous[1])
                or chain.event_hash(head, canonical.encode()) != digest
            ):
                raise CheckpointError(
                    f"event seq {seq} does not extend stream {stream}: run `nrm audit verify`"
                )
            heads[stream] = (position, digest)
            previous = (stream, seq)
