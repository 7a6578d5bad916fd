"""build_reply: threading headers, subjects, deterministic Message-IDs and correct MIME."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest

from engine.mail.model import Address, ParsedEmail
from engine.mail.parse import parse_message
from engine.mail.reply import KEY_HEADER, build_reply, message_id_for_key, reply_subject
from engine.ports import OutgoingReply
from tests.engine.mail.samples import PLAIN, REPLY_THREAD

OFFICE = Address("Hughes Lettings", "office@hughes-lettings.co.uk")
WHEN = datetime(2024, 6, 3, 12, 30, tzinfo=UTC)


def original(raw: bytes = REPLY_THREAD) -> ParsedEmail:
    result = parse_message(raw)
    assert isinstance(result, ParsedEmail)
    return result


def reply_to(email: ParsedEmail, **overrides: object) -> OutgoingReply:
    arguments: dict[str, object] = {
        "body_text": "Dear Sarah,\n\nThursday at 2pm is booked.\n",
        "from_address": OFFICE,
        "idempotency_key": "run-7/send",
        "message_id_domain": "hughes-lettings.co.uk",
        "date": WHEN,
    }
    arguments.update(overrides)
    return build_reply(email, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Viewing", "Re: Viewing"),
        ("Re: Viewing", "Re: Viewing"),
        ("RE: Re: re:Viewing", "Re: Viewing"),
        ("Re[2]: Viewing", "Re: Viewing"),
        ("Re(3): Viewing", "Re: Viewing"),
        ("AW: Viewing", "Re: Viewing"),
        ("SV: Viewing", "Re: Viewing"),
        ("Aw: RE: Sv: Viewing", "Re: Viewing"),
        ("Fwd: Viewing", "Re: Fwd: Viewing"),
        ("Report: Re: Viewing", "Re: Report: Re: Viewing"),
        ("Reminder", "Re: Reminder"),
        ("  spaced   out  ", "Re: spaced out"),
        ("", "Re: (no subject)"),
        ("Re:", "Re: (no subject)"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_threading_headers() -> None:
    reply = reply_to(original())
    assert reply.in_reply_to == "<reply-2@hughes-lettings.co.uk>"
    assert reply.references == (
        "<CAF1234.abcd@mail.example.co.uk>",
        "<reply-1@example.co.uk>",
        "<reply-2@hughes-lettings.co.uk>",
    )
    assert reply.subject == "Re: Viewing on Thursday"
    assert reply.to == ("Tom Hughes <tom@hughes-lettings.co.uk>",)
    again = original(reply.mime)
    assert again.in_reply_to == "<reply-2@hughes-lettings.co.uk>"
    assert again.references == reply.references
    assert again.subject == "Re: Viewing on Thursday"
    assert again.date == WHEN
    assert again.sender == OFFICE
    assert again.body_text == "Dear Sarah,\n\nThursday at 2pm is booked.\n"


def test_references_are_deduplicated_and_capped_keeping_first_and_last() -> None:
    refs = b" ".join(b"<r%d@x.com>" % i for i in range(40))
    email = original(b"From: a@b.com\r\nMessage-ID: <r39@x.com>\r\nReferences: " + refs + b"\r\n\r\nhi\r\n")
    reply = reply_to(email)
    assert len(reply.references) == 20
    assert reply.references[0] == "<r0@x.com>"
    assert reply.references[1] == "<r21@x.com>"
    assert reply.references[-1] == "<r39@x.com>"
    assert len(set(reply.references)) == 20


def test_message_id_is_derived_from_the_idempotency_key() -> None:
    first = reply_to(original())
    retried = reply_to(original())
    other = reply_to(original(), idempotency_key="run-8/send")
    digest = hashlib.sha256(b"run-7/send").hexdigest()
    assert first.message_id == f"<it-{digest[:32]}@hughes-lettings.co.uk>"
    assert first.message_id == message_id_for_key("run-7/send", "hughes-lettings.co.uk")
    assert retried.mime == first.mime
    assert other.message_id != first.message_id
    headers = message_from_bytes(first.mime, policy=policy.default)
    assert headers["Message-ID"] == first.message_id
    assert headers[KEY_HEADER] == digest


def test_message_id_domain_is_validated() -> None:
    assert message_id_for_key("k", "Büro.example") == message_id_for_key("k", "xn--bro-hoa.example")
    for bad in ("", "bad domain", "a@b", "-x-"):
        with pytest.raises(ValueError, match="domain"):
            message_id_for_key("k", bad)
    with pytest.raises(ValueError, match="key"):
        message_id_for_key("", "x.com")


def test_mime_is_plain_utf8_with_crlf_and_required_headers() -> None:
    reply = reply_to(original(), body_text="Grüße — £5\nline two")
    assert b"\r\n" in reply.mime
    assert b"\n" not in reply.mime.replace(b"\r\n", b"")
    assert reply.mime.isascii()
    parsed = message_from_bytes(reply.mime, policy=policy.default)
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed["Content-Transfer-Encoding"] == "quoted-printable"
    assert parsed["Date"] == "Mon, 03 Jun 2024 12:30:00 +0000"
    assert parsed.get_content().replace("\r\n", "\n") == "Grüße — £5\nline two\n"


def test_ascii_body_is_7bit() -> None:
    parsed = message_from_bytes(reply_to(original()).mime, policy=policy.default)
    assert parsed["Content-Transfer-Encoding"] == "7bit"


def test_non_ascii_names_are_encoded_and_round_trip() -> None:
    email = original(
        b"From: =?utf-8?q?Zo=C3=AB_O=E2=80=99Brien?= <zoe@example.ie>\r\nSubject: Caf\xc3\xa9\r\n\r\nx"
    )
    reply = reply_to(email, from_address=Address("Büro, Lettings", "office@hughes-lettings.co.uk"))
    assert reply.mime.isascii()
    again = original(reply.mime)
    assert again.to == (Address("Zoë O’Brien", "zoe@example.ie"),)
    assert again.sender == Address("Büro, Lettings", "office@hughes-lettings.co.uk")
    assert again.subject == "Re: Café"


def test_long_message_ids_are_not_turned_into_encoded_words() -> None:
    long_id = b"<" + b"x" * 150 + b"@mail.example.com>"
    reply = reply_to(original(b"From: a@b.com\r\nMessage-ID: " + long_id + b"\r\n\r\nhi"))
    assert b"In-Reply-To: " + long_id + b"\r\n" in reply.mime
    assert b"=?" not in reply.mime


def test_subject_that_looks_like_an_encoded_word_survives() -> None:
    reply = reply_to(original(b"From: a@b.com\r\nSubject: =?broken?x?=\r\n\r\nhi"))
    assert original(reply.mime).subject == "Re: =?broken?x?="


def test_reply_to_header_is_preferred_and_to_can_be_overridden() -> None:
    email = original(b"From: a@b.com\r\nReply-To: Desk <desk@b.com>\r\n\r\nhi")
    assert reply_to(email).to == ("Desk <desk@b.com>",)
    override = reply_to(email, to=[Address("", "x@y.com"), Address("Y", "y@y.com")])
    assert override.to == ("x@y.com", "Y <y@y.com>")
    assert original(override.mime).to == (Address("", "x@y.com"), Address("Y", "y@y.com"))


def test_no_recipient_is_an_error() -> None:
    with pytest.raises(ValueError, match="no recipient"):
        reply_to(original(b"Subject: no sender\r\n\r\nhi"))


def test_header_injection_through_the_subject_is_impossible() -> None:
    reply = reply_to(original(), subject="Hello\r\nBcc: victim@example.com")
    parsed = message_from_bytes(reply.mime, policy=policy.default)
    assert parsed["Bcc"] is None
    assert reply.subject == "Hello Bcc: victim@example.com"


def test_unusable_addresses_are_rejected() -> None:
    with pytest.raises(ValueError, match="address"):
        reply_to(original(), to=[Address("", "no-at-sign")])
    with pytest.raises(ValueError, match="address"):
        reply_to(original(), to=[Address("", "a@b.com>, evil@x.com")])


def test_internationalised_mailbox_uses_smtputf8() -> None:
    reply = reply_to(original(), to=[Address("", "josé@correo.example")])
    assert "josé@correo.example".encode() in reply.mime
    assert original(reply.mime).to == (Address("", "josé@correo.example"),)


def test_naive_and_offset_dates_are_written_in_utc() -> None:
    naive = reply_to(original(), date=datetime(2024, 6, 3, 12, 30))  # deliberately naive
    offset = reply_to(original(), date=datetime(2024, 6, 3, 13, 30, tzinfo=timezone(timedelta(hours=1))))
    for reply in (naive, offset):
        assert b"Date: Mon, 03 Jun 2024 12:30:00 +0000\r\n" in reply.mime


def test_default_date_is_now() -> None:
    reply = build_reply(
        original(PLAIN),
        body_text="ok",
        from_address=OFFICE,
        idempotency_key="k",
        message_id_domain="hughes-lettings.co.uk",
    )
    written = original(reply.mime).date
    assert written is not None
    assert abs((datetime.now(UTC) - written).total_seconds()) < 60
    assert re.fullmatch(r"<it-[0-9a-f]{32}@hughes-lettings\.co\.uk>", reply.message_id)
