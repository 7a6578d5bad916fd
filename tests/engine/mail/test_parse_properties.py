"""Property tests: no input makes ingest raise, and every input ends parsed or quarantined.

Three sources of input: arbitrary bytes, real-looking messages mutated at random (byte flips,
insertions, deletions, truncations, duplicated and swapped lines, hostile tokens), and random
structured emails (random headers and a random MIME tree). Replies built from whatever parsed
must re-parse with one "Re: " and the right threading headers.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.mail.headerblock import peek_message_id
from engine.mail.model import Address, ParsedEmail, Quarantined
from engine.mail.parse import parse_message
from engine.mail.reply import build_reply, message_id_for_key, reply_subject
from tests.engine.mail.samples import SEEDS

FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE_TOKENS = [
    b"=?", b"?=", b"=?utf-8?q?", b"=?x-unknown?b?", b"\x00", b"\r\n", b"\r\n\r\n", b"\n", b"\r", b"<", b">",
    b'"', b"\\", b";", b":", b",", b"@", b"--outer", b"--inner--", b"boundary=", b"charset=", b"\xff\xfe",
    b"\xe9", b"\xc3", b" ", b"\t", b"Content-Type: multipart/mixed\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"filename*0*=utf-8''%E2%82", b"<![if", b"<script>", b"=\r\n", b"=ZZ",
]
DISPOSITIONS = [
    b"",
    b"Content-Disposition: attachment; filename=a.pdf\r\n",
    b"Content-Disposition: inline\r\n",
    b"Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.txt\r\n",
]
HEADER_NAMES = [
    "From", "To", "Cc", "Reply-To", "Sender", "Subject", "Date", "Message-ID", "References", "In-Reply-To",
    "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "Precedence",
    "List-Id", "MIME-Version", "X-Mailer", "Return-Path",
]


def check_never_raises(raw: bytes) -> ParsedEmail | Quarantined:
    """The invariants every input must satisfy; returns the parse result."""
    result = parse_message(raw)
    assert isinstance(result, ParsedEmail | Quarantined)
    assert result.message_id == peek_message_id(raw)
    if isinstance(result, Quarantined):
        assert result.reason.endswith(".")
        return result
    for text in (result.subject, result.body_text, *(v for _, v in result.headers), *result.defects):
        text.encode("utf-8")  # no undecoded bytes (lone surrogates) anywhere
    for address in (result.sender, *result.to, *result.cc, *result.reply_to):
        if address is not None:
            local, _, domain = address.email.rpartition("@")
            assert local
            assert domain == domain.lower()
    assert result.date is None or result.date.utcoffset() is not None
    assert all(ref.startswith("<") and ref.endswith(">") for ref in result.references)
    for attachment in result.attachments:
        assert attachment.size >= 0
        assert "/" in attachment.content_type
    return result


def check_reply(parsed: ParsedEmail, body: str = "Thank you, we will be in touch.") -> None:
    """A reply to ``parsed`` re-parses with one "Re: " and correct threading headers."""
    to = None if parsed.reply_address is not None else [Address("", "fallback@example.co.uk")]
    reply = build_reply(
        parsed,
        body_text=body,
        from_address=Address("Hughes Lettings", "office@hughes-lettings.co.uk"),
        idempotency_key="run-1/send",
        message_id_domain="hughes-lettings.co.uk",
        to=to,
        date=datetime(2024, 6, 3, 12, 0, tzinfo=UTC),
    )
    again = parse_message(reply.mime)
    assert isinstance(again, ParsedEmail), again
    assert again.subject == reply.subject
    assert again.subject.startswith("Re: ")
    assert reply_subject(again.subject) == again.subject
    assert again.in_reply_to == parsed.message_id
    assert again.message_id == message_id_for_key("run-1/send", "hughes-lettings.co.uk")
    assert again.references == reply.references
    assert again.body_text.rstrip("\n") == reply.body_text.rstrip("\n")


# --- arbitrary bytes -------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    check_never_raises(raw)


@FAST
@given(st.sampled_from([b"From: ", b"Subject: ", b"Message-ID: <", b"From x\nTo: ", b"\xef\xbb\xbfFrom: "]),
       st.binary(max_size=3000))
def test_arbitrary_bytes_after_a_header_never_raise(prefix: bytes, rest: bytes) -> None:
    check_never_raises(prefix + rest)


# --- mutated real messages -------------------------------------------------------------------


@st.composite
def mutated_messages(draw: st.DrawFn) -> bytes:
    """One of the sample messages with a few random mutations applied."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "insert", "token", "delete", "truncate", "dup_line", "swap"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=40))
        elif kind == "token":
            data[pos:pos] = draw(st.sampled_from(HOSTILE_TOKENS))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 80))]
        elif kind == "truncate":
            del data[pos:]
        else:
            lines = bytes(data).split(b"\r\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if kind == "dup_line":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\r\n".join(lines))
    return bytes(data)


