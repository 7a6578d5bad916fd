"""parse_message on realistic and nasty messages, built inline as bytes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.mail.model import Address, Attachment, ParsedEmail, Quarantined
from engine.mail.parse import EMPTY, MAX_MESSAGE_BYTES, NO_HEADERS, NOT_AN_EMAIL, parse_message
from tests.engine.mail.samples import HTML_ONLY, MULTIPART, PLAIN, REPLY_THREAD


def parsed(raw: bytes) -> ParsedEmail:
    """Parse ``raw`` and insist it was not quarantined."""
    result = parse_message(raw)
    assert isinstance(result, ParsedEmail), result
    return result


def message(*headers: bytes, body: bytes = b"Hello\r\n") -> bytes:
    """A message from header lines (without line ends) and a body."""
    return b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


# --- well-formed mail ------------------------------------------------------------------------


def test_plain_message_fields() -> None:
    email = parsed(PLAIN)
    assert email.message_id == "<CAF1234.abcd@mail.example.co.uk>"
    assert email.subject == "Viewing on Thursday"
    assert email.sender == Address("Sarah Patel", "sarah.patel@example.co.uk")
    assert email.to == (Address("Hughes Lettings", "info@hughes-lettings.co.uk"),)
    assert email.cc == (Address("", "tom@hughes-lettings.co.uk"),)
    assert email.date == datetime(2024, 6, 3, 9, 12, tzinfo=UTC)
    assert email.body_text.startswith("Hi Tom,\n\nAre you free on Thursday")
    assert email.body_html is None
    assert email.attachments == ()
    assert email.auto_submitted is False
    assert email.defects == ()


def test_only_the_domain_is_lower_cased() -> None:
    email = parsed(message(b"From: Jo <Jo.Bloggs@Example.CO.UK>", b"Subject: x"))
    assert email.sender == Address("Jo", "Jo.Bloggs@example.co.uk")


def test_safe_header_subset_is_kept_decoded_in_order() -> None:
    email = parsed(message(
        b"Received: from evil by mx",
        b"From: =?utf-8?q?Jos=C3=A9?= <jose@example.es>",
        b"Subject: =?utf-8?b?RmFjdHVyYSDigqwxMjA=?=",
        b"X-Secret-Token: abc",
        b"X-Mailer: Outlook 16.0",
    ))
    assert email.headers == (
        ("From", "José <jose@example.es>"),
        ("Subject", "Factura €120"),
        ("X-Mailer", "Outlook 16.0"),
    )


def test_thread_headers() -> None:
    email = parsed(REPLY_THREAD)
    assert email.in_reply_to == "<reply-1@example.co.uk>"
    assert email.references == ("<CAF1234.abcd@mail.example.co.uk>", "<reply-1@example.co.uk>")
    assert email.subject == "RE: Re[2]: Viewing on Thursday"


def test_references_fall_back_to_in_reply_to_and_are_normalised() -> None:
    email = parsed(message(b"From: a@b.com", b"In-Reply-To: <x1@b.com> (Jane's message of Monday)"))
    assert email.in_reply_to == "<x1@b.com>"
    assert email.references == ("<x1@b.com>",)


def test_duplicate_references_are_dropped_and_long_chains_keep_first_and_last() -> None:
    ids = b" ".join(b"<id%d@x.com>" % i for i in range(150))
    email = parsed(message(b"From: a@b.com", b"References: <id0@x.com> " + ids))
    assert len(email.references) == 100
    assert email.references[0] == "<id0@x.com>"
    assert email.references[1] == "<id51@x.com>"
    assert email.references[-1] == "<id149@x.com>"


def test_bare_message_id_is_bracketed() -> None:
    assert parsed(message(b"Message-ID: abc.123@host.example")).message_id == "<abc.123@host.example>"


def test_reply_to_wins_as_reply_address() -> None:
    email = parsed(message(b"From: a@b.com", b"Reply-To: Sales <sales@b.com>, other@b.com"))
    assert email.reply_address == Address("Sales", "sales@b.com")
    assert len(email.reply_to) == 2


def test_sender_header_is_used_when_from_is_missing() -> None:
    assert parsed(message(b"Sender: bot@b.com", b"Subject: x")).sender == Address("", "bot@b.com")


def test_return_path_is_the_last_resort_for_the_sender() -> None:
    email = parsed(message(
        b"Return-Path: <pete.dawson@example.com>",
        b"From: Pete Dawson <pete.dawson at example dot com>",
        b"Subject: payment sent?",
    ))
    assert email.sender == Address("", "pete.dawson@example.com")
    assert "no usable From or Sender address; sender taken from Return-Path" in email.defects
    bounce = parsed(message(b"Return-Path: <>", b"From: MAILER-DAEMON", b"Subject: failure"))
    assert bounce.sender is None


# --- automated mail --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Auto-Submitted: auto-replied", True),
        (b"Auto-Submitted: auto-generated; type=x", True),
        (b"Auto-Submitted: no", False),
        (b"Auto-Submitted: No", False),
        (b"Precedence: bulk", True),
        (b"Precedence: junk", True),
        (b"Precedence: list", True),
        (b"Precedence: first-class", False),
        (b"X-Autoreply: yes", True),
        (b"X-Autorespond: yes", True),
        (b"X-Mailer: Outlook", False),
    ],
)
def test_auto_submitted(header: bytes, expected: bool) -> None:
    assert parsed(message(b"From: a@b.com", header)).auto_submitted is expected


def test_list_id_and_bulk() -> None:
    email = parsed(HTML_ONLY)
    assert email.list_id == "news.shop.example.com"
    assert email.auto_submitted is True


# --- bodies and attachments ------------------------------------------------------------------


def test_nested_alternative_with_attachment() -> None:
    email = parsed(MULTIPART)
    assert email.sender == Address("José García", "jose@example.es")
    assert email.subject == "Factura €120"
    assert email.body_text.strip() == "Please find the invoice for £120 attached."
    assert email.body_html is not None
    assert "&pound;120" in email.body_html
    assert email.attachments == (Attachment("factura €120.pdf", "application/pdf", 23),)


def test_html_only_is_converted_to_text() -> None:
    email = parsed(HTML_ONLY)
    assert email.body_text == (
        "Summer \u201coffers\u201d\n\n- 10% off\n- See the sale (https://shop.example.com/sale)"
    )
    assert "track()" not in email.body_text


def test_text_part_marked_as_attachment_is_not_the_body() -> None:
    raw = message(
        b"From: a@b.com",
        b'Content-Type: multipart/mixed; boundary="b"',
        body=(
            b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\n"
            b"attached notes\r\n--b\r\nContent-Type: text/plain\r\n\r\nthe real body\r\n--b--\r\n"
        ),
    )
    email = parsed(raw)
    assert email.body_text.strip() == "the real body"
    assert email.attachments == (Attachment("notes.txt", "text/plain", len(b"attached notes")),)


def test_rfc2231_continuations_and_rfc2047_filenames() -> None:
    raw = message(
        b"From: a@b.com",
        b'Content-Type: multipart/mixed; boundary="b"',
        body=(
            b"--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
            b"--b\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment;\r\n filename*0*=utf-8''Rechnung%20M%C3%A4rz;\r\n"
            b" filename*1=.xlsx\r\n\r\nabc\r\n"
            b"--b\r\nContent-Type: application/pdf; name=\"=?utf-8?B?w6lsaXNlLnBkZg==?=\"\r\n"
            b"Content-Disposition: attachment\r\n\r\nxyz\r\n"
            b"--b\r\nContent-Type: application/pdf\r\n"
            b'Content-Disposition: attachment; filename="..\\\\..\\\\windows\\\\evil.exe"\r\n\r\n!\r\n'
            b"--b--\r\n"
        ),
    )
    names = [a.filename for a in parsed(raw).attachments]
    assert names == ["Rechnung März.xlsx", "élise.pdf", "evil.exe"]


def test_base64_with_bad_padding_is_decoded() -> None:
    raw = message(
        b"From: a@b.com",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: base64",
        body=b"SGVsbG8gd29ybGQh\r\nIENhZsOp\r\n",  # "Hello world! Café" with the padding missing
    )
    email = parsed(raw)
    assert email.body_text.startswith("Hello world! Caf")


def test_message_rfc822_attachment_is_listed_not_read_as_body() -> None:
    raw = message(
        b"From: a@b.com",
        b'Content-Type: multipart/mixed; boundary="b"',
        body=(
            b"--b\r\nContent-Type: text/plain\r\n\r\nForwarding the complaint.\r\n"
            b"--b\r\nContent-Type: message/rfc822\r\n\r\n"
            b"From: angry@c.com\r\nSubject: Broken boiler\r\n\r\nInner body text\r\n"
            b"--b--\r\n"
        ),
    )
    email = parsed(raw)
    assert email.body_text.strip() == "Forwarding the complaint."
    assert len(email.attachments) == 1
    assert email.attachments[0].filename == "Broken boiler.eml"
    assert email.attachments[0].content_type == "message/rfc822"
    assert email.attachments[0].size > 40


def test_missing_boundary_reads_the_body_as_text() -> None:
    email = parsed(message(b"From: a@b.com", b"Content-Type: multipart/mixed", body=b"just text\r\n"))
    assert email.body_text.strip() == "just text"
    assert any("boundary" in d for d in email.defects)


def test_mismatched_boundary_is_recovered_from_the_body() -> None:
    raw = message(
        b"From: a@b.com",
        b'Content-Type: multipart/alternative;\r\n\tboundary="----=_NextPart_000_0017_01DB3A5C.8E2F4A10"',
        body=(
            b"This is a multi-part message in MIME format.\r\n\r\n"
            b"------=_NextPart_000_0017_01DB3A5C.8E2F4A1\r\n"
            b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            b"Please could we order 250 compliment slips.\r\n\r\n"
            b"------=_NextPart_000_0017_01DB3A5C.8E2F4A1\r\nContent-Type: text/html\r\n\r\n"
            b"<p>Please could we order 250 compliment slips.</p>\r\n"
            b"------=_NextPart_000_0017_01DB3A5C.8E2F4A1--\r\n"
        ),
    )
    email = parsed(raw)
    assert email.body_text.strip() == "Please could we order 250 compliment slips."
    assert email.body_html is not None
    assert any("boundary did not match" in d for d in email.defects)


def test_boundary_never_found() -> None:
    raw = message(b"From: a@b.com", b'Content-Type: multipart/mixed; boundary="zzz"', body=b"no parts\r\n")
    email = parsed(raw)
    assert email.attachments == ()
    assert email.defects


def test_inline_image_without_name_is_listed() -> None:
    raw = message(
        b"From: a@b.com",
        b'Content-Type: multipart/related; boundary="b"',
        body=(
            b"--b\r\nContent-Type: text/html\r\n\r\n<p>Hi <img src=cid:1></p>\r\n"
            b"--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            b"iVBORw0KGgo=\r\n--b--\r\n"
        ),
    )
    email = parsed(raw)
    assert email.body_text == "Hi"
    assert email.attachments == (Attachment("", "image/png", 8),)


# --- charsets --------------------------------------------------------------------------------


def test_unknown_charset_falls_back_and_is_recorded() -> None:
    raw = message(b"From: a@b.com", b'Content-Type: text/plain; charset="x-unknown"', body=b"caf\xe9\r\n")
    email = parsed(raw)
    assert email.body_text == "café\n"
    assert "body: unknown charset 'x-unknown'; decoded as cp1252" in email.defects


def test_mislabelled_us_ascii_utf8_body() -> None:
    raw = message(b"From: a@b.com", b"Content-Type: text/plain; charset=us-ascii", body=b"\xe2\x82\xac5\r\n")
    assert parsed(raw).body_text == "€5\n"


def test_latin1_label_decodes_windows_1252_quotes() -> None:
    raw = message(b"From: a@b.com", b"Content-Type: text/plain; charset=iso-8859-1", body=b"\x93hi\x94\r\n")
    email = parsed(raw)
    assert email.body_text == "\u201chi\u201d\n"
    assert email.defects == ()


def test_8bit_latin1_headers() -> None:
    email = parsed(message(b"From: Ren\xe9e <renee@b.fr>", b"Subject: Caf\xe9 cr\xe8me"))
    assert email.subject == "Café crème"
    assert email.sender == Address("Renée", "renee@b.fr")
    assert any("8-bit" in d for d in email.defects)


def test_8bit_utf8_headers() -> None:
    assert parsed(message(b"From: a@b.com", b"Subject: \xe2\x82\xac100 refund")).subject == "€100 refund"


# --- broken headers --------------------------------------------------------------------------


def test_broken_encoded_word_is_kept_as_written() -> None:
    email = parsed(message(b"From: a@b.com", b"Subject: =?utf-8?q?broken"))
    assert email.subject == "=?utf-8?q?broken"


def test_encoded_word_in_unknown_charset() -> None:
    email = parsed(message(b"From: a@b.com", b"Subject: =?x-unknown?q?caf=E9?= ok"))
    assert email.subject == "café ok"
    assert email.defects


def test_unbalanced_quote_in_from() -> None:
    email = parsed(message(b'From: "unbalanced <a@b.com', b"Subject: x"))
    assert email.sender == Address("", "a@b.com")
    assert any("From header" in d for d in email.defects)


def test_junk_in_address_lists() -> None:
    email = parsed(message(
        b"From: MAILER-DAEMON",
        b"To: undisclosed-recipients:;",
        b"Cc: , ,bob@EXAMPLE.com, <<<>>>, Jane Smith <jane@x.com",
    ))
    assert email.sender is None
    assert email.to == ()
    assert email.cc == (Address("", "bob@example.com"), Address("Jane Smith", "jane@x.com"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"yesterday", None),
        (b"", None),
        (b"Mon, 3 Jun 2024 10:12:00 -0000", datetime(2024, 6, 3, 10, 12, tzinfo=UTC)),
        (b"Mon, 3 Jun 2024 10:12:00 +0530", datetime(2024, 6, 3, 4, 42, tzinfo=UTC)),
        (b"Mon, 3 Jun 99999 10:12:00 +0100", None),
        (b"Mon, 31 Feb 2024 10:12:00 +0000", None),
    ],
)
def test_dates(value: bytes, expected: datetime | None) -> None:
    email = parsed(message(b"From: a@b.com", b"Date: " + value))
    assert email.date == expected
    if email.date is not None:
        assert email.date.tzinfo == UTC


def test_nul_bytes_are_removed() -> None:
    email = parsed(message(b"From: a@b.com", b"Subject: in\x00voice", body=b"pay\x00ment\r\n"))
    assert email.subject == "invoice"
    assert email.body_text == "payment\n"


def test_over_long_header_line() -> None:
    email = parsed(message(b"From: a@b.com", b"Subject: " + b"x" * 20000))
    assert email.subject == "x" * 20000


def test_folded_headers_are_unfolded() -> None:
    email = parsed(message(b"From: a@b.com", b"Subject: part one\r\n\tpart two"))
    assert email.subject == "part one\tpart two"


def test_mbox_from_line_and_bom_are_skipped() -> None:
    assert parsed(b"From sender@x.com Mon Jun  3 10:12:00 2024\n" + PLAIN).subject == "Viewing on Thursday"
    assert parsed(b"\xef\xbb\xbf" + PLAIN).subject == "Viewing on Thursday"


def test_lf_only_line_endings() -> None:
    email = parsed(PLAIN.replace(b"\r\n", b"\n"))
    assert email.message_id == "<CAF1234.abcd@mail.example.co.uk>"
    assert email.body_text.startswith("Hi Tom,\n")


# --- quarantine ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", EMPTY),
        (b" \r\n\t\r\n", EMPTY),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", NO_HEADERS),
        (b"Dear Sir,\r\nPlease refund me.\r\n", NO_HEADERS),
        (b"\r\nFrom: a@b.com\r\n\r\nbody", NO_HEADERS),
        (b"X-Spam-Score: 5\r\nContent-Type: text/plain\r\n\r\nbody", NOT_AN_EMAIL),
    ],
)
def test_quarantine(raw: bytes, reason: str) -> None:
    assert parse_message(raw) == Quarantined(reason, None)


def test_quarantine_keeps_a_message_id_when_there_is_one() -> None:
    raw = b"x" * (MAX_MESSAGE_BYTES - 10)
    result = parse_message(b"Message-ID: <big@x.com>\r\n\r\n" + raw)
    assert isinstance(result, Quarantined)
    assert result.message_id == "<big@x.com>"
    assert "too large" in result.reason


def test_just_under_the_size_limit_is_not_quarantined_for_size() -> None:
    head = b"From: a@b.com\r\n\r\n"
    assert isinstance(parse_message(head + b"a" * (1024 * 1024)), ParsedEmail)


def test_a_subject_alone_is_enough() -> None:
    assert parsed(b"Subject: hello\r\n\r\nbody").subject == "hello"
