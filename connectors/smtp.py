"""Sending replies over SMTP (STARTTLS or implicit TLS, AUTH), at most once.

:class:`SmtpSender` sends ``reply.mime`` byte for byte (line endings made CRLF, leading dots
doubled as the protocol requires; the receiver sees the original bytes). What a failure means
depends on when it happens:

* before the message data was completely handed over (DNS, refused connection, TLS, login, a
  4xx/5xx to MAIL, RCPT or DATA, a dropped connection while sending the data): nothing was
  accepted, so the error is transient (4xx, network) or permanent (5xx, login, certificate);
* after the final ``.`` went out but before the server's answer arrived: the server may have
  accepted the message. The outcome is unknown: :class:`ConnectorOutcomeUnknownError`. With
  ``sent_copy="append"`` a copy is first filed in the Sent folder marked ``$TriageUnconfirmed``,
  so the engine's reconciliation (:meth:`find_sent`, run before any retry) finds it and the reply
  is never sent twice.

After a confirmed send a copy goes to the Sent folder with ``\\Seen`` (``sent_copy="append"``);
providers that file sent mail themselves (Gmail, Microsoft 365) use ``sent_copy="server"``. A
failure to file the copy does not undo the send: it is logged and noted in the receipt.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from email.utils import getaddresses, parseaddr
from typing import Any, Literal

from connectors.errors import (
    AuthenticationError,
    ConnectionFailedError,
    ConnectorError,
    ConnectorOutcomeUnknownError,
    ConnectorPermanentError,
    ConnectorTransientError,
    ServerError,
    TlsError,
)
from connectors.imap.diagnose import ConnectionTestResult, StageRecorder, connect_in_stages
from connectors.imap.endpoint import Endpoint
from connectors.imap.login import Login, OAuth2Login, xoauth2_base64
from connectors.imap.sent import SentFolder
from engine.mail.headerblock import normalise_message_id, peek_message_id
from engine.ports import EffectReceipt, OutgoingReply

log = logging.getLogger(__name__)

SentCopyMode = Literal["append", "server"]
SENT_COPY_MODES: tuple[SentCopyMode, ...] = ("append", "server")
_EOL = re.compile(rb"\r\n|\n|\r(?!\n)")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


class SmtpError(ConnectorPermanentError):
    """The SMTP server refused the message for good (5xx), or a configuration problem."""

    def __init__(self, message: str, *, stage: str = "send") -> None:
        super().__init__(message)
        self.stage = stage


class SmtpTransientError(ConnectionFailedError):
    """The SMTP server could not be reached or answered 4xx; nothing was sent."""

    def __init__(self, message: str, *, stage: str = "send") -> None:
        super().__init__(message)
        self.stage = stage


class SmtpLoginError(AuthenticationError):
    """The SMTP server refused the credentials."""

    stage = "login"


class SmtpTlsError(TlsError):
    """The TLS handshake with the SMTP server failed or its certificate did not verify."""

    stage = "tls"


def smtp_payload(mime: bytes) -> bytes:
    """The DATA payload for ``mime``: CRLF line endings, leading dots doubled, ending in CRLF."""
    data = _EOL.sub(b"\r\n", mime)
    data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


@dataclass(frozen=True)
class _Accepted:
    """The server's answer to the end of DATA, and who it accepted the message for."""

    reply: str
    recipients: tuple[str, ...]
    refused: dict[str, str]


