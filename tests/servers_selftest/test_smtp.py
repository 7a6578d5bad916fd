"""The SMTP fixtures: plain, STARTTLS, SMTPS, AUTH, and the failure switches."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from tests.servers.smtp import SmtpServer, SmtpServerFactory


def _message(subject: str = "Re: your order") -> EmailMessage:
    """A small reply to send."""
    message = EmailMessage()
    message["From"] = "office@example.com"
    message["To"] = "customer@example.com"
    message["Subject"] = subject
    message["Message-ID"] = "<reply-1@example.com>"
    message.set_content("Thank you for your email.\n")
    return message


def _send(server: SmtpServer, message: EmailMessage) -> None:
    """Send one message with the server's own security and login, then QUIT."""
    with server.connect() as client:
        client.send_message(message)


def test_plain_send_is_received(smtp_server: SmtpServer) -> None:
    """Envelope and content arrive as sent."""
    _send(smtp_server, _message())
    (received,) = smtp_server.wait_for(1)
    assert received.mail_from == "office@example.com"
    assert received.rcpt_tos == ("customer@example.com",)
    assert received.message()["Subject"] == "Re: your order"
    assert received.message()["Message-ID"] == "<reply-1@example.com>"


def test_starttls_with_auth(smtp_starttls_server: SmtpServer) -> None:
    """STARTTLS verified against the test CA, AUTH as test/testpass, message received."""
    _send(smtp_starttls_server, _message())
    assert len(smtp_starttls_server.wait_for(1)) == 1


def test_starttls_is_required_before_mail(smtp_starttls_server: SmtpServer) -> None:
    """Without STARTTLS the server refuses MAIL with 530."""
    with smtplib.SMTP(smtp_starttls_server.host, smtp_starttls_server.port, timeout=10) as client:
        client.ehlo()
        code, reply = client.mail("office@example.com")
    assert code == 530
    assert b"STARTTLS" in reply


def test_auth_is_required_and_checked(smtp_starttls_server: SmtpServer) -> None:
    """No login: 530 at MAIL; a wrong password: SMTPAuthenticationError; nothing is delivered."""
    with smtp_starttls_server.connect(login=False) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.send_message(_message())
        assert refused.value.smtp_code == 530
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("test", "wrong")
    assert smtp_starttls_server.messages == []


def test_smtps_with_auth(smtps_server: SmtpServer) -> None:
    """Implicit TLS (SMTPS) verified against the test CA, AUTH, message received."""
    _send(smtps_server, _message())
    assert len(smtps_server.wait_for(1)) == 1


def test_plain_with_auth(smtp_server_factory: SmtpServerFactory) -> None:
    """AUTH without TLS (loopback only) works when asked for."""
    server = smtp_server_factory("plain", auth=True)
    _send(server, _message())
    assert server.wait_for(1)[0].rcpt_tos == ("customer@example.com",)


def test_temporary_failure_then_success(smtp_server: SmtpServer) -> None:
    """A 451 at DATA once: the first send fails temporarily, the retry is delivered once."""
    smtp_server.fail_with("451 4.3.0 Try again later", stage="DATA", times=1)
    with pytest.raises(smtplib.SMTPDataError) as failed:
        _send(smtp_server, _message())
    assert failed.value.smtp_code == 451
    assert smtp_server.messages == []
    _send(smtp_server, _message())
    assert len(smtp_server.wait_for(1)) == 1


def test_421_closes_the_connection(smtp_server: SmtpServer) -> None:
    """A 421 at MAIL is answered and the server hangs up, until the failure is cleared."""
    smtp_server.fail_with("421 4.3.2 Service shutting down")
    client = smtp_server.connect()
    try:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.send_message(_message())
        assert refused.value.smtp_code == 421
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()
    finally:
        client.close()
    smtp_server.clear_failures()
    _send(smtp_server, _message())
    assert len(smtp_server.wait_for(1)) == 1


def test_accepted_but_dropped_before_reply(smtp_starttls_server: SmtpServer) -> None:
    """The send-outcome-unknown case: the client sees a dropped connection, the server has the mail."""
    smtp_starttls_server.drop_after_data()
    client = smtp_starttls_server.connect()
    try:
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.send_message(_message())
    finally:
        client.close()
    (received,) = smtp_starttls_server.wait_for(1)
    assert received.message()["Message-ID"] == "<reply-1@example.com>"
    _send(smtp_starttls_server, _message("second"))  # only the next message was dropped
    assert len(smtp_starttls_server.wait_for(2)) == 2


def test_stopped_server_refuses_and_restarts_on_the_same_port(smtp_server: SmtpServer) -> None:
    """stop() is "SMTP is down"; start() brings it back on the same port with its history."""
    _send(smtp_server, _message())
    port = smtp_server.port
    smtp_server.stop()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(smtp_server.host, port, timeout=5)
    smtp_server.start()
    assert smtp_server.port == port
    _send(smtp_server, _message())
    assert len(smtp_server.wait_for(2)) == 2


def test_wait_for_times_out(smtp_server: SmtpServer) -> None:
    """wait_for raises instead of hanging when the mail never comes."""
    with pytest.raises(TimeoutError, match="expected 1"):
        smtp_server.wait_for(1, timeout=0.05)
