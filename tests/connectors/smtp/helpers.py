"""Replies to send in SMTP tests, and senders pointed at the test servers."""

from __future__ import annotations

from connectors.imap.endpoint import Endpoint, Security
from connectors.imap.login import PasswordLogin
from connectors.imap.sent import SentFolder
from connectors.smtp import SentCopyMode, SmtpSender
from engine.mail.model import Address, ParsedEmail
from engine.mail.parse import parse_message
from engine.mail.reply import build_reply
from engine.ports import OutgoingReply
from tests.connectors.imap.helpers import ImapHarness, message
from tests.servers.smtp import SmtpServer


def reply_to(
    number: int, *, key: str | None = None, body: str = "Thanks, we will quote today.\n"
) -> OutgoingReply:
    """A reply (as the engine builds it) to test message ``number``."""
    parsed = parse_message(message(number))
    assert isinstance(parsed, ParsedEmail)
    return build_reply(
        parsed,
        body_text=body,
        from_address=Address("Print Studio", "office@print.example"),
        idempotency_key=key or f"install:run-{number}:send",
        message_id_domain="print.example",
    )


def smtp_sender(
    server: SmtpServer,
    imap: ImapHarness,
    *,
    security: Security | None = None,
    password: str | None = None,
    ca: bool = True,
    sent_copy: SentCopyMode = "append",
) -> SmtpSender:
    """An SmtpSender for ``server``, filing copies in the Dovecot user's Sent folder."""
    mode: Security = security or {"starttls": "starttls", "tls": "tls"}.get(server.security, "none")  # type: ignore[assignment]
    endpoint = Endpoint(
        server.host,
        server.port,
        mode,
        ca_file=str(server.ca_file) if ca and server.ca_file else None,
        timeout_s=10,
    )
    login = None
    if server.users:
        name, secret = next(iter(server.users.items()))
        chosen = password if password is not None else secret
        login = PasswordLogin(name, lambda: chosen)
    return SmtpSender(endpoint, login, SentFolder(imap.session(account="office-sent")), sent_copy=sent_copy)
