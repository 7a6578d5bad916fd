"""Building a reply to a parsed email as MIME bytes ready for the outbox or SMTP.

The reply's Message-ID is derived from the idempotency key, so a retried send produces the same
Message-ID and can be recognised in the Sent folder (see ``MailSender.find_sent``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime

from engine.mail.model import Address, ParsedEmail
from engine.mail.outgoing_headers import address_header, id_list_header, text_header
from engine.ports import OutgoingReply

MAX_REPLY_REFERENCES = 20
KEY_HEADER = "X-Inbox-Triage-Key"
_REPLY_PREFIXES = re.compile(
    r"^\s*+(?:(?:re|aw|sv|antw|vs|odp|ynt|atb|rif)\s*+(?:\[\d++\]|\(\d++\))?\s*+[:：]\s*+)++", re.IGNORECASE
)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_UNUSABLE_IN_ADDRESS = re.compile(r"[\s<>,;\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_MAX_LINE = 998


def message_id_for_key(key: str, domain: str) -> str:
    """The Message-ID a reply sent under idempotency ``key`` carries: ``<it-{hash}@{domain}>``."""
    if not key:
        raise ValueError("an idempotency key is required")
    return f"<it-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{_ascii_domain(domain)}>"


def reply_subject(subject: str) -> str:
    """``subject`` with exactly one leading ``Re: `` (any Re:/RE:/Re[2]:/AW:/SV: run replaced)."""
    base = _REPLY_PREFIXES.sub("", _header_safe(subject)).strip()
    return f"Re: {base or '(no subject)'}"


def build_reply(
    original: ParsedEmail,
    *,
    body_text: str,
    from_address: Address,
    idempotency_key: str,
    message_id_domain: str,
    to: Sequence[Address] | None = None,
    subject: str | None = None,
    date: datetime | None = None,
) -> OutgoingReply:
    """Build a plain-text reply to ``original`` with correct threading headers.

    ``to`` defaults to the original's Reply-To (else its sender); ``subject`` defaults to the
    original's with one ``Re: ``; ``date`` defaults to now. Raises ``ValueError`` when there is no
    one to reply to or an address or the domain is unusable.
    """
    recipients = tuple(to) if to is not None else _default_recipients(original)
    if not recipients:
        raise ValueError("the reply has no recipient: the original has no sender or Reply-To address")
    message_id = message_id_for_key(idempotency_key, message_id_domain)
    final_subject = _header_safe(subject) if subject is not None else reply_subject(original.subject)
    text = _body_safe(body_text)
    references = _reply_references(original)
    from_pair = _header_address(from_address)
    to_pairs = [_header_address(address) for address in recipients]
    needs_utf8 = not all(address.isascii() for _, address in [from_pair, *to_pairs])
    policy = email_policy.SMTPUTF8 if needs_utf8 else email_policy.SMTP

    message = EmailMessage(policy=policy)
    message["From"] = address_header("From", [from_pair])
    message["To"] = address_header("To", to_pairs)
    message["Subject"] = text_header("Subject", final_subject)
    message["Date"] = format_datetime(_utc(date or datetime.now(UTC)))
    message["Message-ID"] = id_list_header("Message-ID", [message_id])
    if original.message_id:
        message["In-Reply-To"] = id_list_header("In-Reply-To", [original.message_id])
    if references:
        message["References"] = id_list_header("References", references)
    key_hash = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()
    message[KEY_HEADER] = id_list_header(KEY_HEADER, [key_hash])
    message.set_content(text, subtype="plain", charset="utf-8", cte=_transfer_encoding(text))
    return OutgoingReply(
        idempotency_key=idempotency_key,
        message_id=message_id,
        from_address=from_address.formatted(),
        to=tuple(address.formatted() for address in recipients),
        cc=(),
        subject=final_subject,
        body_text=text,
        in_reply_to=original.message_id,
        references=tuple(references),
        mime=message.as_bytes(policy=policy),
    )


def _default_recipients(original: ParsedEmail) -> tuple[Address, ...]:
    """Reply to the first Reply-To address, else to the sender."""
    address = original.reply_address
    return (address,) if address is not None else ()


def _reply_references(original: ParsedEmail) -> list[str]:
    """The original's References plus its Message-ID, deduplicated, keeping the first and last ones."""
    ids = list(dict.fromkeys([*original.references, *([original.message_id] if original.message_id else [])]))
    if len(ids) > MAX_REPLY_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REPLY_REFERENCES - 1) :]
    return ids


def _header_address(address: Address) -> tuple[str, str]:
    """``(name, address)`` for a header, the domain IDNA-encoded when possible.

    Raises ``ValueError`` when the address cannot be written in a header.
    """
    local, at, domain = address.email.rpartition("@")
    if not at or not local or not domain or _UNUSABLE_IN_ADDRESS.search(address.email):
        raise ValueError(f"not a usable email address: {address.email!r}")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_domain = domain
    return _header_safe(address.name), f"{local}@{ascii_domain}"


def _ascii_domain(domain: str) -> str:
    """``domain`` as an ASCII host name for Message-IDs. Raises ``ValueError`` if it is not one."""
    try:
        ascii_domain = domain.strip().encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"not a usable domain for Message-IDs: {domain!r}") from exc
    if not _DOMAIN.match(ascii_domain):
        raise ValueError(f"not a usable domain for Message-IDs: {domain!r}")
    return ascii_domain


def _header_safe(text: str) -> str:
    """One line of text safe in a header: no line breaks, control characters or lone surrogates."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return " ".join(_UNSAFE.sub(" ", text).split())


def _body_safe(text: str) -> str:
    """Body text with normalised line endings, no NULs and no lone surrogates, ending in a newline."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text if text.endswith("\n") else text + "\n"


def _transfer_encoding(text: str) -> str:
    """7bit for short-lined ASCII, quoted-printable otherwise."""
    if text.isascii() and all(len(line) <= _MAX_LINE for line in text.split("\n")):
        return "7bit"
    return "quoted-printable"


def _utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
