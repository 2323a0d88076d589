"""The audit chain's pure core: canonical form, hashes, verification (proofs: test_proofs.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.audit import chain

STREAM = "referral:7d0e9a52-1b1f-4c61-9a8e-2f4b5c6d7e8f"
SAMPLE_BYTES = (
    b'{"action":"referral.submitted",'
    b'"actor":{"id":"3f2e1d0c-9b8a-4765-8432-10fedcba9876","organisation":"heddlu-de-cymru",'
    b'"roles":["first_responder"]},'
    b'"at":"2025-03-01T09:30:00.000000Z",'
    b'"changes":{"note":"Caerdydd \xe2\x80\x93 \xe2\x80\x9c\xc5\xb5\xe2\x80\x9d\\n",'
    b'"status":{"after":"submitted","before":"draft"}},'
    b'"id":"0b9c4a1e-5f3d-4e2a-8c7b-6a5d4e3f2a1b","position":2,'
    b'"referral_id":"7d0e9a52-1b1f-4c61-9a8e-2f4b5c6d7e8f","request_id":"req-42",'
    b'"stream":"referral:7d0e9a52-1b1f-4c61-9a8e-2f4b5c6d7e8f","track":"victim","v":1}'
)
SAMPLE_HASH_GENESIS = "5d618009edcf4e1705dda3febac05e6be7b6bf19b7baba65834e0776445b8119"
SAMPLE_HASH_AFTER_A = "3ae0072b42bb1386d84282660e14fab468fe0f64cd0e3a5e700d2a86c1bf78eb"


def verify_events(events: Iterable[chain.StoredEvent]) -> chain.VerifyResult:
    """Feed every event (ordered by stream, position) to a fresh `ChainVerifier`."""
    verifier = chain.ChainVerifier()
    for event in events:
        verifier.feed(event)
    return verifier.result()


def sample_content(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "stream": STREAM,
        "position": 2,
        "event_id": "0b9c4a1e-5f3d-4e2a-8c7b-6a5d4e3f2a1b",
        "at": chain.format_at(datetime(2025, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))),
        "actor": {
            "id": "3f2e1d0c-9b8a-4765-8432-10fedcba9876",
            "organisation": "heddlu-de-cymru",
            "roles": ["first_responder"],
        },
        "action": "referral.submitted",
        "track": "victim",
        "referral_id": "7d0e9a52-1b1f-4c61-9a8e-2f4b5c6d7e8f",
        "changes": {
            "status": {"before": "draft", "after": "submitted"},
            "note": "Caerdydd \u2013 \u201c\u0175\u201d\n",
        },
        "request_id": "req-42",
    }
    return chain.event_content(**(fields | overrides))


def make_event(
    seq: int, stream: str, position: int, prev: str | None, **overrides: Any
) -> chain.StoredEvent:
    content = sample_content(stream=stream, position=position, event_id=f"e{seq}", **overrides)
    canonical = chain.canonical_bytes(content)
    return chain.StoredEvent(
        seq, stream, position, canonical, prev, chain.event_hash(prev, canonical)
    )


def build_chain(stream: str, seqs: Sequence[int]) -> list[chain.StoredEvent]:
    events: list[chain.StoredEvent] = []
    for position, seq in enumerate(seqs, start=1):
        events.append(make_event(seq, stream, position, events[-1].hash if events else None))
    return events


def ordered(events: Sequence[chain.StoredEvent]) -> list[chain.StoredEvent]:
    return sorted(events, key=lambda e: (e.stream, e.position))


class TestCanonicalBytes:
    def test_pins_the_bytes_of_a_sample_event(self) -> None:
        assert chain.canonical_bytes(sample_content()) == SAMPLE_BYTES

    def test_orders_keys_by_utf16_code_units_as_rfc_8785_does(self) -> None:
        content = {"\uffff": 2, "\U0001f600": 1, "b": 0}
        assert chain.canonical_bytes(content) == '{"b":0,"😀":1,"\uffff":2}'.encode()

    def test_escapes_control_characters_as_json_stringify_does(self) -> None:
        content = {"s": '\x1f\t\u2028\x7f"\\'}
        assert chain.canonical_bytes(content) == b'{"s":"\\u001f\\t\xe2\x80\xa8\x7f\\"\\\\"}'

    def test_refuses_floats(self) -> None:
        with pytest.raises(TypeError):
            chain.canonical_bytes({"x": 1.0})

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
    def test_refuses_nan_and_infinities(self, value: float) -> None:
        with pytest.raises(ValueError, match="no JSON form"):
            chain.canonical_bytes({"x": [value]})

    @pytest.mark.parametrize("key", [1, None, True, ("a",)])
    def test_refuses_non_str_keys(self, key: Any) -> None:
        with pytest.raises(TypeError):
            chain.canonical_bytes({"x": {key: 1}})

    @pytest.mark.parametrize(
        "value", [datetime(2025, 1, 1, tzinfo=UTC), ("a",), {"a"}, b"a", object()]
    )
    def test_refuses_other_types(self, value: Any) -> None:
        with pytest.raises(TypeError):
            chain.canonical_bytes({"x": value})

    def test_refuses_integers_json_readers_would_round(self) -> None:
        assert chain.canonical_bytes({"x": 2**53 - 1}) == b'{"x":9007199254740991}'
        with pytest.raises(ValueError, match="range"):
            chain.canonical_bytes({"x": -(2**53)})

    def test_refuses_lone_surrogates(self) -> None:
        with pytest.raises(ValueError):
            chain.canonical_bytes({"x": "\ud800"})

    def test_refuses_a_top_level_that_is_not_an_object(self) -> None:
        with pytest.raises(TypeError):
            chain.canonical_bytes([1])  # type: ignore[arg-type]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def reshuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: reshuffled(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [reshuffled(item, rng) for item in value]
    return value


class TestCanonicalBytesProperties:
    @settings(max_examples=50)
    @given(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=6), st.randoms())
    def test_gives_identical_bytes_whatever_the_key_order(
        self, content: dict[str, Any], rng: random.Random
    ) -> None:
        encoded = chain.canonical_bytes(content)
        assert chain.canonical_bytes(reshuffled(content, rng)) == encoded
        assert json.loads(encoded) == content


class TestFormatAt:
    def test_writes_utc_with_microseconds_and_z(self) -> None:
        moment = datetime(2025, 3, 1, 10, 30, 0, 5, tzinfo=timezone(timedelta(hours=1)))
        assert chain.format_at(moment) == "2025-03-01T09:30:00.000005Z"

    def test_refuses_a_naive_datetime(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            chain.format_at(datetime(2025, 3, 1, 10, 30))


class TestEventContent:
    def test_holds_exactly_the_documented_keys(self) -> None:
        assert set(sample_content()) == {
            "v", "stream", "position", "id", "at", "actor", "action", "track",
            "referral_id", "changes", "request_id",
        }  # fmt: skip
        assert sample_content()["v"] == 1

    def test_refuses_a_position_below_one(self) -> None:
        with pytest.raises(ValueError, match="from 1"):
            sample_content(position=0)


class TestEventHash:
    def test_pins_the_hash_of_the_first_event_of_a_stream(self) -> None:
        assert chain.event_hash(chain.GENESIS, SAMPLE_BYTES) == SAMPLE_HASH_GENESIS
        assert hashlib.sha256(b"\n" + SAMPLE_BYTES).hexdigest() == SAMPLE_HASH_GENESIS

    def test_pins_the_hash_chained_after_a_previous_event(self) -> None:
        prev = "a" * 64
        assert chain.event_hash(prev, SAMPLE_BYTES) == SAMPLE_HASH_AFTER_A
        assert hashlib.sha256(b"a" * 64 + b"\n" + SAMPLE_BYTES).hexdigest() == SAMPLE_HASH_AFTER_A


class TestContentMatches:
    def test_matches_the_stored_columns(self) -> None:
        expected = {"stream": STREAM, "position": 2, "actor": sample_content()["actor"]}
        assert chain.content_matches(SAMPLE_BYTES, expected)

    def test_refuses_a_different_value_a_missing_key_or_a_bool_for_an_int(self) -> None:
        assert not chain.content_matches(SAMPLE_BYTES, {"action": "referral.withdrawn"})
        assert not chain.content_matches(SAMPLE_BYTES, {"missing": None})
        assert not chain.content_matches(b'{"v":1}', {"v": True})

    def test_refuses_bytes_that_are_not_a_json_object(self) -> None:
        assert not chain.content_matches(b"[1]", {})
        assert not chain.content_matches(b"{", {})


class TestChainVerifier:
    def test_passes_valid_interleaved_streams_and_reports_their_heads(self) -> None:
        a = build_chain("referral:a", [1, 4, 5, 9])
        b = build_chain("organisation:cardiff", [2, 3, 7])
        c = build_chain("system", [6])
        verifier = chain.ChainVerifier()
        assert all(verifier.feed(event) for event in ordered(a + b + c))
        assert verifier.result() == chain.VerifyResult(True, 8, None)
        assert verifier.heads() == {
            "referral:a": (4, a[-1].hash),
            "organisation:cardiff": (3, b[-1].hash),
            "system": (1, c[0].hash),
        }

    def test_detects_a_modified_event(self) -> None:
        events = build_chain(STREAM, [1, 2, 3])
        canonical = events[1].canonical.replace(b"draft", b"drafT")
        events[1] = dataclasses.replace(events[1], canonical=canonical)
        assert verify_events(events) == chain.VerifyResult(False, 3, 2)

    def test_detects_a_modified_event_whose_hash_was_recomputed(self) -> None:
        events = build_chain(STREAM, [1, 2, 3])
        canonical = events[1].canonical.replace(b"draft", b"drafT")
        forged = chain.event_hash(events[0].hash, canonical)
        events[1] = dataclasses.replace(events[1], canonical=canonical, hash=forged)
        assert verify_events(events).first_invalid_seq == 3

    @pytest.mark.parametrize(("gone", "reported"), [(0, 12), (1, 13), (2, 14)])
    def test_detects_a_deleted_event(self, gone: int, reported: int) -> None:
        events = build_chain(STREAM, [11, 12, 13, 14])
        del events[gone]
        assert verify_events(events) == chain.VerifyResult(False, 3, reported)

    def test_detects_an_inserted_event(self) -> None:
        events = build_chain(STREAM, [1, 2, 3])
        intruder = make_event(99, STREAM, 2, events[0].hash, action="referral.withdrawn")
        assert verify_events([events[0], intruder, *events[1:]]).first_invalid_seq == 2

    def test_detects_an_inserted_event_renumbering_those_after(self) -> None:
        events = build_chain(STREAM, [1, 2, 3])
        intruder = make_event(99, STREAM, 2, events[0].hash)
        shifted = [dataclasses.replace(e, position=e.position + 1) for e in events[1:]]
        assert verify_events([events[0], intruder, *shifted]).first_invalid_seq == 2

    def test_detects_reordered_events(self) -> None:
        events = build_chain(STREAM, [1, 2, 3, 4])
        swapped = [
            events[0],
            dataclasses.replace(events[2], position=2),
            dataclasses.replace(events[1], position=3),
            events[3],
        ]
        assert verify_events(swapped) == chain.VerifyResult(False, 4, 3)

    @pytest.mark.parametrize(
        ("first", "second", "reported"), [(1, 2, 20), (0, 3, 20), (1, 3, 30), (2, 3, 30)]
    )
    def test_detects_two_events_whose_seqs_were_swapped(
        self, first: int, second: int, reported: int
    ) -> None:
        """`seq` is not hashed: swapped, every link still holds, but the order in which pages
        show the stream does not. The first event (by position) whose seq is not above the one
        before it is reported."""
        events = build_chain(STREAM, [10, 20, 30, 40])
        low, high = events[first].seq, events[second].seq
        events[first] = dataclasses.replace(events[first], seq=high)
        events[second] = dataclasses.replace(events[second], seq=low)
        assert verify_events(events) == chain.VerifyResult(False, 4, reported)

    def test_accepts_seqs_with_gaps_and_interleaved_with_other_streams(self) -> None:
        a = build_chain("referral:a", [3, 90, 91])
        b = build_chain("referral:b", [1, 2, 95])
        assert verify_events(ordered(a + b)).valid

    def test_detects_a_repeated_seq_within_a_stream(self) -> None:
        events = build_chain(STREAM, [1, 2, 3])
        events[2] = dataclasses.replace(events[2], seq=2)
        assert verify_events(events) == chain.VerifyResult(False, 3, 2)

    def test_detects_a_gap_even_when_the_hashes_link(self) -> None:
        first = make_event(1, STREAM, 1, None)
        skipped = make_event(2, STREAM, 3, first.hash)
        assert verify_events([first, skipped]).first_invalid_seq == 2

    def test_detects_a_stored_prev_hash_that_is_not_the_previous_hash(self) -> None:
        events = build_chain(STREAM, [1, 2])
        events[1] = dataclasses.replace(events[1], prev_hash="0" * 64)
        assert verify_events(events).first_invalid_seq == 2

    def test_detects_events_fed_out_of_order(self) -> None:
        events = build_chain(STREAM, [1, 2, 3])
        assert verify_events([events[0], events[2], events[1]]).first_invalid_seq == 3

    def test_detects_an_event_moved_to_another_stream(self) -> None:
        moved = dataclasses.replace(build_chain(STREAM, [5])[0], stream="referral:b")
        assert verify_events([moved]) == chain.VerifyResult(False, 1, 5)

    def test_detects_a_whole_stream_renamed(self) -> None:
        events = build_chain("referral:a", [1, 2])
        renamed = [dataclasses.replace(e, stream="referral:b") for e in events]
        assert verify_events(renamed).first_invalid_seq == 1

    def test_detects_content_naming_another_position_even_with_a_valid_hash(self) -> None:
        content = chain.canonical_bytes(sample_content(position=3))
        event = chain.StoredEvent(1, STREAM, 1, content, None, chain.event_hash(None, content))
        assert verify_events([event]).first_invalid_seq == 1

    def test_is_not_fooled_by_place_lookalikes_inside_changes(self) -> None:
        decoy = ',"position":1,"referral_id":null,"stream":"referral:b","track":"victim","v":1}'
        event = make_event(1, STREAM, 1, None, changes={"position": 1, "stream": "x", "n": decoy})
        assert verify_events([event]).valid
        moved = dataclasses.replace(event, stream="referral:b")
        assert not verify_events([moved]).valid

    def test_checks_stream_names_that_need_escaping(self) -> None:
        events = build_chain('organisation:"Gŵyr"\\', [1, 2])
        assert verify_events(events).valid

    def test_refuses_bytes_that_are_not_a_canonical_event(self) -> None:
        canonical = b'{"position":1,"stream":"s"}'
        event = chain.StoredEvent(1, "s", 1, canonical, None, chain.event_hash(None, canonical))
        assert not verify_events([event]).valid

    def test_refuses_bytes_with_anything_after_the_object(self) -> None:
        canonical = make_event(1, STREAM, 1, None).canonical + b" "
        event = chain.StoredEvent(1, STREAM, 1, canonical, None, chain.event_hash(None, canonical))
        assert not verify_events([event]).valid

    def test_reports_only_the_first_bad_event_and_keeps_checking(self) -> None:
        a = build_chain("referral:a", [1, 2, 3])
        b = build_chain("referral:b", [4, 5, 6])
        bad_a = dataclasses.replace(a[1], hash="f" * 64)
        bad_b = dataclasses.replace(b[1], hash="ü" * 64)
        verifier = chain.ChainVerifier()
        fed = [verifier.feed(e) for e in [a[0], bad_a, a[2], b[0], bad_b, b[2]]]
        assert fed == [True, False, False, True, False, False]
        assert verifier.result() == chain.VerifyResult(False, 6, 2)

    def test_starts_empty_and_valid(self) -> None:
        assert verify_events([]) == chain.VerifyResult(True, 0, None)