class SmtpSender:
    """The engine's :class:`~engine.ports.MailSender` over SMTP, reconciling through a Sent folder."""

    def __init__(
        self,
        endpoint: Endpoint,
        login: Login | None,
        sent: SentFolder,
        *,
        sent_copy: SentCopyMode = "append",
        local_hostname: str | None = None,
    ) -> None:
        if sent_copy not in SENT_COPY_MODES:
            raise ValueError(f"sent_copy must be one of {SENT_COPY_MODES}")
        self.endpoint = endpoint
        self.login = login
        self.sent = sent
        self.sent_copy = sent_copy
        self.local_hostname = local_hostname

    @property
    def destination(self) -> str:
        """The SMTP server's host name."""
        return self.endpoint.host

    # --- MailSender --------------------------------------------------------------------------------

    def send(self, reply: OutgoingReply) -> EffectReceipt:
        """Send once; see the module docstring for what each failure means."""
        _check_mime_carries_id(reply)
        sender = parseaddr(reply.from_address)[1]
        recipients = [addr for _, addr in getaddresses([*reply.to, *reply.cc]) if "@" in addr]
        if not sender or not recipients:
            raise SmtpError("the reply has no valid sender or recipient address")
        client = self._open()
        try:
            accepted = self._transaction(client, sender, recipients, reply)
        except ConnectorOutcomeUnknownError:
            if self.sent_copy == "append":
                self._file_copy(reply, confirmed=False)
            raise
        finally:
            _close(client)
        detail: dict[str, Any] = {
            "smtp_reply": accepted.reply[:200],
            "recipients": len(accepted.recipients),
        }
        if accepted.refused:
            detail["refused"] = accepted.refused
        detail["sent_copy"] = (
            self._file_copy(reply, confirmed=True) if self.sent_copy == "append" else "server"
        )
        return EffectReceipt(external_id=reply.message_id, destination=self.destination, detail=detail)

    def find_sent(self, reply: OutgoingReply) -> EffectReceipt | None:
        """Look for the reply's Message-ID in the Sent folder (IMAP ``SEARCH HEADER Message-ID``)."""
        copy = self.sent.find(reply.message_id)
        if copy is None:
            return None
        return EffectReceipt(
            external_id=reply.message_id,
            destination=self.destination,
            detail={
                "reconciled": "sent_folder",
                "folder": copy.folder,
                "uid": copy.uid,
                "confirmed": copy.confirmed,
            },
        )

    # --- the conversation ----------------------------------------------------------------------------

    def _open(self) -> smtplib.SMTP:
        """Connect, say EHLO, secure the connection and log in; errors name their stage."""
        self.endpoint.check()
        client = connect_smtp(self.endpoint, self.local_hostname)
        try:
            if self.login is not None:
                smtp_login(client, self.endpoint, self.login)
        except BaseException:
            _close(client)
            raise
        return client

    def _transaction(
        self, client: smtplib.SMTP, sender: str, recipients: list[str], reply: OutgoingReply
    ) -> _Accepted:
        options = ["BODY=8BITMIME"] if client.has_extn("8bitmime") and not reply.mime.isascii() else []
        if not (sender.isascii() and all(r.isascii() for r in recipients)):
            if not client.has_extn("smtputf8"):
                raise SmtpError(
                    f"{self.endpoint.label}: the server cannot take international addresses (SMTPUTF8)"
                )
            options.append("SMTPUTF8")
        code, text = self._command("MAIL", lambda: client.mail(sender, options))
        if code != 250:
            raise _reply_error("MAIL FROM", code, text)
        refused: dict[str, str] = {}
        for rcpt in recipients:
            code, text = self._command("RCPT", lambda rcpt=rcpt: client.rcpt(rcpt))
            if code not in (250, 251):
                refused[rcpt] = f"{code} {text}"
        if len(refused) == len(recipients):
            first = next(iter(refused.values()))
            raise _reply_error("RCPT TO", int(first[:3]), first[4:])
        code, text = self._command("DATA", lambda: client.docmd("DATA"))
        if code != 354:
            raise _reply_error("DATA", code, text)
        payload = smtp_payload(reply.mime)
        self._command("DATA", lambda: client.send(payload))
        try:
            client.send(b".\r\n")
            code, answer = client.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise ConnectorOutcomeUnknownError(
                f"{self.endpoint.label}: the connection was lost after the message was handed over; "
                "it may have been sent"
            ) from exc
        if code != 250:
            raise _reply_error("end of DATA", code, answer.decode("utf-8", "replace"))
        accepted = tuple(r for r in recipients if r not in refused)
        return _Accepted(f"{code} {answer.decode('utf-8', 'replace')}", accepted, refused)

    def _command(self, what: str, call: Any) -> tuple[int, str]:
        """Run one SMTP command; a network failure here means nothing was sent (transient)."""
        try:
            result = call()
        except smtplib.SMTPServerDisconnected as exc:
            raise SmtpTransientError(f"{self.endpoint.label}: the connection was lost at {what}") from exc
        except OSError as exc:
            raise SmtpTransientError(f"{self.endpoint.label}: network error at {what} ({exc})") from exc
        if isinstance(result, tuple):
            code, text = result
            return int(code), text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return 250, ""

    def _file_copy(self, reply: OutgoingReply, *, confirmed: bool) -> str:
        """Append the reply to the Sent folder; never raises (the send itself already happened)."""
        started = time.perf_counter()
        try:
            uid = self.sent.append(reply.mime, confirmed=confirmed)
        except ConnectorError as exc:
            log.warning(
                "%s: the copy of %s could not be filed in Sent: %s", self.endpoint.host, reply.message_id, exc
            )
            return f"failed: {exc}"[:200]
        log.info(
            "filed %s in %s as UID %s (%d ms)",
            reply.message_id,
            self.sent.folder,
            uid,
            int((time.perf_counter() - started) * 1000),
        )
        return "appended" if confirmed else "appended_unconfirmed"


