"""Ed25519 anchors of the audit head."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from engine.audit.signing import (
    SIGNING_KEY_NAME,
    Anchor,
    AnchorSigner,
    SigningKeyError,
    anchor_message,
    verify_anchor,
)
from engine.errors import SecretStoreUnavailableError
from tests.engine.audit.helpers import DictSecretStore, UnavailableSecretStore

HEAD = "3a" * 32
WHEN = datetime(2026, 11, 30, 18, 5, tzinfo=UTC)


def test_the_key_is_created_on_first_use_and_kept(secret_store: DictSecretStore) -> None:
    assert secret_store.get(SIGNING_KEY_NAME) is None
    first = AnchorSigner(secret_store).sign_head(7, HEAD, WHEN)
    stored = secret_store.get(SIGNING_KEY_NAME)
    assert stored is not None and len(base64.b64decode(stored, validate=True)) == 32
    second = AnchorSigner(secret_store).sign_head(8, HEAD, WHEN)
    assert first.public_key_b64 == second.public_key_b64 == AnchorSigner(secret_store).public_key_b64()
    assert secret_store.get(SIGNING_KEY_NAME) == stored


def test_an_anchor_signs_the_documented_message(secret_store: DictSecretStore) -> None:
    anchor = AnchorSigner(secret_store).sign_head(7, HEAD, WHEN)
    assert anchor.seq == 7 and anchor.head_hash == HEAD and anchor.signed_at == "2026-11-30T18:05:00.000000Z"
    message = f"inbox-triage-audit-anchor:v1:7:{HEAD}:2026-11-30T18:05:00.000000Z".encode("ascii")
    assert anchor.message() == message == anchor_message(7, HEAD, anchor.signed_at)
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(anchor.public_key_b64))
    key.verify(base64.b64decode(anchor.signature_b64), message)  # raises if invalid
    assert len(anchor.public_key_b64) == 44 and len(anchor.signature_b64) == 88
    assert verify_anchor(anchor)


@pytest.mark.parametrize("change", [
    {"seq": 8},
    {"head_hash": "4" * 64},
    {"signed_at": "2026-11-30T18:05:00.000001Z"},
    {"signature_b64": base64.b64encode(bytes(64)).decode()},
    {"public_key_b64": base64.b64encode(bytes(32)).decode()},
    {"signature_b64": "not base64!"},
    {"public_key_b64": "AAAA"},
    {"head_hash": "not a hash"},
    {"signed_at": "yesterday"},
])
def test_any_change_makes_the_signature_fail(secret_store: DictSecretStore, change: dict[str, str]) -> None:
    anchor = AnchorSigner(secret_store).sign_head(7, HEAD, WHEN)
    assert not verify_anchor(replace(anchor, **change))


def test_a_trusted_key_must_match(secret_store: DictSecretStore) -> None:
    anchor = AnchorSigner(secret_store).sign_head(7, HEAD, WHEN)
    other = AnchorSigner(DictSecretStore()).public_key_b64()
    assert verify_anchor(anchor, public_key_b64=anchor.public_key_b64)
    assert not verify_anchor(anchor, public_key_b64=other)


def test_signing_without_a_secret_store_raises_the_documented_error() -> None:
    with pytest.raises(SecretStoreUnavailableError):
        AnchorSigner(UnavailableSecretStore()).sign_head(7, HEAD, WHEN)


@pytest.mark.parametrize("stored", ["garbage!", base64.b64encode(bytes(31)).decode(), ""])
def test_a_damaged_stored_key_is_reported_not_replaced(secret_store: DictSecretStore, stored: str) -> None:
    secret_store.set(SIGNING_KEY_NAME, stored)
    with pytest.raises(SigningKeyError, match="audit-signing-key"):
        AnchorSigner(secret_store).sign_head(7, HEAD, WHEN)
    assert secret_store.get(SIGNING_KEY_NAME) == stored


@pytest.mark.parametrize(("seq", "head", "fragment"), [(0, HEAD, "seq"), (7, HEAD.upper(), "head_hash")])
def test_malformed_heads_are_refused(
    secret_store: DictSecretStore, seq: int, head: str, fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        AnchorSigner(secret_store).sign_head(seq, head, WHEN)


def test_anchor_json_round_trips(secret_store: DictSecretStore) -> None:
    anchor = AnchorSigner(secret_store).sign_head(7, HEAD, WHEN)
    assert Anchor.from_json(anchor.to_json()) == anchor
    assert set(anchor.to_json()) == {"seq", "head_hash", "signed_at", "public_key", "signature"}
    with pytest.raises(ValueError, match="lacks"):
        Anchor.from_json({"seq": 7})
    with pytest.raises(ValueError, match="integer"):
        Anchor.from_json({**anchor.to_json(), "seq": "7"})
