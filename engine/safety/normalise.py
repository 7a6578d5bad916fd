"""Undoing the cheap tricks that hide instructions from a scanner: invisible characters, look-alike
letters, letter-spacing, Unicode "tag" characters and base64."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata

#: Characters that render as nothing (zero-width space/joiners, word joiner, BOM, soft hyphen…).
INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_TAG_FIRST, _TAG_LAST = 0xE0000, 0xE007F

#: Cyrillic and Greek letters that look like Latin ones.
HOMOGLYPHS = str.maketrans(
    "аеорсухіјѕԁһӏԛԝвкмнтАВЕКМНОРСТХУІЈЅοαεικνρτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhlqwbkmhtABEKMHOPCTXYIJSoaeikvptuxABEZHIKMNOPTYX",
)
_LETTER_SPACED = re.compile(r"(?<!\w)\w(?:[ .\-_*]\w){3,}(?!\w)")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{24,}+={0,2}")
_MIN_PRINTABLE = 0.9


def visible_text(text: str) -> str:
    """NFKC-normalised text (fullwidth and "mathematical" letters become plain ones)."""
    return unicodedata.normalize("NFKC", text)


def has_hidden_characters(text: str) -> bool:
    """Whether the text contains invisible characters or Unicode tag characters."""
    return any(ch in INVISIBLE or _TAG_FIRST <= ord(ch) <= _TAG_LAST for ch in text)


def reveal(text: str) -> str:
    """The text as a scanner should read it: invisible characters removed, tag characters decoded to
    the ASCII they smuggle, look-alike letters mapped to Latin, letter-spaced words joined."""
    out: list[str] = []
    for ch in visible_text(text):
        code = ord(ch)
        if _TAG_FIRST <= code <= _TAG_LAST:
            if 0x20 <= code - _TAG_FIRST <= 0x7E:
                out.append(chr(code - _TAG_FIRST))
        elif ch not in INVISIBLE:
            out.append(ch)
    joined = "".join(out).translate(HOMOGLYPHS)
    return _LETTER_SPACED.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group()), joined)


def decoded_base64_runs(text: str, *, limit: int = 20) -> list[str]:
    """Readable text hidden in base64 runs of 24 characters or more (standard or URL-safe alphabet)."""
    found: list[str] = []
    for match in _BASE64_RUN.finditer(text):
        if len(found) >= limit:
            break
        decoded = _decode(match.group())
        if decoded is not None:
            found.append(decoded)
    return found


def _decode(run: str) -> str | None:
    body = run.rstrip("=")
    padded = body + "=" * (-len(body) % 4)
    altchars = b"-_" if ("-" in body or "_" in body) else None
    try:
        raw = base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(1 for ch in decoded if ch.isprintable() or ch in "\n\r\t")
    letters = sum(1 for ch in decoded if ch.isalpha())
    if not decoded or printable / len(decoded) < _MIN_PRINTABLE or letters < len(decoded) / 2:
        return None
    return decoded
