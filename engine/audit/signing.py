"""Anchoring the audit log's head with an Ed25519 signature.

A hash chain alone can be rewritten from the first event to the last; a signed statement "the
log's event ``seq`` has hash ``head_hash``", made at a known time with a key that lives in the OS
keyring, pins everything up to that event. The signed message is the ASCII text

    inbox-triage-audit-anchor:v1:{seq}:{head_hash}:{signed_at}

(``seq`` in decimal, ``head_hash`` 64 lower-case hex digits, ``signed_at`` an audit time stamp), as
``docs/audit-log.md`` specifies. Keys and signatures travel as standard base64 with padding.

When the secret store is unavailable, :meth:`AnchorSigner.sign_head` raises
:class:`engine.errors.SecretStoreUnavailableError`; callers then export unsigned and warn.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.audit.chain import MAX_SAFE_INTEGER, format_ts, parse_ts
from engine.errors import EngineError
from engine.ports import SecretStore

__all__ = [
    "ANCHOR_PREFIX",
    "SIGNING_KEY_NAME",
    "Anchor",
    "AnchorSigner",
    "SigningKeyError",
    "anchor_message",
    "verify_anchor",
]

#: Name of the secret holding the private key (raw 32 bytes, base64) in the secret store.
SIGNING_KEY_NAME = "audit-signing-key"

#: Start of every signed anchor message; ``v1`` changes only if the message layout changes.
ANCHOR_PREFIX = "inbox-triage-audit-anchor:v1"

_HASH_RE = re.compile(r"[0-9a-f]{64}")
_B64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class SigningKeyError(EngineError):
    """The secret store holds something under ``audit-signing-key`` that is not an Ed25519 key."""


@dataclass(frozen=True)
class Anchor:
    """A signed statement that the audit log's event ``seq`` had hash ``head_hash`` at ``signed_at``."""

    seq: int
    head_hash: str
    signed_at: str
    public_key_b64: str
    signature_b64: str

    def message(self) -> bytes:
        """The exact bytes that were signed."""
        return anchor_message(self.seq, self.head_hash, self.signed_at)

    def to_json(self) -> dict[str, Any]:
        """The anchor as the JSON object exports carry (member names as in ``docs/audit-log.md``)."""
        return {
            "seq": self.seq,
            "head_hash": self.head_hash,
            "signed_at": self.signed_at,
            "public_key": self.public_key_b64,
            "signature": self.signature_b64,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Anchor:
        """Parse :meth:`to_json`'s shape; ``ValueError`` when a member is missing or of the wrong type."""
        try:
            seq, head_hash, signed_at = obj["seq"], obj["head_hash"], obj["signed_at"]
            public_key, signature = obj["public_key"], obj["signature"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"an anchor lacks a member: {exc}") from exc
        texts = (head_hash, signed_at, public_key, signature)
        if type(seq) is not int or not all(isinstance(v, str) for v in texts):
            raise ValueError("an anchor's seq must be an integer and its other members strings")
        return cls(seq, head_hash, signed_at, public_key, signature)


def anchor_message(seq: int, head_hash: str, signed_at: str) -> bytes:
    """``inbox-triage-audit-anchor:v1:{seq}:{head_hash}:{signed_at}`` as ASCII bytes.

    Raises ``ValueError`` unless ``seq`` is a whole number from 1 to 2^53 - 1, ``head_hash`` is 64
    lower-case hex digits and ``signed_at`` an audit time stamp (``2026-11-30T18:04:05.123456Z``).
    """
    if type(seq) is not int or not 1 <= seq <= MAX_SAFE_INTEGER:
        raise ValueError(f"anchor seq {seq!r} is not a whole number from 1 to 2^53 - 1")
    if not isinstance(head_hash, str) or _HASH_RE.fullmatch(head_hash) is None:
        raise ValueError(f"anchor head_hash {head_hash!r} is not 64 lower-case hexadecimal digits")
    parse_ts(signed_at)
    return f"{ANCHOR_PREFIX}:{seq}:{head_hash}:{signed_at}".encode("ascii")


class AnchorSigner:
    """Signs the audit head with the office's Ed25519 key, creating the key on first use."""

    def __init__(self, secret_store: SecretStore) -> None:
        """Use ``secret_store`` (the OS keyring) to keep the private key."""
        self._store = secret_store
        self._key: Ed25519PrivateKey | None = None

    def public_key_b64(self) -> str:
        """The public key (raw 32 bytes, base64) that verifies this signer's anchors."""
        return _b64(self._private_key().public_key().public_bytes_raw())

    def sign_head(self, seq: int, head_hash: str, signed_at: datetime) -> Anchor:
        """Sign "event ``seq`` has hash ``head_hash``" at ``signed_at`` (timezone-aware).

        Raises :class:`engine.errors.SecretStoreUnavailableError` when there is no secure secret
        store (the caller exports unsigned with a warning), :class:`SigningKeyError` when the stored
        key is damaged, and ``ValueError`` for a malformed ``seq`` or ``head_hash``.
        """
        stamp = format_ts(signed_at)
        message = anchor_message(seq, head_hash, stamp)
        key = self._private_key()
        return Anchor(
            seq=seq,
            head_hash=head_hash,
            signed_at=stamp,
            public_key_b64=_b64(key.public_key().public_bytes_raw()),
            signature_b64=_b64(key.sign(message)),
        )

    def _private_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            stored = self._store.get(SIGNING_KEY_NAME)
            if stored is None:
                self._store.set(SIGNING_KEY_NAME, _b64(Ed25519PrivateKey.generate().private_bytes_raw()))
                # Read back what was stored, so that two processes racing to create the key agree.
                stored = self._store.get(SIGNING_KEY_NAME)
                if stored is None:
                    raise SigningKeyError("the secret store did not keep the new audit signing key")
            self._key = _load_private_key(stored)
        return self._key


def _load_private_key(stored: str) -> Ed25519PrivateKey:
    raw = _unb64(stored.strip())
    if raw is None or len(raw) != 32:
        raise SigningKeyError(
            f"the secret {SIGNING_KEY_NAME!r} is not a base64 Ed25519 private key (32 bytes); "
            "restore it from a backup or delete it to start a new key (old anchors stay verifiable)"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def verify_anchor(anchor: Anchor, *, public_key_b64: str | None = None) -> bool:
    """Whether ``anchor.signature_b64`` is a valid Ed25519 signature of the anchor's message.

    The key is ``anchor.public_key_b64``; when ``public_key_b64`` is given (a key the reader already
    trusts), the anchor must also carry exactly that key. Malformed anchors give False, not errors.
    """
    if public_key_b64 is not None and anchor.public_key_b64 != public_key_b64:
        return False
    key_raw = _unb64(anchor.public_key_b64)
    signature = _unb64(anchor.signature_b64)
    if key_raw is None or len(key_raw) != 32 or signature is None or len(signature) != 64:
        return False
    try:
        message = anchor.message()
        Ed25519PublicKey.from_public_bytes(key_raw).verify(signature, message)
    except (ValueError, InvalidSignature):
        return False
    return True


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes | None:
    """Strict standard base64 with padding (RFC 4648 section 4), or None."""
    if not isinstance(text, str) or len(text) % 4 or _B64_RE.fullmatch(text) is None:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if _b64(raw) == text else None  # refuse non-canonical padding bits
