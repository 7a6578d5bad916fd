"""Hostile sizes and shapes: each function must stay roughly linear (no catastrophic backtracking).

Each input is large enough that a quadratic or exponential pattern would run for minutes; the
timeout makes such a regression fail instead of hanging the suite.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.mail.headerblock import peek_message_id
from engine.mail.html_text import html_to_text
from engine.mail.model import ParsedEmail
from engine.mail.parse import parse_message
from engine.mail.quoting import strip_quoted_and_signature
from engine.mail.reply import reply_subject
from engine.mail.sanitize import sanitize_html

N = 200_000

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"From: a@b.com\r\nTo: " + b"a" * N + b"\r\n\r\nx", id="local-part run without @"),
        pytest.param(b"From: a@b.com\r\nTo: " + b"a@" * (N // 2) + b"\r\n\r\nx", id="many @"),
        pytest.param(
            b"From: a@b.com\r\nTo: " + b", ".join(b"u%d@x.com" % i for i in range(30_000)) + b"\r\n\r\nx",
            id="30000 addresses",
        ),
        pytest.param(b"From: a@b.com\r\nCc: Jo" + b" " * N + b"x <j@x.com>\r\n\r\nx", id="blanks in a name"),
        pytest.param(b"From: a@b.com\r\nSubject: Re" + b" " * N + b"x\r\n\r\nx", id="blanks in subject"),
        pytest.param(b"From: a@b.com\r\nSubject: " + b"=?" * N + b"\r\n\r\nx", id="encoded-word openers"),
        pytest.param(
            b"From: a@b.com\r\nSubject: =?utf-8?q?" + b"x" * N + b"\r\n\r\nx", id="open encoded word"
        ),
        pytest.param(b"From: a@b.com\r\nReferences: " + b"<" * N + b"\r\n\r\nx", id="brackets"),
        pytest.param(b"From: a@b.com\r\nSubject: " + "é ".encode() * N + b"\r\n\r\nx", id="8-bit subject"),
        pytest.param(
            b"From: a@b.com\r\nSubject: " + b"=?utf-8?q?a?= " * (N // 10) + b"\r\n\r\nx", id="many words"
        ),
        pytest.param(
            b"From: a@b.com\r\nTo: " + "é <a@b.com>, ".encode() * (N // 10) + b"\r\n\r\nx", id="8-bit To"
        ),
        pytest.param(b"From: a@b.com\r\nDate: " + b"Mon, " * N + b"\r\n\r\nx", id="long date"),
        pytest.param(b"From: a@b.com\r\n" + b"X-" + b"a" * N + b"\r\n\r\nx", id="field name without colon"),
        pytest.param(
            b"From: a@b.com\r\nContent-Type: text/html\r\n\r\n" + b"<a " * (N // 3), id="unclosed tags"
        ),
    ],
)
def test_parse_stays_linear(raw: bytes) -> None:
    assert isinstance(parse_message(raw), ParsedEmail)
    peek_message_id(raw)


@pytest.mark.parametrize(
    "text",
    [
        "Hello\n\nthanks" + " " * N + "x",
        "Hello\n\n" + "-" * N + " forwarded message" + "-" * N + " " * N + "x",
        "Hello\n\n" + "-" * N + " original " + " " * N,
        "Hello\n\nOn " + "x " * N + "\nwrote" + " " * N + "!",
        "Hello\n" + "> quoted\n" * 20_000,
        "Hello\n" + "From: x\nSent: y\n" * 20_000,
        "Hello\n\nSent from my " + " " * N + "x",
    ],
)
def test_quote_stripping_stays_linear(text: str) -> None:
    assert strip_quoted_and_signature(text).startswith("Hello")


def test_reply_subject_stays_linear() -> None:
    assert reply_subject("Re" + " " * N + "x").startswith("Re: Re")
    assert reply_subject("Re: " * (N // 4) + "x") == "Re: x"


@pytest.mark.parametrize("convert", [html_to_text, sanitize_html])
@pytest.mark.parametrize(
    "html",
    [
        "<" * N,
        "<a " * (N // 3),
        "<!" * (N // 2),
        "<!--" * (N // 4),
        "<!-- x -->" + "<!--" * (N // 4) + "-->",
        "</" * (N // 2),
        "<![x " * (N // 5),
        "<p>" * (N // 3),
        "&" * N,
        "<b>" * 50_000,
        "<script>" + "</" * (N // 2),
    ],
)
def test_html_stays_linear(convert: Callable[[str], str], html: str) -> None:
    assert isinstance(convert(html), str)
