"""Parsing raw RFC 822 bytes into a :class:`ParsedEmail`, or quarantining what is not an email.

Email content is untrusted data. :func:`parse_message` never raises on content: every header and
every part is read defensively (see :mod:`engine.mail.headers` and :mod:`engine.mail.mime`) and
each workaround is recorded in ``ParsedEmail.defects``. Only four conditions quarantine a message
(see :func:`quarantine_reason`); everything else is worked around.

Two layers, chosen for speed and robustness: the MIME *structure* is parsed by the standard
``BytesParser`` with ``policy.compat32``, whose string headers make walking parts cheap and cannot
raise on a broken ``Content-Type`` (with ``policy.default`` the parse of a typical 10 KB message
takes about four times as long, because the parser builds header objects for every structural
check); every header *value* is then interpreted with ``policy.default``'s header classes by
:class:`engine.mail.headers.HeaderReader`, each access guarded, with a tolerant fallback.
"""

from __future__ import annotations

import re
from dataclasses import replace
from email import policy as email_policy
from email.message import Message
from email.parser import BytesParser

from engine.mail.encoded_words import tolerant_header
from engine.mail.guard import guarded
from engine.mail.headerblock import (
    HeaderBlock,
    message_ids,
    normalise_message_id,
    peek_message_id,
    scan_header_block,
)
from engine.mail.headers import HeaderReader
from engine.mail.html_text import html_to_text
from engine.mail.mime import extract_body
from engine.mail.model import Address, ParsedEmail, Quarantined

__all__ = ["MAX_MESSAGE_BYTES", "SAFE_HEADERS", "parse_message", "peek_message_id", "quarantine_reason"]

MAX_MESSAGE_BYTES = 50 * 1024 * 1024
MAX_REFERENCES = 100
MAX_DEFECTS = 50
SAFE_HEADERS = frozenset(
    {"from", "to", "cc", "reply-to", "subject", "date", "message-id", "in-reply-to", "references",
     "list-id", "list-unsubscribe", "auto-submitted", "precedence", "return-path", "content-type",
     "x-mailer"}
)
_IDENTIFYING = frozenset({"from", "sender", "message-id", "subject"})
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_BOM = b"\xef\xbb\xbf"
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")

EMPTY = "The message is empty: the file contains no data, or only blank space."
NO_HEADERS = "No email headers were found: the file does not start with a header line such as 'From:'."
NOT_AN_EMAIL = (
    "This does not look like an email: it has none of the From, Sender, Message-ID or Subject headers."
)