# --- shared with the connection test ---------------------------------------------------------------


def connect_smtp(endpoint: Endpoint, local_hostname: str | None = None) -> smtplib.SMTP:
    """Connect, EHLO and (for STARTTLS) upgrade; errors name their stage."""
    client: smtplib.SMTP
    try:
        if endpoint.security == "tls":
            client = smtplib.SMTP_SSL(
                endpoint.host,
                endpoint.port,
                local_hostname=local_hostname,
                timeout=endpoint.timeout_s,
                context=endpoint.ssl_context(),
            )
        else:
            client = smtplib.SMTP(
                endpoint.host, endpoint.port, local_hostname=local_hostname, timeout=endpoint.timeout_s
            )
    except ConnectorError:
        raise
    except (OSError, smtplib.SMTPException) as exc:
        raise _connect_error(endpoint, exc) from exc
    try:
        client.ehlo()
        if endpoint.security == "starttls":
            if not client.has_extn("starttls"):
                raise SmtpError(
                    f"{endpoint.label}: the server does not offer STARTTLS; choose TLS (usually port 465)",
                    stage="tls",
                )
            client.starttls(context=endpoint.ssl_context())
            client.ehlo()
    except ConnectorError:
        _close(client)
        raise
    except (OSError, smtplib.SMTPException) as exc:
        _close(client)
        raise _connect_error(endpoint, exc) from exc
    return client


