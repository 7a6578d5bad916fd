"""Short references a customer can quote back, derived from the run id."""

from __future__ import annotations

import hashlib

#: Crockford's base-32 alphabet: no I, L, O or U, so a reference read over the phone is unambiguous.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6


def make_reference(run_id: int | str, *, prefix: str = "TW") -> str:
    """``TW-`` plus six characters derived from ``run_id`` (stable: the same run, the same reference)."""
    number = int.from_bytes(hashlib.sha256(str(run_id).encode("utf-8")).digest()[:8], "big")
    chars = []
    for _ in range(REFERENCE_LENGTH):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return f"{prefix}-{''.join(chars)}"
