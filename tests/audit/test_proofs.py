"""The audit trail's proofs (pure): Merkle roots, signed checkpoints, what a checkpoint or a
stream's head row says about the current chains, and the signing keys."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit import chain, proofs

# Certificate Transparency's RFC 6962 reference leaves and tree heads for sizes 0..8.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        *("", "00", "10", "2021", "3031", "40414243"),
        *("5051525354555657", "606162636465666768696a6b6c6d6e6f"),
    )
]

CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# RFC 8032 §7.1, test 1.
RFC8032_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"

RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


def reference_root(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256().digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    left, right = reference_root(leaves[:split]), reference_root(leaves[split:])
    return hashlib.sha256(b"\x01" + left + right).digest()


class TestMerkleRoot:
    @pytest.mark.parametrize("size", range(9))
    def test_matches_the_rfc_6962_reference_tree_heads(self, size: int) -> None:
        assert proofs.merkle_root(CT_LEAVES[:size]) == CT_ROOTS[size]

    @pytest.mark.parametrize("size", [0, 1, 2, 3, 5, 6, 7, 8, 9, 16, 17, 33])
    def test_matches_the_recursive_definition(self, size: int) -> None:
        leaves = [f"leaf {i}".encode() for i in range(size)]
        assert proofs.merkle_root(leaves) == reference_root(leaves).hex()

    def test_depends_on_leaf_order(self) -> None:
        assert proofs.merkle_root([b"a", b"b"]) != proofs.merkle_root([b"b", b"a"])


HEAD_A, HEAD_B = "a" * 64, "b" * 64


class TestCheckpointDocument:
    def test_sorts_streams_and_roots_their_leaves(self) -> None:
        document = proofs.checkpoint_document(
            at="2025-03-01T09:30:00.000000Z", seq=7, streams=[("s2", 3, HEAD_B), ("s1", 4, HEAD_A)]
        )
        assert document["streams"] == [
            {"stream": "s1", "length": 4, "head": HEAD_A},
            {"stream": "s2", "length": 3, "head": HEAD_B},
        ]
        leaves = [proofs.stream_leaf("s1", 4, HEAD_A), proofs.stream_leaf("s2", 3, HEAD_B)]
        assert document["root"] == reference_root(leaves).hex()
        assert leaves[0] == b'{"head":"' + HEAD_A.encode() + b'","length":4,"stream":"s1"}'

    def test_refuses_a_stream_listed_twice(self) -> None:
        with pytest.raises(ValueError, match="once"):
            proofs.checkpoint_document(at="t", seq=1, streams=[("s", 1, HEAD_A), ("s", 2, HEAD_B)])


KEY = proofs.load_private_key(base64.b64encode(bytes.fromhex(RFC8032_SEED)).decode())


def signed_checkpoint() -> dict[str, Any]:
    streams = [("referral:a", 4, HEAD_A), ("referral:b", 2, HEAD_B), ("system", 1, "c" * 64)]
    document = proofs.checkpoint_document(at="2025-03-01T09:30:00.000000Z", seq=9, streams=streams)
    return proofs.sign_checkpoint(document, KEY)


class TestSignCheckpoint:
    def test_embeds_the_public_key_and_signs_everything_but_the_signature(self) -> None:
        signed = signed_checkpoint()
        assert base64.b64decode(signed["public_key"]).hex() == RFC8032_PUBLIC
        unsigned = {k: v for k, v in signed.items() if k != "signature"}
        KEY.public_key().verify(
            base64.b64decode(signed["signature"]), chain.canonical_bytes(unsigned)
        )

    def test_verifies(self) -> None:
        assert proofs.verify_checkpoint_signature(signed_checkpoint())
        assert proofs.verify_checkpoint_signature(
            signed_checkpoint(),
            expected_public_key=base64.b64encode(KEY.public_key().public_bytes_raw()).decode(),
        )


def tampered(change: str) -> dict[str, Any]:
    document = signed_checkpoint()
    entry = document["streams"][1]
    if change == "length":
        entry["length"] += 1
    elif change == "head":
        entry["head"] = "d" * 64
    elif change == "root":
        document["root"] = "0" * 64
    elif change == "seq":
        document["seq"] = 10
    elif change == "at":
        document["at"] = "2025-03-02T09:30:00.000000Z"
    elif change == "order":
        document["streams"].reverse()
    elif change == "dropped":
        del document["streams"][1]
    return document


class TestVerifyCheckpointSignature:
    @pytest.mark.parametrize("change", ["length", "head", "root", "seq", "at", "order", "dropped"])
    def test_fails_after_any_change(self, change: str) -> None:
        assert not proofs.verify_checkpoint_signature(tampered(change))

    def test_fails_after_a_change_even_with_a_recomputed_root(self) -> None:
        document = tampered("length")
        entries = [(e["stream"], e["length"], e["head"]) for e in document["streams"]]
        document["root"] = proofs.merkle_root([proofs.stream_leaf(*e) for e in entries])
        assert not proofs.verify_checkpoint_signature(document)

    def test_fails_when_the_signed_root_does_not_recompute(self) -> None:
        document = {k: v for k, v in signed_checkpoint().items() if k != "signature"}
        document["root"] = proofs.merkle_root([])
        assert not proofs.verify_checkpoint_signature(proofs.sign_checkpoint(document, KEY))

    def test_fails_when_the_signed_streams_are_out_of_order(self) -> None:
        document = signed_checkpoint()
        document["streams"].reverse()
        entries = [(e["stream"], e["length"], e["head"]) for e in document["streams"]]
        document["root"] = proofs.merkle_root([proofs.stream_leaf(*e) for e in entries])
        assert not proofs.verify_checkpoint_signature(proofs.sign_checkpoint(document, KEY))

    def test_pins_the_key_when_asked(self) -> None:
        other = Ed25519PrivateKey.generate()
        resigned = proofs.sign_checkpoint(tampered("seq"), other)
        assert proofs.verify_checkpoint_signature(resigned)
        pinned = signed_checkpoint()["public_key"]
        assert not proofs.verify_checkpoint_signature(resigned, expected_public_key=pinned)

    def test_fails_when_the_embedded_key_is_swapped(self) -> None:
        document = signed_checkpoint()
        other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
        document["public_key"] = base64.b64encode(other).decode()
        assert not proofs.verify_checkpoint_signature(document)

    @pytest.mark.parametrize("broken", ["signature", "public_key", "streams", "root"])
    def test_fails_on_a_malformed_document(self, broken: str) -> None:
        document = signed_checkpoint()
        del document[broken]
        assert not proofs.verify_checkpoint_signature(document)
        document[broken] = "not base64!"
        assert not proofs.verify_checkpoint_signature(document)


class TestCheckpointCovered:
    CHECKPOINT = {
        "streams": [
            {"stream": "referral:a", "length": 2, "head": HEAD_A},
            {"stream": "referral:b", "length": 3, "head": HEAD_B},
        ]
    }

    def test_is_fine_when_every_stream_extends_its_checkpointed_head(self) -> None:
        stored = {("referral:a", 2): HEAD_A}
        heads = {"referral:a": (5, "e" * 64), "referral:b": (3, HEAD_B), "new": (1, "f" * 64)}
        assert (
            proofs.checkpoint_covered(self.CHECKPOINT, heads, lambda s, p: stored.get((s, p))) == {}
        )

    def test_reports_a_stream_cut_short(self) -> None:
        heads = {"referral:a": (2, HEAD_A), "referral:b": (2, "e" * 64)}
        problems = proofs.checkpoint_covered(self.CHECKPOINT, heads, lambda s, p: None)
        assert list(problems) == ["referral:b"]
        assert "referral:b cut short" in problems["referral:b"]

    def test_reports_a_removed_stream(self) -> None:
        [problem] = proofs.checkpoint_covered(
            self.CHECKPOINT, {"referral:b": (3, HEAD_B)}, lambda s, p: None
        ).values()
        assert problem.startswith("stream referral:a removed")

    @pytest.mark.parametrize("current_length", [2, 4])
    def test_reports_a_rewritten_head(self, current_length: int) -> None:
        heads = {"referral:a": (current_length, "e" * 64), "referral:b": (3, HEAD_B)}
        [problem] = proofs.checkpoint_covered(
            self.CHECKPOINT, heads, lambda s, p: "e" * 64
        ).values()
        assert "referral:a rewritten" in problem


class TestHeadRowProblem:
    """A stream's recorded (length, head) against its newest stored event (position, hash)."""

    def test_is_fine_when_they_agree(self) -> None:
        assert proofs.head_row_problem("s", (3, HEAD_A), (3, HEAD_A)) is None
        assert proofs.head_row_problem("s", None, None) is None

    @pytest.mark.parametrize(
        ("recorded", "stored", "problem"),
        [
            ((4, HEAD_A), (2, HEAD_B), "stream s cut short: 2 events, 4 recorded"),
            ((4, HEAD_A), None, "stream s removed: 4 events recorded, none left"),
            ((2, HEAD_A), (3, HEAD_B), "stream s has 3 events, only 2 recorded"),
            (None, (3, HEAD_B), "stream s has 3 events, none recorded"),
            (
                (3, HEAD_A),
                (3, HEAD_B),
                f"stream s rewritten: event 3 has hash {HEAD_B}, recorded {HEAD_A}",
            ),
        ],
    )
    def test_says_what_is_wrong(
        self,
        recorded: tuple[int, str] | None,
        stored: tuple[int, str] | None,
        problem: str,
    ) -> None:
        assert proofs.head_row_problem("s", recorded, stored) == problem


class TestKeys:
    def test_loads_the_rfc_8032_key_from_its_seed(self) -> None:
        assert KEY.public_key().public_bytes_raw().hex() == RFC8032_PUBLIC

    def test_refuses_a_seed_that_is_not_32_bytes(self) -> None:
        with pytest.raises(ValueError, match="32 bytes"):
            proofs.load_private_key(base64.b64encode(b"x" * 31).decode())

    def test_generates_distinct_loadable_seeds(self) -> None:
        first, second = proofs.generate_seed_b64(), proofs.generate_seed_b64()
        assert first != second
        assert len(base64.b64decode(first)) == 32
        assert proofs.load_private_key(first).private_bytes_raw() == base64.b64decode(first)
