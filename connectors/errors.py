"""The connectors' exception tree.

Every connector error derives from :class:`ConnectorError`. The leaf classes also derive from the
engine's markers (transient, permanent, outcome unknown) so the runner knows what to do without
importing this package. Third-party exceptions (httpx, imaplib, smtplib, ssl, msal) are translated
at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations

from engine.errors import OutcomeUnknownError, PermanentError, TransientError


class ConnectorError(Exception):
    """Base class of every error raised by a connector."""


class ConnectorTransientError(ConnectorError, TransientError):
    """Worth retrying: timeouts, refused connections, HTTP 429/5xx, a dropped IMAP connection."""


class ConnectorOutcomeUnknownError(ConnectorError, OutcomeUnknownError):
    """The request may have been applied remotely; reconcile before retrying."""


class ConnectorPermanentError(ConnectorError, PermanentError):
    """Retrying cannot help: bad request, rejected data."""


class AuthenticationError(ConnectorPermanentError):
    """The remote service refused the credentials (HTTP 401/403, IMAP/SMTP login failure)."""


class RemoteNotFoundError(ConnectorPermanentError):
    """The remote resource does not exist (HTTP 404, missing folder)."""


class ConflictError(ConnectorPermanentError):
    """The remote service reports a conflict (HTTP 409), e.g. a record that already exists."""


class RateLimitedError(ConnectorTransientError):
    """HTTP 429 or an equivalent throttling answer; ``retry_after`` says how long to wait."""


class ServerError(ConnectorTransientError):
    """HTTP 5xx or an equivalent temporary server failure."""


class ConnectorTimeoutError(ConnectorTransientError):
    """The remote side did not answer in time (before the request could have been applied)."""


class ConnectionFailedError(ConnectorTransientError):
    """The connection could not be made: DNS, refused, unreachable, TLS handshake."""


class TlsError(ConnectorPermanentError):
    """The server's certificate could not be verified; retrying will not change that."""


class MalformedResponseError(ConnectorTransientError):
    """The remote side answered something that is not the documented shape (e.g. broken JSON)."""


class EgressDeniedError(ConnectorPermanentError):
    """The host is not on the allow-list built from the configured accounts, providers and CRMs."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"refused to contact {host!r}: it is not on the allow-list of configured services"
        )
        self.host = host


class LocalMailboxError(ConnectorPermanentError):
    """A local mail file or folder (a folder of .eml files, a Maildir, an mbox, the outbox) cannot be
    used: it is missing, is not that kind of mailbox, or the permissions forbid reading or writing it.
    ``path`` names the file or folder."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class LocalMailboxIOError(ConnectorTransientError):
    """Reading or writing a local mail file failed in a way that may pass (disk full, I/O error).
    ``path`` names the file or folder."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path
