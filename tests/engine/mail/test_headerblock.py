"""peek_message_id and the header-block scan used for dedupe and for the quarantine rule."""

from __future__ import annotations

import pytest

from engine.mail.headerblock import message_ids, normalise_message_id, peek_message_id, scan_header_block
from tests.engine.mail.samples import MULTIPART, PLAIN


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (PLAIN, "<CAF1234.abcd@mail.example.co.uk>"),
        (MULTIPART, "<multi-1@example.es>"),
        (b"message-id: <lower@x.com>\r\n\r\n", "<lower@x.com>"),
        (b"MESSAGE-ID:<upper@x.com>\r\n\r\n", "<upper@x.com>"),
        (b"Subject: x\r\nMessage-ID:\r\n <folded@x.com>\r\n\r\n", "<folded@x.com>"),
        (b"Message-ID: bare@x.com\r\n\r\n", "<bare@x.com>"),
        (b"Message-ID: <first@x.com>\r\nMessage-ID: <second@x.com>\r\n\r\n", "<first@x.com>"),
        (b"Subject: x\r\n\r\nMessage-ID: <in-body@x.com>\r\n", None),
        (b"Subject: x\r\nnot a header\r\nMessage-ID: <after-junk@x.com>\r\n", None),
        (b"Message-ID: <caf\xe9@x.com>\r\n\r\n", None),
        (b"Message-ID: <>\r\n\r\n", None),
        (b"\x00\x01garbage", None),
        (b"", None),
        (b"From x@y Mon Jun  3 10:12:00 2024\nMessage-ID: <mbox@x.com>\n\n", "<mbox@x.com>"),
    ],
)
def test_peek_message_id(raw: bytes, expected: str | None) -> None:
    assert peek_message_id(raw) == expected


def test_scan_stops_at_the_blank_line() -> None:
    block = scan_header_block(PLAIN)
    assert block.first("subject") == b"Viewing on Thursday"
    assert "content-transfer-encoding" in block.names()
    assert block.first("hi tom,") is None


def test_scan_of_headerless_input_is_empty() -> None:
    assert scan_header_block(b"Dear Sir,\r\nFrom: me\r\n").fields == ()
    assert scan_header_block(b" leading space: x\r\n").fields == ()


def test_message_ids_in_order_without_junk() -> None:
    value = "<a@x>  (comment) <b@x>\r\n\t<c d@x> <>"
    assert message_ids(value) == ["<a@x>", "<b@x>", "<cd@x>"]
    assert normalise_message_id("  <a@x> <b@x>") == "<a@x>"
    assert normalise_message_id("<" + "a" * 300 + "@x>") is None
    assert normalise_message_id(None) is None
