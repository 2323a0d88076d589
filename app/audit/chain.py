"""The tamper-evident core of the audit trail: canonical form, hashing, chain verification.

Pure: it imports only the standard library, never SQLAlchemy, FastAPI or another part of
`app`, so it can be tested and benchmarked without a database (DESIGN §6).

Canonical form (`canonical_bytes`): UTF-8 JSON with object keys sorted, no insignificant
whitespace (`,` and `:` only), non-ASCII characters written as themselves and control characters
escaped as `json` does (`\\n`, `\\u001f`). Values may only be `str`, `int` (within ±(2**53 - 1)),
`bool`, `None`, `list` and mappings with `str` keys; floats are refused, so number formatting can
never vary. For these values the output is exactly RFC 8785 (JCS): keys are ordered by their
UTF-16 code units as JCS requires, strings are escaped as ECMAScript's `JSON.stringify` does, and
integers are printed as JCS prints safe integers.

An event's content (`event_content`) holds the keys `action`, `actor`, `at`, `changes`, `id`,
`position`, `referral_id`, `request_id`, `stream`, `track` and `v` (format version, 1). Its hash
(`event_hash`) is the lowercase hex SHA-256 of `prev_hash` (ASCII hex, or empty for the first
event of a stream) + `\\n` + the canonical bytes. The stored canonical bytes are what is hashed
again on verification: rows are never re-serialised.

Checkpoints, their Merkle root and signature, and the comparisons that prove no stream was
cut off are `app.audit.proofs`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS: None = None
FORMAT_VERSION = 1
_MAX_SAFE_INT = 2**53 - 1  # RFC 8785 numbers are IEEE doubles: larger ints would round
_TAIL = b',"v":%d}' % FORMAT_VERSION


# --- canonical form --------------------------------------------------------------------------


def canonical_bytes(content: Mapping[str, Any]) -> bytes:
    """Serialise `content` deterministically (RFC 8785 for the values allowed; see module doc).

    Raises TypeError for a float, a non-`str` key or any other type, ValueError for NaN,
    infinities, integers beyond ±(2**53 - 1) and strings that are not valid Unicode.
    """
    if not isinstance(content, Mapping):
        raise TypeError(f"canonical content must be a mapping, not {type(content).__name__}")
    text = json.dumps(
        _normalise(content), ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return text.encode("utf-8")


def _normalise(value: Any) -> Any:
    """Check a value is allowed and return it with every object's keys in JCS order."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise ValueError(f"integer {value} is beyond the range RFC 8785 keeps exact")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} has no JSON form")
        raise TypeError("floats are not allowed in canonical content")
    if isinstance(value, Mapping):
        return _normalise_object(value)
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    raise TypeError(f"{type(value).__name__} is not allowed in canonical content")


def _normalise_object(value: Mapping[Any, Any]) -> dict[str, Any]:
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"object keys must be str, not {type(key).__name__}")
    # RFC 8785 §3.2.3 orders keys by UTF-16 code units; encoding refuses lone surrogates.
    ordered = sorted(value, key=lambda key: key.encode("utf-16-be"))
    return {key: _normalise(value[key]) for key in ordered}


def event_hash(prev_hash: str | None, canonical: bytes) -> str:
    """Lowercase hex SHA-256 over `(prev_hash or "")` in ASCII, a newline, then `canonical`."""
    return hashlib.sha256((prev_hash or "").encode("ascii") + b"\n" + canonical).hexdigest()


