"""A reusable IMAP connection that reconnects with exponential backoff and says so.

:class:`ImapSession` keeps one logged-in connection between polls (a poll that finds nothing new
then costs a single SELECT). When the connection drops, the next command reconnects: at once the
first time (servers close idle connections; that is normal), then after 1, 2, 4, 8... seconds,
each wait announced through the status callback ("reconnecting in 8 s") so the status bar can
show it. After ``max_attempts`` failures the error is raised to the caller (the poll reports it
and the next poll starts again). Permanent failures (a refused login, a bad certificate) are
raised at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from connectors.errors import ConnectorTransientError
from connectors.imap.client import FolderStatus, ImapClient, open_client
from connectors.imap.endpoint import Endpoint
from connectors.imap.errors import ImapConnectionLostError
from connectors.imap.login import Login

_T = TypeVar("_T")

StatusState = Literal["connected", "reconnecting", "offline", "idle", "stopped"]


@dataclass(frozen=True)
class ConnectionStatus:
    """What a connection is doing, for the status bar: ``message`` is ready to show."""

    account: str
    state: StatusState
    message: str
    retry_in_s: float | None = None


StatusCallback = Callable[[ConnectionStatus], None]


@dataclass(frozen=True)
class Backoff:
    """Reconnection delays: ``initial_s`` doubling up to ``max_s``; ``max_attempts`` per operation."""

    initial_s: float = 1.0
    multiplier: float = 2.0
    max_s: float = 300.0
    max_attempts: int = 5

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure (counting from 1)."""
        exponent = min(max(0, failures - 1), 64)
        return float(min(self.max_s, self.initial_s * self.multiplier**exponent))


def format_delay(seconds: float) -> str:
    """``8 s``, ``0.5 s`` or ``2 min`` for status messages."""
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    if seconds >= 10 or seconds == int(seconds):
        return f"{seconds:.0f} s"
    return f"{seconds:.1f} s"


class ImapSession:
    """One account's reusable connection; thread-safe (one command group at a time)."""

    def __init__(
        self,
        endpoint: Endpoint,
        login: Login,
        *,
        account: str,
        backoff: Backoff | None = None,
        status: StatusCallback | None = None,
        condstore: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.login = login
        self.account = account
        self.backoff = backoff or Backoff()
        self._status = status
        self._condstore = condstore
        self._client: ImapClient | None = None
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self.connects = 0
        self._commands_before = 0

    @property
    def commands_sent(self) -> int:
        """IMAP commands sent by this session so far, over all its connections."""
        with self._lock:
            return self._commands_before + (self._client.commands_sent if self._client else 0)

    def run(self, operation: Callable[[ImapClient], _T]) -> _T:
        """Run ``operation`` on a live connection, reconnecting with backoff when it drops."""
        with self._lock:
            failures = 0
            while True:
                if self._closed.is_set():
                    raise ImapConnectionLostError(f"{self.account}: the connection was closed")
                had_connection = self._client is not None
                try:
                    return operation(self._connected())
                except ConnectorTransientError as exc:
                    self._drop(graceful=False)
                    failures += 1
                    if failures >= self.backoff.max_attempts:
                        self._report("offline", f"{self.account}: cannot reach {self.endpoint.host} ({exc})")
                        raise
                    delay = 0.0 if had_connection and failures == 1 else self.backoff.delay(failures)
                    self._report(
                        "reconnecting",
                        f"{self.account}: {exc}; reconnecting in {format_delay(delay)}",
                        delay,
                    )
                    if delay and self._closed.wait(delay):
                        raise ImapConnectionLostError(f"{self.account}: the connection was closed") from exc

    def select(self, client: ImapClient, folder: str, *, refresh: bool = False) -> FolderStatus:
        """The folder's status, selecting it when it is not selected yet (or ``refresh``)."""
        if not refresh and client.selected is not None and client.selected.name == folder:
            return client.selected
        return client.select(folder)

    def close(self) -> None:
        """Log out and refuse further commands (wakes a reconnect wait)."""
        self._closed.set()
        client = self._client
        if client is not None:
            client.abort()
        with self._lock:
            self._drop()

    def disconnect(self) -> None:
        """Log out now; the next command connects again."""
        with self._lock:
            self._drop()

    def _connected(self) -> ImapClient:
        if self._client is None:
            client = open_client(self.endpoint, self.login)
            try:
                if self._condstore and client.has("CONDSTORE"):
                    client.enable("CONDSTORE")
            except BaseException:
                client.logout()
                raise
            self._client = client
            self.connects += 1
            if self.connects > 1:
                self._report("connected", f"{self.account}: connected to {self.endpoint.host} again")
        return self._client

    def _drop(self, *, graceful: bool = True) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._commands_before += client.commands_sent
            if graceful:
                client.logout()
            else:
                client.close()

    def _report(self, state: StatusState, message: str, retry_in_s: float | None = None) -> None:
        if self._status is not None:
            self._status(ConnectionStatus(self.account, state, message, retry_in_s))