def quarantine_reason(raw: bytes, block: HeaderBlock | None = None) -> str | None:
    """Why ``raw`` must be quarantined, as a sentence for staff, or ``None`` if it can be parsed.

    Quarantined are: empty (or all-whitespace) input, input over :data:`MAX_MESSAGE_BYTES`, input
    whose first line is not a header field, and input with none of From, Sender, Message-ID and
    Subject.
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        return (
            f"The message is too large to process safely ({len(raw) / 1048576:.1f} MiB; "
            f"the limit is {MAX_MESSAGE_BYTES // 1048576} MiB)."
        )
    if not raw.strip():
        return EMPTY
    block = block if block is not None else scan_header_block(raw)
    if not block.fields:
        return NO_HEADERS
    if not block.names() & _IDENTIFYING:
        return NOT_AN_EMAIL
    return None


def parse_message(raw: bytes) -> ParsedEmail | Quarantined:
    """Parse raw message bytes; return a :class:`ParsedEmail` or a :class:`Quarantined` with the reason.

    Never raises on content.
    """
    data = bytes(raw)
    block = scan_header_block(data)
    reason = quarantine_reason(data, block)
    message_id = normalise_message_id(block.first("message-id"))
    if reason is not None:
        return Quarantined(reason, message_id)
    defects: list[str] = []
    message, reader = _read_structure(data, block, defects)
    body = extract_body(message)
    defects.extend(body.defects)
    text = body.text
    if text is None:
        text = html_to_text(body.html) if body.html is not None else ""
    parsed = ParsedEmail(
        message_id=message_id,
        subject=reader.text("subject") or "",
        sender=_sender(reader),
        reply_to=reader.addresses("reply-to"),
        to=reader.addresses("to"),
        cc=reader.addresses("cc"),
        date=reader.date(),
        in_reply_to=normalise_message_id(_joined(reader.raw_values("in-reply-to"))),
        references=_references(reader),
        body_text=text,
        body_html=body.html,
        attachments=tuple(body.attachments),
        auto_submitted=_is_auto_submitted(reader),
        list_id=_list_id(reader),
        headers=tuple(reader.items(SAFE_HEADERS)),
        defects=(),
    )
    return _with_defects(parsed, [*defects, *reader.defects])


def _read_structure(data: bytes, block: HeaderBlock, defects: list[str]) -> tuple[Message, HeaderReader]:
    """Parse the MIME structure (``compat32``; see the module docstring), falling back to
    headers-only and then to the scanned header block."""
    source = data[len(_BOM) :] if data.startswith(_BOM) else data
    parser = BytesParser(policy=email_policy.compat32)
    parsed, error = guarded(lambda: parser.parsebytes(source))
    if parsed is None:
        defects.append(f"MIME structure could not be parsed ({error}); body read as plain text")
        parsed, error = guarded(lambda: parser.parsebytes(source, headersonly=True))
    if parsed is not None:
        return parsed, HeaderReader(parsed.raw_items())
    defects.append(f"headers could not be parsed ({error}); read from the raw header block")
    message: Message = Message(policy=email_policy.compat32)
    parts = _BLANK_LINE.split(source, maxsplit=1)
    rest = parts[1] if len(parts) > 1 else b""
    message.set_payload(rest.decode("utf-8", "surrogateescape"))
    pairs = [(name, value.decode("utf-8", "surrogateescape")) for name, value in block.fields]
    return message, HeaderReader(pairs)


def _sender(reader: HeaderReader) -> Address | None:
    """The first From address, else Sender, else (recorded as a defect) the Return-Path address."""
    for name in ("from", "sender"):
        addresses = reader.addresses(name)
        if addresses:
            return addresses[0]
    envelope = reader.addresses("return-path")
    if envelope:
        reader.defects.append("no usable From or Sender address; sender taken from Return-Path")
        return envelope[0]
    return None


def _joined(values: list[str]) -> str | None:
    """All raw values of a repeated header as one string, or ``None`` if there are none."""
    return " ".join(values) if values else None


def _references(reader: HeaderReader) -> tuple[str, ...]:
    """Message-IDs from References (else In-Reply-To), deduplicated, keeping the first and the last."""
    ids = message_ids(_joined(reader.raw_values("references")))
    if not ids:
        ids = message_ids(_joined(reader.raw_values("in-reply-to")))
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_REFERENCES:
        unique = unique[:1] + unique[-(MAX_REFERENCES - 1) :]
    return tuple(unique)


def _is_auto_submitted(reader: HeaderReader) -> bool:
    """Whether headers mark the message as automatic (RFC 3834, Precedence, X-Autoreply...)."""
    auto = (reader.text("auto-submitted") or "").split(";", 1)[0].strip().lower()
    if auto and auto != "no":
        return True
    precedence = (reader.text("precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return True
    return reader.has("x-autoreply") or reader.has("x-autorespond")


def _list_id(reader: HeaderReader) -> str | None:
    """The list identifier from List-Id (the part in angle brackets when present)."""
    values = reader.raw_values("list-id")
    if not values:
        return None
    text, _ = tolerant_header(values[0])
    start, end = text.rfind("<"), text.rfind(">")
    if 0 <= start < end:
        text = text[start + 1 : end]
    return text.strip() or None


def _with_defects(parsed: ParsedEmail, defects: list[str]) -> ParsedEmail:
    """``parsed`` carrying the distinct defect notes (at most :data:`MAX_DEFECTS`)."""
    readable = (note[:300].encode("utf-8", "backslashreplace").decode("utf-8") for note in defects)
    unique = list(dict.fromkeys(readable))
    if len(unique) > MAX_DEFECTS:
        unique = [*unique[: MAX_DEFECTS - 1], f"... and {len(unique) - MAX_DEFECTS + 1} more"]
    return replace(parsed, defects=tuple(unique))