def format_at(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and `Z`: `2025-03-01T09:30:00.000000Z`."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("audit times must be timezone-aware")
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def event_content(
    *,
    stream: str,
    position: int,
    event_id: str,
    at: str,
    actor: Mapping[str, Any] | None,
    action: str,
    track: str,
    referral_id: str | None,
    changes: Mapping[str, Any],
    request_id: str | None,
) -> dict[str, Any]:
    """The mapping an event's hash covers; `event_id` is stored under the key `id`."""
    if position < 1:
        raise ValueError("positions in a stream count from 1")  # DESIGN §6: 1, 2, 3 … no gap
    return {
        "v": FORMAT_VERSION,
        "stream": stream,
        "position": position,
        "id": event_id,
        "at": at,
        "actor": None if actor is None else dict(actor),
        "action": action,
        "track": track,
        "referral_id": referral_id,
        "changes": dict(changes),
        "request_id": request_id,
    }


def content_matches(canonical: bytes, expected: Mapping[str, Any]) -> bool:
    """Whether the canonical object holds each of `expected`'s keys with an equal value.

    Values compare by canonical form, so `True` never equals `1`. Bytes that are not a JSON
    object never match.
    """
    try:
        decoded = json.loads(canonical)
    except ValueError:
        return False
    if not isinstance(decoded, dict):
        return False
    return all(key in decoded and _same(decoded[key], value) for key, value in expected.items())


def _same(left: Any, right: Any) -> bool:
    return canonical_bytes({"": left}) == canonical_bytes({"": right})


# --- chain verification ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """What verification needs of a stored event: its place, its exact bytes, its hashes."""

    seq: int
    stream: str
    position: int
    canonical: bytes
    prev_hash: str | None
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The answer of `GET /audit/verify`."""

    valid: bool
    events_checked: int
    first_invalid_seq: int | None


class ChainVerifier:
    """Walks chains fed in (stream, position) order, keeping only each stream's length, head
    and newest seq.

    An event is accepted when its position follows the stream's last one (the first is 1), its
    `seq` is greater than the previous event's, its `prev_hash` is the previous event's hash
    (None first), its hash recomputes from the stored canonical bytes, and those bytes name the
    row's own stream and position. That catches modified (hash), deleted (gap, prev_hash),
    inserted (position, prev_hash), reordered and moved (stream/position in the content)
    events, and seqs swapped within a stream (`seq` is given by the database at insert, after
    the position was claimed, so it grows with the position; it is not hashed). After a bad
    event the walk goes on from the stored values, so only events that do not match are
    refused; the first one is reported. Cutting the end off a stream leaves no gap: the
    stream's recorded length and head (`head_row_problem`) and signed checkpoints catch that.
    """

    __slots__ = ("_checked", "_first_invalid", "_heads", "_token", "_token_stream")

    def __init__(self) -> None:
        self._heads: dict[str, tuple[int, str, int]] = {}  # stream → (length, head, seq)
        self._checked = 0
        self._first_invalid: int | None = None
        self._token_stream: str | None = None
        self._token = b""

    def feed(self, event: StoredEvent) -> bool:
        """Check one event; True when it matches its chain."""
        self._checked += 1
        ok = self._check(event)
        self._heads[event.stream] = (event.position, event.hash, event.seq)
        if not ok and self._first_invalid is None:
            self._first_invalid = event.seq
        return ok

    def _check(self, event: StoredEvent) -> bool:
        length, head, seq = self._heads.get(event.stream, (0, GENESIS, None))
        if event.position != length + 1 or event.prev_hash != head:
            return False
        if seq is not None and event.seq <= seq:
            return False  # seqs swapped: paging by seq would show the stream out of order
        try:
            prefix = (head or "").encode("ascii")
        except UnicodeEncodeError:
            return False  # a tampered earlier hash; that event was already refused
        if hashlib.sha256(prefix + b"\n" + event.canonical).hexdigest() != event.hash:
            return False
        return self._names_its_place(event)

    def _names_its_place(self, event: StoredEvent) -> bool:
        """Whether the canonical bytes carry the row's stream and position, without decoding.

        Sound because the bytes are canonical: keys are sorted, so the top-level `position` is
        followed by `referral_id`, `request_id`, `stream`, `track` and `v`, whose values are
        scalars; and inside a JSON string every `"` is escaped, so `,"position":` and
        `,"stream":` can only be object keys. Their last occurrences are therefore the
        top-level ones. Content whose hash matches was written by `event_content`; bytes
        crafted with a recomputed hash could say anything and are the checkpoints' concern.
        """
        canonical = event.canonical
        if not canonical.startswith(b"{") or not canonical.endswith(_TAIL):
            return False
        at = canonical.rfind(b',"position":')
        if at < 0 or not canonical.startswith(
            b',"position":%d,"referral_id":' % event.position, at
        ):
            return False
        at = canonical.rfind(b',"stream":')
        return at >= 0 and canonical.startswith(self._stream_token(event.stream), at)

    def _stream_token(self, stream: str) -> bytes:
        # Events arrive grouped by stream, so one cached token serves a whole stream.
        if stream != self._token_stream:
            encoded = json.dumps(stream, ensure_ascii=False).encode("utf-8")
            self._token = b',"stream":' + encoded + b',"track":'
            self._token_stream = stream
        return self._token

    def result(self) -> VerifyResult:
        """Valid when every fed event matched; counts every event fed."""
        return VerifyResult(
            valid=self._first_invalid is None,
            events_checked=self._checked,
            first_invalid_seq=self._first_invalid,
        )

    def heads(self) -> dict[str, tuple[int, str]]:
        """Stream → (length, head hash) of what was fed."""
        return {stream: (length, head) for stream, (length, head, _) in self._heads.items()}
