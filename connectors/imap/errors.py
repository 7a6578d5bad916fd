"""IMAP errors: leaves of the connectors' exception tree, each naming the stage that failed.

``stage`` is one of ``dns``, ``tcp``, ``tls``, ``login``, ``folder`` or ``command``, so "Test
connection" and the status bar can say exactly what went wrong.
"""

from __future__ import annotations

from connectors.errors import (
    AuthenticationError,
    ConnectionFailedError,
    ConnectorPermanentError,
    RemoteNotFoundError,
    TlsError,
)


class ImapConnectError(ConnectionFailedError):
    """The server could not be reached (DNS lookup or TCP connection failed); worth retrying."""

    def __init__(self, message: str, *, stage: str) -> None:
        super().__init__(message)
        self.stage = stage


class ImapConnectionLostError(ConnectionFailedError):
    """An open connection dropped or timed out in the middle of a command; worth retrying."""

    stage = "command"


class ImapTlsError(TlsError):
    """The TLS handshake failed or the certificate did not verify (wrong CA file, wrong host name)."""

    stage = "tls"


class ImapLoginError(AuthenticationError):
    """The server refused the user name and password (or the OAuth token)."""

    stage = "login"


class ImapFolderError(RemoteNotFoundError):
    """The configured folder does not exist or cannot be selected."""

    stage = "folder"


class ImapCommandError(ConnectorPermanentError):
    """The server answered NO or BAD to a command (not a connection problem)."""

    stage = "command"


class ImapCapabilityError(ConnectorPermanentError):
    """The server lacks something the configuration needs (STARTTLS, UIDPLUS/MOVE, custom keywords)."""

    stage = "command"