@FAST
@given(mutated_messages())
def test_mutated_messages_never_raise(raw: bytes) -> None:
    check_never_raises(raw)


@FAST
@given(mutated_messages())
def test_replies_to_mutated_messages_thread_correctly(raw: bytes) -> None:
    result = check_never_raises(raw)
    if isinstance(result, ParsedEmail):
        check_reply(result)


# --- structured random emails ----------------------------------------------------------------

_header_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=60
)
_address_text = st.builds(
    lambda name, local, domain: f'"{name}" <{local}@{domain}>' if name else f"{local}@{domain}",
    _header_text,
    st.from_regex(r"[A-Za-z0-9._+-]{1,12}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9-]{1,10}\.(co\.uk|com|ORG)", fullmatch=True),
)
_encoded_word = st.builds(
    lambda charset, kind, payload: f"=?{charset}?{kind}?{payload}?=",
    st.sampled_from(["utf-8", "iso-8859-1", "x-unknown", "windows-1252", "utf8*en", ""]),
    st.sampled_from(["q", "B", "x"]),
    st.from_regex(r"[A-Za-z0-9=_+/]{0,30}", fullmatch=True),
)
_header_value = st.one_of(
    _header_text.map(lambda s: s.encode("utf-8")),
    _header_text.map(lambda s: s.encode("latin-1", "replace")),
    _address_text.map(lambda s: s.encode("utf-8")),
    st.lists(_encoded_word, max_size=3).map(lambda words: " ".join(words).encode("ascii")),
    st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.sampled_from([b"yesterday", b"Mon, 3 Jun 2024 10:12:00 -0000", b"<a@b> <c@d>", b"auto-replied",
                     b"bulk", b"text/plain; charset=x-unknown", b'attachment; filename="=?utf-8?B?w6k=?="']),
)


@st.composite
def mime_parts(draw: st.DrawFn, depth: int = 0) -> bytes:
    """A random MIME entity (headers and body), possibly multipart."""
    if depth < 3 and draw(st.booleans()):
        boundary = draw(st.from_regex(r"[A-Za-z0-9'()+_,./:=?-]{1,20}", fullmatch=True))
        kind = draw(st.sampled_from(["mixed", "alternative", "related"]))
        children = draw(st.lists(mime_parts(depth + 1), max_size=3))
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + child + b"\r\n" for child in children)
        closing = b"--" + boundary.encode() + b"--\r\n" if draw(st.booleans()) else b""
        quoted = draw(st.booleans())
        param = f'"{boundary}"' if quoted else boundary
        return f"Content-Type: multipart/{kind}; boundary={param}\r\n\r\n".encode() + body + closing
    ctype = draw(st.sampled_from(["text/plain", "text/html", "application/pdf", "image/png",
                                  "message/rfc822", "text/calendar", "bogus"]))
    charset = draw(st.sampled_from(["utf-8", "iso-8859-1", "x-unknown", "us-ascii", "utf-16", ""]))
    cte = draw(st.sampled_from(["", "base64", "quoted-printable", "8bit", "x-uuencode"]))
    disposition = draw(st.sampled_from(DISPOSITIONS))
    text = draw(st.text(max_size=200))
    payload = text.encode("utf-8", "surrogatepass") if draw(st.booleans()) else draw(st.binary(max_size=200))
    head = f"Content-Type: {ctype}" + (f"; charset={charset}" if charset else "") + "\r\n"
    if cte:
        head += f"Content-Transfer-Encoding: {cte}\r\n"
    return head.encode() + disposition + b"\r\n" + payload


@st.composite
def structured_messages(draw: st.DrawFn) -> bytes:
    """A random email: random headers (some valid, some hostile) over a random MIME tree."""
    names = draw(st.lists(st.sampled_from(HEADER_NAMES), min_size=1, max_size=12))
    lines = [name.encode() + b": " + draw(_header_value) + b"\r\n" for name in names]
    if draw(st.booleans()):
        lines.insert(0, b"Subject: " + draw(_header_value) + b"\r\n")
    return b"".join(lines) + draw(mime_parts())


@FAST
@given(structured_messages())
def test_structured_messages_never_raise(raw: bytes) -> None:
    check_never_raises(raw)


@FAST
@given(structured_messages(), st.text(max_size=300))
def test_replies_to_structured_messages_thread_correctly(raw: bytes, body: str) -> None:
    result = check_never_raises(raw)
    if isinstance(result, ParsedEmail):
        check_reply(result, body)


# --- the same properties with many more examples (run with -m slow) -----------------------------

THOROUGH = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@THOROUGH
@given(st.one_of(mutated_messages(), structured_messages(), st.binary(max_size=3000)), st.text(max_size=200))
def test_many_inputs_never_raise_and_replies_thread(raw: bytes, body: str) -> None:
    result = check_never_raises(raw)
    if isinstance(result, ParsedEmail):
        check_reply(result, body)
