"""Tolerant decoding of raw header text: 8-bit bytes, RFC 2047 encoded words, control characters.

This is the fallback used when the standard library's header parser raises or leaves undecodable
data behind. Nothing here raises on content.
"""

from __future__ import annotations

import base64
import binascii
import re

from engine.mail.charset import decode_bytes

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,80})\?([bBqQ])\?([^?\s]*)\?=")
# Whitespace between two adjacent encoded words is not part of the text (RFC 2047 section 6.2).
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t\r\n]+(?==\?[^?\s]{1,80}\?[bBqQ]\?[^?\s]*\?=)")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds undecoded bytes (smuggled as surrogate escapes by the parser)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def raw_header_text(value: str) -> tuple[str, str | None]:
    """Turn a raw header value (possibly with surrogate-escaped 8-bit bytes) into text.

    Returns the text and a defect note when raw 8-bit bytes had to be guessed (UTF-8, then
    Windows-1252, then Latin-1).
    """
    value = _LINE_BREAK.sub("", value)
    if not has_surrogates(value):
        return value, None
    data = value.encode("utf-8", "surrogateescape") if _only_escapes(value) else _to_bytes(value)
    decoded = decode_bytes(data, None)
    return decoded.text, f"raw 8-bit bytes in header decoded as {decoded.codec}"


def decode_encoded_words(text: str) -> tuple[str, list[str]]:
    """Decode RFC 2047 encoded words in ``text``, keeping any that cannot be decoded as written."""
    notes: list[str] = []
    if "=?" not in text:
        return text, notes
    text = _BETWEEN_WORDS.sub(r"\1", text)

    def _replace(match: re.Match[str]) -> str:
        charset, encoding, payload = match.group(1), match.group(2).lower(), match.group(3)
        charset = charset.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*en
        data = _b_decode(payload) if encoding == "b" else _q_decode(payload)
        if data is None:
            notes.append("undecodable encoded word kept as written")
            return match.group(0)
        decoded = decode_bytes(data, charset)
        if decoded.defect:
            notes.append(f"encoded word: {decoded.defect}")
        return decoded.text

    return _ENCODED_WORD.sub(_replace, text), notes


def clean_text(text: str) -> str:
    """Replace control characters (and stray surrogates) by spaces and trim the ends."""
    return _CONTROL.sub(" ", text.replace("\x00", "")).strip()


def tolerant_header(value: str) -> tuple[str, list[str]]:
    """Decode a raw header value completely: 8-bit bytes, encoded words, control characters."""
    text, note = raw_header_text(value)
    decoded, notes = decode_encoded_words(text)
    if note:
        notes.insert(0, note)
    return clean_text(decoded), notes


def _b_decode(payload: str) -> bytes | None:
    """Base64 with missing or excess padding repaired; ``None`` if nothing can be made of it."""
    core = _NOT_BASE64.sub("", payload.split("=", 1)[0])
    if len(core) % 4 == 1:
        core = core[:-1]
    try:
        return base64.b64decode(core + "=" * (-len(core) % 4))
    except (binascii.Error, ValueError):
        return None


def _q_decode(payload: str) -> bytes | None:
    """The "Q" encoding: underscores are spaces, ``=XX`` are bytes."""
    try:
        return binascii.a2b_qp(payload.encode("utf-8"), header=True)
    except (binascii.Error, ValueError):
        return None


def _only_escapes(value: str) -> bool:
    """Whether every surrogate in ``value`` is an escaped byte (U+DC80..U+DCFF)."""
    return all(not 0xD800 <= ord(ch) <= 0xDFFF or 0xDC80 <= ord(ch) <= 0xDCFF for ch in value)


def _to_bytes(value: str) -> bytes:
    """Bytes for a string with arbitrary surrogates: escaped bytes restored, others replaced."""
    out = bytearray()
    for ch in value:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(code - 0xDC00)
        elif 0xD800 <= code <= 0xDFFF:
            out += b"?"
        else:
            out += ch.encode("utf-8")
    return bytes(out)
