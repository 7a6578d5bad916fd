"""Real SMTP servers for tests: aiosmtpd on a free loopback port, recording what it receives.

Variants: plain, STARTTLS (required before MAIL) and implicit TLS (SMTPS), optionally with AUTH
PLAIN/LOGIN for the test users. Failure switches: reply with an error (e.g. 421 or 451) at MAIL,
RCPT or DATA, and "accept then drop": the message is accepted (recorded as delivered) but the
connection closes before the client reads the 250 reply, so the client's outcome is unknown.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import logging
import smtplib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.certs import CertificateBundle
from tests.support.ports import LOOPBACK, free_port

SmtpSecurity = Literal["plain", "starttls", "tls"]
Stage = Literal["MAIL", "RCPT", "DATA"]

DEFAULT_SMTP_USERS = {"test": "testpass"}
_START_ATTEMPTS = 3


class _LoginDataNoise(logging.Filter):
    """Drop aiosmtpd 1.4's own "Session.login_data is deprecated" warning, logged on every AUTH.

    aiosmtpd itself sets the deprecated attribute after a successful AUTH; nothing we can change.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record except that one message."""
        return not str(record.msg).startswith("Session.login_data is deprecated")


logging.getLogger("mail.log").addFilter(_LoginDataNoise())


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted: envelope sender, recipients and the raw bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    def message(self) -> email.message.EmailMessage:
        """Parse the raw bytes with the modern email policy."""
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        return parsed


@dataclass
class _Failure:
    """A scripted error reply at one SMTP stage, `remaining` times (None: until cleared)."""

    reply: str
    remaining: int | None


class RecordingHandler:
    """aiosmtpd handler: stores accepted mail thread-safely and plays scripted failures."""

    def __init__(self, users: Mapping[str, str] | None) -> None:
        """Require AUTH with `users` (login -> password) before MAIL, or accept anyone when None."""
        self.users = dict(users) if users is not None else None
        self.connections = 0
        self._condition = threading.Condition()
        self._received: list[ReceivedMail] = []
        self._failures: dict[str, _Failure] = {}
        self._drops_after_data = 0

    # --- switches (called from the test thread) -----------------------------------------------------

    def fail_with(self, reply: str, stage: Stage = "MAIL", times: int | None = None) -> None:
        """Answer `reply` (e.g. "451 4.3.0 Try again later") at `stage`, `times` times or until cleared."""
        with self._condition:
            self._failures[stage] = _Failure(reply, times)

    def clear_failures(self) -> None:
        """Stop failing and stop dropping."""
        with self._condition:
            self._failures.clear()
            self._drops_after_data = 0

    def drop_after_data(self, times: int = 1) -> None:
        """For the next `times` messages: accept (and record) them, then close before replying 250."""
        with self._condition:
            self._drops_after_data = times

    # --- received mail ----------------------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMail]:
        """A snapshot of the mail received so far."""
        with self._condition:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until at least `count` messages arrived; return them, or raise TimeoutError."""
        with self._condition:
            if not self._condition.wait_for(lambda: len(self._received) >= count, timeout):
                raise TimeoutError(
                    f"expected {count} message(s) within {timeout} s, got {len(self._received)}"
                )
            return list(self._received)

    # --- aiosmtpd hooks (run on the server's event loop thread) -------------------------------------

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        """Count connections that greet us; keep aiosmtpd's EHLO response."""
        with self._condition:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        """Enforce AUTH when configured, play a MAIL failure, else accept the sender."""
        if self.users is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        failure = self._take_failure("MAIL", server)
        if failure:
            return failure
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        """Play a RCPT failure, else accept the recipient."""
        failure = self._take_failure("RCPT", server)
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Play a DATA failure, else record the message (and drop the connection when asked)."""
        failure = self._take_failure("DATA", server)
        if failure:
            return failure
        content = envelope.original_content or b""
        mail = ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), bytes(content))
        with self._condition:
            self._received.append(mail)
            drop = self._drops_after_data > 0
            if drop:
                self._drops_after_data -= 1
            self._condition.notify_all()
        if drop and server.transport is not None:
            # Closing now discards the 250 written below: the mail is delivered, the client never
            # learns it (smtplib raises SMTPServerDisconnected).
            server.transport.close()
        return "250 OK: queued"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """aiosmtpd authenticator: LOGIN/PLAIN against the configured users."""
        if self.users is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        return AuthResult(success=self.users.get(login) == password, handled=False)

    def _take_failure(self, stage: str, server: SMTP) -> str | None:
        """Return the scripted reply for `stage` (consuming one use); a 421 also closes the connection."""
        with self._condition:
            failure = self._failures.get(stage)
            if failure is None:
                return None
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    del self._failures[stage]
        if failure.reply.startswith("421") and server.transport is not None:
            server.loop.call_soon(server.transport.close)  # after the reply is written
        return failure.reply


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1; stop() and start() keep its port and its received mail."""

    host = LOOPBACK

    def __init__(
        self,
        security: SmtpSecurity = "plain",
        *,
        certificates: CertificateBundle | None = None,
        users: Mapping[str, str] | None = None,
    ) -> None:
        """Configure (not start) a server; TLS variants need `certificates`, `users` turns on AUTH."""
        if security != "plain" and certificates is None:
            raise ValueError(f"security={security!r} needs certificates")
        self.security = security
        self.certificates = certificates
        self.handler = RecordingHandler(users)
        self.port = 0
        self.start_seconds: list[float] = []
        self._controller: Controller | None = None

    @property
    def users(self) -> dict[str, str]:
        """Logins accepted by AUTH (empty when AUTH is off)."""
        return dict(self.handler.users or {})

    @property
    def ca_file(self) -> Path | None:
        """CA certificate that verifies this server's certificate (None for plain)."""
        return self.certificates.ca_file if self.certificates else None

    @property
    def running(self) -> bool:
        """True while the server accepts connections."""
        return self._controller is not None

    @property
    def messages(self) -> list[ReceivedMail]:
        """A snapshot of the mail received so far."""
        return self.handler.messages

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until at least `count` messages arrived (no polling) and return them."""
        return self.handler.wait_for(count, timeout)

    def fail_with(self, reply: str, stage: Stage = "MAIL", times: int | None = None) -> None:
        """Answer `reply` at `stage` (see RecordingHandler.fail_with)."""
        self.handler.fail_with(reply, stage, times)

    def clear_failures(self) -> None:
        """Behave normally again."""
        self.handler.clear_failures()

    def drop_after_data(self, times: int = 1) -> None:
        """Accept the next `times` messages but close the connection before the client sees 250."""
        self.handler.drop_after_data(times)

    def start(self) -> None:
        """Start listening (on a new free port the first time, the same port afterwards)."""
        if self._controller is not None:
            return
        first_start = self.port == 0
        for attempt in range(1, _START_ATTEMPTS + 1):
            if first_start:
                self.port = free_port()
            try:
                self._start_once()
                return
            except OSError:
                if not first_start or attempt == _START_ATTEMPTS:
                    raise

    def stop(self) -> None:
        """Stop listening and close open connections (the "SMTP server is down" case)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def connect(self, *, login: bool = True, timeout: float = 10.0) -> smtplib.SMTP:
        """Return an smtplib client connected with this server's security (and logged in as `test`)."""
        client: smtplib.SMTP
        if self.security == "tls":
            assert self.certificates is not None
            context = self.certificates.client_context()
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=timeout)
            if self.security == "starttls":
                assert self.certificates is not None
                client.starttls(context=self.certificates.client_context())
        if login and self.handler.users:
            name, password = next(iter(self.handler.users.items()))
            client.login(name, password)
        return client

    def _start_once(self) -> None:
        """Create and start an aiosmtpd Controller for the current port."""
        started = time.monotonic()
        kwargs: dict[str, Any] = {
            "hostname": self.host,
            "port": self.port,
            "authenticator": self.handler.authenticate,
            "auth_required": False,  # enforced in handle_MAIL, which also covers implicit TLS
            "auth_require_tls": self.security == "starttls",
        }
        if self.security == "starttls":
            assert self.certificates is not None
            kwargs.update(tls_context=self.certificates.server_context(), require_starttls=True)
        elif self.security == "tls":
            assert self.certificates is not None
            kwargs.update(ssl_context=self.certificates.server_context())
        controller = Controller(self.handler, **kwargs)
        controller.start()
        self._controller = controller
        self.start_seconds.append(time.monotonic() - started)


SmtpServerFactory = Callable[..., SmtpServer]


@pytest.fixture
def smtp_server_factory(tls_certificates: CertificateBundle) -> Iterator[SmtpServerFactory]:
    """Build started SMTP servers: factory(security="plain"|"starttls"|"tls", auth=False|True)."""
    servers: list[SmtpServer] = []

    def factory(security: SmtpSecurity = "plain", auth: bool = False) -> SmtpServer:
        server = SmtpServer(
            security,
            certificates=tls_certificates,
            users=DEFAULT_SMTP_USERS if auth else None,
        )
        servers.append(server)
        server.start()
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: SmtpServerFactory) -> SmtpServer:
    """A plain SMTP server without AUTH."""
    return smtp_server_factory("plain", auth=False)


@pytest.fixture
def smtp_starttls_server(smtp_server_factory: SmtpServerFactory) -> SmtpServer:
    """STARTTLS required before MAIL, then AUTH (test/testpass) required."""
    return smtp_server_factory("starttls", auth=True)


@pytest.fixture
def smtps_server(smtp_server_factory: SmtpServerFactory) -> SmtpServer:
    """Implicit TLS (SMTPS) with AUTH (test/testpass) required."""
    return smtp_server_factory("tls", auth=True)
