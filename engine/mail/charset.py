"""Decoding bytes whose declared charset may be missing, unknown or wrong.

Mail in the wild mislabels its charset all the time: ``us-ascii`` bodies with 8-bit bytes,
``iso-8859-1`` bodies with Windows-1252 quotes, or made-up names such as ``x-unknown``. The
functions here never raise on content: they try the declared charset, then UTF-8, then
Windows-1252, then Latin-1 (which decodes any byte).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

# Labels that real mailers use but Python does not know, mapped to the codec meant.
_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "x-mac-roman": "mac-roman",
    "cp-850": "cp850",
    "ansi_x3.4-1968": "ascii",
    "x-sjis": "shift_jis",
    "x-euc-jp": "euc_jp",
    "ks_c_5601": "euc_kr",
}
# As browsers do (WHATWG Encoding Standard), Latin-1 labels decode as Windows-1252, its superset.
_WINDOWS_1252_LABELS = frozenset({"latin-1", "iso8859-1"})
# Codecs that are "text" to Python but make no sense for a message body, or interpret escapes.
_REFUSED = frozenset({"unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined"})
_MAX_LABEL = 40
FALLBACKS = ("utf-8", "cp1252")


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes, the codec that worked, and a defect note if a fallback was needed."""

    text: str
    codec: str
    defect: str | None = None


def codec_for(label: str | None) -> str | None:
    """Return the Python codec name for a MIME charset label, or ``None`` if it is unusable."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if not name or len(name) > _MAX_LABEL:
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not info._is_text_encoding or info.name in _REFUSED:
        return None
    if info.name in _WINDOWS_1252_LABELS:
        return "cp1252"
    return info.name


def decode_bytes(data: bytes, label: str | None, *, default: str = "utf-8") -> Decoded:
    """Decode ``data`` declared as ``label`` (``None`` = undeclared, meaning ``default``).

    Never raises: an unknown label or bytes invalid in the declared charset fall back to UTF-8,
    then Windows-1252, then Latin-1, and the result carries a defect note saying so.
    """
    codec = codec_for(label) if label else codec_for(default)
    note: str | None = None
    if label and codec is None:
        note = f"unknown charset {_shown(label)!r}"
    if codec is not None:
        try:
            return Decoded(data.decode(codec), codec)
        except (UnicodeError, LookupError, ValueError):
            note = f"text was not valid {codec}"
    for fallback in FALLBACKS:
        if fallback == codec:
            continue
        try:
            text = data.decode(fallback)
        except UnicodeError:
            continue
        return Decoded(text, fallback, f"{note}; decoded as {fallback}")
    return Decoded(data.decode("latin-1"), "latin-1", f"{note}; decoded as latin-1")


def _shown(label: str) -> str:
    """A label cut to a displayable length, without control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in label[:_MAX_LABEL])