def smtp_login(client: smtplib.SMTP, endpoint: Endpoint, login: Login) -> None:
    """AUTH with a password (PLAIN/LOGIN) or XOAUTH2 (one retry with a refreshed token)."""
    try:
        if isinstance(login, OAuth2Login):
            _xoauth2(client, login)
        else:
            client.login(login.username, login.password())
    except smtplib.SMTPAuthenticationError as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc)
        if 400 <= exc.smtp_code < 500:
            raise SmtpTransientError(
                f"{endpoint.label}: login temporarily refused ({text})", stage="login"
            ) from exc
        raise SmtpLoginError(
            f"{endpoint.label}: the server refused the login for {login.username!r} ({exc.smtp_code} {text})"
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise SmtpError(f"{endpoint.label}: the server does not offer AUTH ({exc})", stage="login") from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise SmtpTransientError(
            f"{endpoint.label}: the connection was lost during login ({exc})", stage="login"
        ) from exc
    except smtplib.SMTPException as exc:
        raise SmtpError(f"{endpoint.label}: login failed ({exc})", stage="login") from exc
    except OSError as exc:
        raise SmtpTransientError(
            f"{endpoint.label}: the connection was lost during login", stage="login"
        ) from exc


def _xoauth2(client: smtplib.SMTP, login: OAuth2Login) -> None:
    for force_refresh in (False, True):
        initial = xoauth2_base64(login.username, login.token(force_refresh))
        code, text = client.docmd("AUTH", "XOAUTH2 " + initial)
        if code == 334:  # an error challenge (base64 JSON); an empty line ends the exchange
            code, text = client.docmd("")
        if code == 235:
            return
        if force_refresh or not 500 <= code < 600:
            raise smtplib.SMTPAuthenticationError(code, text)


def _connect_error(endpoint: Endpoint, exc: BaseException) -> ConnectorError:
    where = endpoint.label
    if isinstance(exc, socket.gaierror):
        return SmtpTransientError(f"{endpoint.host}: the server name could not be found ({exc})", stage="dns")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SmtpTlsError(
            f"{where}: the server's certificate could not be verified ({exc.verify_message}); "
            "check the host name, or set the CA file for a self-signed server"
        )
    if isinstance(exc, ssl.SSLError):
        return SmtpTlsError(f"{where}: the TLS handshake failed ({exc.reason or exc})")
    if isinstance(exc, ConnectionRefusedError):
        return SmtpTransientError(
            f"{where}: connection refused (is the server running? is the port right?)", stage="tcp"
        )
    if isinstance(exc, smtplib.SMTPConnectError):
        return _reply_error("the greeting", exc.smtp_code, str(exc.smtp_error), stage="tcp")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_error("EHLO", exc.smtp_code, str(exc.smtp_error), stage="tcp")
    if isinstance(exc, OSError | smtplib.SMTPException):
        return SmtpTransientError(f"{where}: could not connect ({exc})", stage="tcp")
    return SmtpTransientError(f"{where}: {exc}", stage="tcp")


def _reply_error(what: str, code: int, text: str, *, stage: str = "send") -> ConnectorError:
    """A 4xx answer is worth retrying (nothing was accepted); a 5xx is final."""
    message = f"the SMTP server answered {code} to {what}: {text}".strip()
    if 400 <= code < 500:
        error: ConnectorTransientError = (
            ServerError(message) if code == 421 else SmtpTransientError(message, stage=stage)
        )
        return error
    return SmtpError(message, stage=stage)


def _close(client: smtplib.SMTP) -> None:
    """QUIT politely when possible, then close; never raises."""
    with contextlib.suppress(smtplib.SMTPException, OSError):
        client.quit()
    with contextlib.suppress(OSError):
        client.close()


def _check_mime_carries_id(reply: OutgoingReply) -> None:
    """Refuse a reply whose MIME lacks its Message-ID: it could never be found in Sent."""
    expected = normalise_message_id(reply.message_id)
    if expected is None or peek_message_id(reply.mime) != expected:
        raise ConnectorPermanentError(
            f"the reply's MIME does not carry its Message-ID {reply.message_id!r}; refusing to send it"
        )


def diagnose_smtp(
    endpoint: Endpoint, login: Login | None, *, account: str, sent: SentFolder | None = None
) -> ConnectionTestResult:
    """ "Test connection" for SMTP: dns, tcp, tls, login, and the Sent folder (``folder``)."""
    recorder = StageRecorder()
    details: dict[str, Any] = {}
    client = connect_in_stages(endpoint, recorder, connect_smtp)
    if client is None:
        return _smtp_result(account, endpoint, recorder, details)
    try:
        details["extensions"] = sorted(k.upper() for k in (client.esmtp_features or {}))
        started = time.perf_counter()
        if login is None:
            recorder.record("login", True, "no login configured", started)
        else:
            try:
                smtp_login(client, endpoint, login)
            except ConnectorError as exc:
                recorder.record("login", False, str(exc), started)
                return _smtp_result(account, endpoint, recorder, details)
            recorder.record("login", True, f"logged in as {login.username}", started)
    finally:
        _close(client)
    if sent is not None:
        started = time.perf_counter()
        try:
            sent.session.run(lambda c: sent.session.select(c, sent.folder, refresh=True))
        except ConnectorError as exc:
            recorder.record("folder", False, f"Sent folder {sent.folder!r}: {exc}", started)
        else:
            recorder.record("folder", True, f"Sent folder {sent.folder!r} can be searched", started)
    return _smtp_result(account, endpoint, recorder, details)


def _smtp_result(
    account: str, endpoint: Endpoint, recorder: StageRecorder, details: dict[str, Any]
) -> ConnectionTestResult:
    return ConnectionTestResult(
        account=account,
        kind="smtp",
        host=endpoint.host,
        port=endpoint.port,
        stages=tuple(recorder.stages),
        details=details,
    )
