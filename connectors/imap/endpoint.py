"""Where a mail server is and how to talk to it securely: host, port, TLS mode, CA file.

Shared by IMAP and SMTP. ``security`` is ``tls`` (implicit TLS from the first byte), ``starttls``
(plain connection upgraded before login) or ``none``, which is allowed only for a loopback host:
a password never crosses a network in clear text.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from typing import Literal

from connectors.errors import ConnectorPermanentError

Security = Literal["tls", "starttls", "none"]
SECURITY_MODES: tuple[Security, ...] = ("tls", "starttls", "none")

#: Seconds to wait for a connection or an answer before the connection counts as lost.
DEFAULT_TIMEOUT_S = 30.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    """A server address with its transport security."""

    host: str
    port: int
    security: Security = "tls"
    ca_file: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    def check(self) -> None:
        """Raise ConnectorPermanentError when the security mode is not allowed for this host."""
        if self.security not in SECURITY_MODES:
            raise ConnectorPermanentError(f"unknown security mode {self.security!r}")
        if self.security == "none" and not is_loopback(self.host):
            raise ConnectorPermanentError(
                f"{self.host}: an unencrypted connection is only allowed to this computer (localhost); "
                "choose TLS or STARTTLS"
            )

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying TLS client context (the custom CA file when one is set; TLS 1.2 or newer)."""
        try:
            context = ssl.create_default_context(cafile=self.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise ConnectorPermanentError(f"the CA file {self.ca_file!r} cannot be used: {exc}") from exc
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    @property
    def label(self) -> str:
        """``host:port`` for messages."""
        return f"{self.host}:{self.port}"
