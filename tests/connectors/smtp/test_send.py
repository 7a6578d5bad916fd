"""Sending over a real SMTP server (aiosmtpd): exact bytes, TLS modes, failures, Sent copies, reconcile."""

from __future__ import annotations

import email
import email.policy

import pytest

from connectors.errors import (
    AuthenticationError,
    ConnectionFailedError,
    ConnectorOutcomeUnknownError,
    ConnectorPermanentError,
    ConnectorTransientError,
    TlsError,
)
from connectors.imap.sent import UNCONFIRMED_KEYWORD
from connectors.smtp import smtp_payload
from tests.connectors.imap.helpers import ImapHarness
from tests.connectors.smtp.helpers import reply_to, smtp_sender
from tests.servers.smtp import SmtpServer, SmtpServerFactory


def _sent_copies(imap: ImapHarness) -> list[tuple[bytes, set[str]]]:
    connection = imap.dovecot.connect()
    try:
        connection.select("Sent")
        _, data = connection.uid("SEARCH", "ALL")
        copies = []
        for uid in data[0].split():
            _, fetched = connection.uid("FETCH", uid.decode(), "(FLAGS BODY.PEEK[])")
            head, body = fetched[0]
            flags = set(head.decode().split("FLAGS (", 1)[1].split(")", 1)[0].split())
            copies.append((body, flags))
    finally:
        connection.logout()
    return copies


def test_starttls_send_delivers_the_exact_bytes_once(
    smtp_starttls_server: SmtpServer, imap: ImapHarness
) -> None:
    reply = reply_to(1, body="Thanks.\n.leading dot line\n..two dots\n")
    sender = smtp_sender(smtp_starttls_server, imap)
    receipt = sender.send(reply)
    (received,) = smtp_starttls_server.wait_for(1)
    assert received.data == reply.mime  # byte for byte (dot-stuffing undone by the receiver)
    assert received.mail_from == "office@print.example"
    assert received.rcpt_tos == ("sam@client.example",)
    assert receipt.external_id == reply.message_id
    assert receipt.destination == "127.0.0.1"
    assert receipt.detail["sent_copy"] == "appended"
    ((copy, flags),) = _sent_copies(imap)
    assert copy == reply.mime
    assert "\\Seen" in flags
    assert UNCONFIRMED_KEYWORD not in flags


def test_implicit_tls_send(smtps_server: SmtpServer, imap: ImapHarness) -> None:
    reply = reply_to(2)
    smtp_sender(smtps_server, imap).send(reply)
    (received,) = smtps_server.wait_for(1)
    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
    assert parsed["Message-ID"] == reply.message_id
    assert parsed["In-Reply-To"] == "<msg-2@client.example>"
    assert parsed["Subject"] == "Re: Order 2"


def test_find_sent_reconciles_from_the_sent_folder(
    smtp_starttls_server: SmtpServer, imap: ImapHarness
) -> None:
    reply, other = reply_to(3), reply_to(4)
    sender = smtp_sender(smtp_starttls_server, imap)
    assert sender.find_sent(reply) is None
    sender.send(reply)
    found = sender.find_sent(reply)
    assert found is not None
    assert found.external_id == reply.message_id
    assert found.detail["confirmed"] is True
    assert sender.find_sent(other) is None


def test_connection_lost_after_data_is_outcome_unknown_and_filed_unconfirmed(
    smtp_starttls_server: SmtpServer, imap: ImapHarness
) -> None:
    reply = reply_to(5)
    sender = smtp_sender(smtp_starttls_server, imap)
    smtp_starttls_server.drop_after_data(1)
    with pytest.raises(ConnectorOutcomeUnknownError, match="may have been sent"):
        sender.send(reply)
    assert len(smtp_starttls_server.wait_for(1)) == 1  # the server did accept it
    ((_, flags),) = _sent_copies(imap)
    assert UNCONFIRMED_KEYWORD in flags
    found = sender.find_sent(reply)
    assert found is not None
    assert found.detail["confirmed"] is False


def test_wrong_password_is_a_permanent_login_error(
    smtp_starttls_server: SmtpServer, imap: ImapHarness
) -> None:
    with pytest.raises(AuthenticationError, match="refused the login") as caught:
        smtp_sender(smtp_starttls_server, imap, password="wrong").send(reply_to(6))
    assert getattr(caught.value, "stage", None) == "login"
    assert smtp_starttls_server.messages == []
    assert _sent_copies(imap) == []


def test_untrusted_certificate_is_a_tls_error(smtp_starttls_server: SmtpServer, imap: ImapHarness) -> None:
    with pytest.raises(TlsError, match="certificate"):
        smtp_sender(smtp_starttls_server, imap, ca=False).send(reply_to(7))


def test_server_down_is_transient_and_nothing_is_filed(
    smtp_starttls_server: SmtpServer, imap: ImapHarness
) -> None:
    sender = smtp_sender(smtp_starttls_server, imap)
    smtp_starttls_server.stop()
    with pytest.raises(ConnectionFailedError, match="refused"):
        sender.send(reply_to(8))
    assert _sent_copies(imap) == []


@pytest.mark.parametrize(
    ("reply_text", "stage", "error"),
    [
        ("451 4.3.0 Try again later", "MAIL", ConnectorTransientError),
        ("421 4.3.2 Shutting down", "MAIL", ConnectorTransientError),
        ("550 5.1.1 No such user", "RCPT", ConnectorPermanentError),
        ("452 4.2.2 Mailbox full", "RCPT", ConnectorTransientError),
        ("554 5.6.0 Message rejected", "DATA", ConnectorPermanentError),
    ],
)
def test_refusals_are_not_outcome_unknown(
    smtp_starttls_server: SmtpServer,
    imap: ImapHarness,
    reply_text: str,
    stage: str,
    error: type[Exception],
) -> None:
    smtp_starttls_server.fail_with(reply_text, stage=stage)  # type: ignore[arg-type]
    with pytest.raises(error) as caught:
        smtp_sender(smtp_starttls_server, imap).send(reply_to(9))
    assert not isinstance(caught.value, ConnectorOutcomeUnknownError)
    assert reply_text.split(maxsplit=1)[0] in str(caught.value)
    assert smtp_starttls_server.messages == []


def test_plain_smtp_is_refused_unless_loopback(
    smtp_server_factory: SmtpServerFactory, imap: ImapHarness
) -> None:
    server = smtp_server_factory("plain", auth=False)
    smtp_sender(server, imap).send(reply_to(10))
    assert len(server.wait_for(1)) == 1


def test_server_mode_does_not_append_a_copy(smtp_starttls_server: SmtpServer, imap: ImapHarness) -> None:
    receipt = smtp_sender(smtp_starttls_server, imap, sent_copy="server").send(reply_to(11))
    assert receipt.detail["sent_copy"] == "server"
    assert _sent_copies(imap) == []


def test_payload_is_crlf_and_dot_stuffed() -> None:
    assert smtp_payload(b"a\n.b\r\n..c\rd") == b"a\r\n..b\r\n...c\r\nd\r\n"
