"""What proves that nothing was cut off the audit trail: Merkle roots, signed checkpoints, and
the comparisons of a checkpoint or a stream's head row with the current chains.

Checkpoints (`checkpoint_document`, `sign_checkpoint`): `{"at", "seq", "streams": [{"stream",
"length", "head"}] sorted by stream name, "root"}` where `root` is the RFC 6962 Merkle root over
`stream_leaf(stream, length, head)` in that order. The Ed25519 signature covers the canonical
bytes of every key of the document except `signature` itself, that is `at`, `seq`, `streams`,
`root` and `public_key` (as API.md states: "over the document's canonical form without
`signature`"), so the embedded key is bound to the document too.

Pure: it imports only the standard library, `cryptography` and `app.audit.chain` (for the
canonical form), never SQLAlchemy or FastAPI; storing checkpoints is `app.audit.checkpoints`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.audit.chain import canonical_bytes

_SIGNATURE_KEY = "signature"
_PUBLIC_KEY_KEY = "public_key"
_ENTRY_KEYS = frozenset({"stream", "length", "head"})


def merkle_root(leaves: Sequence[bytes]) -> str:
    """RFC 6962 §2.1 Merkle Tree Hash, as lowercase hex.

    Built bottom-up, promoting an odd last node unchanged: the same tree as the RFC's split at
    the largest power of two below n, with n - 1 node hashes.
    """
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    while len(level) > 1:
        paired = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


def stream_leaf(stream: str, length: int, head: str) -> bytes:
    """A checkpoint's Merkle leaf for one stream."""
    return canonical_bytes({"stream": stream, "length": length, "head": head})


def checkpoint_document(
    *, at: str, seq: int, streams: Sequence[tuple[str, int, str]]
) -> dict[str, Any]:
    """The unsigned checkpoint over every stream's (name, length, head); names must be unique."""
    ordered = sorted(streams, key=lambda entry: entry[0])
    names = [name for name, _, _ in ordered]
    if len(set(names)) != len(names):
        raise ValueError("a checkpoint lists each stream once")
    return {
        "at": at,
        "seq": seq,
        "streams": [{"stream": s, "length": n, "head": h} for s, n, h in ordered],
        "root": merkle_root([stream_leaf(s, n, h) for s, n, h in ordered]),
    }


def sign_checkpoint(document: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """The document with `public_key` and an Ed25519 `signature` over all but `signature`."""
    public = private_key.public_key().public_bytes_raw()
    signed = {k: v for k, v in document.items() if k not in (_SIGNATURE_KEY, _PUBLIC_KEY_KEY)}
    signed[_PUBLIC_KEY_KEY] = base64.b64encode(public).decode("ascii")
    signature = private_key.sign(canonical_bytes(signed))
    return {**signed, _SIGNATURE_KEY: base64.b64encode(signature).decode("ascii")}


def verify_checkpoint_signature(
    document: Mapping[str, Any], *, expected_public_key: str | None = None
) -> bool:
    """Whether `root` recomputes from `streams` and the signature holds for the embedded key.

    With `expected_public_key` (base64), the embedded key must also be that key.
    """
    try:
        public = base64.b64decode(document[_PUBLIC_KEY_KEY], validate=True)
        if expected_public_key is not None and public != base64.b64decode(
            expected_public_key, validate=True
        ):
            return False
        if not _root_matches(document):
            return False
        signature = base64.b64decode(document[_SIGNATURE_KEY], validate=True)
        signed = {k: v for k, v in document.items() if k != _SIGNATURE_KEY}
        Ed25519PublicKey.from_public_bytes(public).verify(signature, canonical_bytes(signed))
    except (KeyError, TypeError, ValueError, binascii.Error, InvalidSignature):
        return False
    return True


def _root_matches(document: Mapping[str, Any]) -> bool:
    streams = document["streams"]
    if not isinstance(streams, list):
        return False
    entries = [(e["stream"], e["length"], e["head"]) for e in streams if set(e) == _ENTRY_KEYS]
    names = [name for name, _, _ in entries]
    if len(entries) != len(streams) or names != sorted(set(names)):
        return False  # each entry exactly once, in stream order
    leaves = [stream_leaf(name, length, head) for name, length, head in entries]
    return bool(merkle_root(leaves) == document["root"])


def checkpoint_covered(
    checkpoint: Mapping[str, Any],
    heads: Mapping[str, tuple[int, str]],
    hash_at: Callable[[str, int], str | None],
) -> dict[str, str]:
    """Stream → problem, for each stream whose current chain no longer extends the checkpoint
    (empty when fine), in the checkpoint's order.

    `heads` is stream → (length, head hash) of the current data (`ChainVerifier.heads()`);
    `hash_at(stream, position)` returns the stored hash there, or None. Call it on a checkpoint
    whose signature was verified.
    """
    problems: dict[str, str] = {}
    for entry in checkpoint["streams"]:
        stream = entry["stream"]
        problem = _entry_problem(stream, entry["length"], entry["head"], heads, hash_at)
        if problem is not None:
            problems[stream] = problem
    return problems


def _entry_problem(
    stream: str,
    length: int,
    head: str,
    heads: Mapping[str, tuple[int, str]],
    hash_at: Callable[[str, int], str | None],
) -> str | None:
    if stream not in heads:
        return f"stream {stream} removed: the checkpoint has {length} events"
    current_length, current_head = heads[stream]
    if current_length < length:
        return f"stream {stream} cut short: {current_length} events, the checkpoint has {length}"
    stored = current_head if current_length == length else hash_at(stream, length)
    if stored != head:
        return f"stream {stream} rewritten: event {length} has hash {stored}, checkpoint {head}"
    return None


def head_row_problem(
    stream: str,
    recorded: tuple[int, str | None] | None,
    stored: tuple[int, str | None] | None,
) -> str | None:
    """What is wrong when a stream's recorded (length, head) is not its newest stored event's
    (position, hash); None when they agree. Either side is None when it does not exist.

    The recorded length and head are what appends build on (`audit_streams`); events cut from
    the end of a stream leave no gap in its chain, but they leave the record ahead of it.
    """
    if recorded is None:
        return None if stored is None else f"stream {stream} has {stored[0]} events, none recorded"
    length, head = recorded
    if stored is None:
        return f"stream {stream} removed: {length} events recorded, none left"
    if stored[0] < length:
        return f"stream {stream} cut short: {stored[0]} events, {length} recorded"
    if stored[0] > length:
        return f"stream {stream} has {stored[0]} events, only {length} recorded"
    if stored[1] != head:
        return f"stream {stream} rewritten: event {length} has hash {stored[1]}, recorded {head}"
    return None


# --- keys ------------------------------------------------------------------------------------


def load_private_key(seed_b64: str) -> Ed25519PrivateKey:
    """The Ed25519 key from the base64 of its 32-byte seed; `cryptography` raises ValueError."""
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed_b64, validate=True))


def generate_seed_b64() -> str:
    """A fresh random Ed25519 seed, base64, for `NRM_` settings."""
    return base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode("ascii")
