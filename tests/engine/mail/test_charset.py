"""Charset decoding with fallbacks."""

from __future__ import annotations

import pytest

from engine.mail.charset import codec_for, decode_bytes


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("utf-8", "utf-8"),
        ('"UTF-8"', "utf-8"),
        ("iso-8859-1", "cp1252"),
        ("latin1", "cp1252"),
        ("windows-1252", "cp1252"),
        ("iso-8859-8-i", "iso8859-8"),
        ("ks_c_5601-1987", "euc_kr"),
        ("x-unknown", None),
        ("unicode_escape", None),
        ("rot13", None),
        ("base64", None),
        ("idna", None),
        ("a\x00b", None),
        ("x" * 500, None),
        ("", None),
        (None, None),
    ],
)
def test_codec_for(label: str | None, codec: str | None) -> None:
    assert codec_for(label) == codec


def test_declared_charset_is_used() -> None:
    decoded = decode_bytes("Grüße".encode("iso-8859-15"), "iso-8859-15")
    assert decoded.text == "Grüße"
    assert decoded.defect is None


def test_invalid_bytes_fall_back_to_cp1252_then_latin1() -> None:
    assert decode_bytes(b"\x93ok\x94", "utf-8").text == "\u201cok\u201d"
    latin = decode_bytes(b"\x81\xff", "utf-8")
    assert latin.text == "\x81\xff"
    assert latin.codec == "latin-1"
    assert latin.defect == "text was not valid utf-8; decoded as latin-1"


def test_unknown_charset_tries_utf8_first() -> None:
    decoded = decode_bytes("€".encode(), "x-mac-unknown")
    assert decoded.text == "€"
    assert decoded.defect == "unknown charset 'x-mac-unknown'; decoded as utf-8"


def test_undeclared_charset_is_utf8() -> None:
    assert decode_bytes("naïve".encode(), None).text == "naïve"
