"""Push: watch a folder with IMAP IDLE (RFC 2177) on a thread of its own and report new mail.

:class:`IdleWatcher` keeps its own connection (IDLE blocks a connection), EXAMINEs the folder
read-only and idles. Every ``EXISTS`` the server pushes calls ``on_new_mail(account)`` within
milliseconds; the caller then polls (the watcher fetches nothing itself). The RFC asks clients to
end IDLE at least every 29 minutes; the watcher sends DONE and IDLE again at ``reidle_s``.

When the connection drops the watcher reconnects with backoff, announcing "reconnecting in 8 s"
through the status callback, and calls ``on_new_mail`` once connected again, since mail may have
arrived meanwhile. A refused login is retried at the slowest backoff rate. ``stop()`` wakes the
thread at once (a self-pipe next to the socket in ``select``), ends IDLE, logs out and joins.
Servers without IDLE are reported once ("polling only") and the watcher ends.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable

from connectors.errors import ConnectorError, ConnectorTransientError
from connectors.imap.client import ImapClient, open_client
from connectors.imap.endpoint import Endpoint
from connectors.imap.errors import ImapConnectionLostError
from connectors.imap.login import Login
from connectors.imap.session import Backoff, ConnectionStatus, StatusCallback, StatusState, format_delay

log = logging.getLogger(__name__)

#: RFC 2177: re-issue IDLE at least every 29 minutes.
REIDLE_S = 29 * 60.0
#: Seconds ``stop`` waits for the thread to end.
STOP_TIMEOUT_S = 10.0


class IdleWatcher:
    """One account's IDLE thread."""

    def __init__(
        self,
        endpoint: Endpoint,
        login: Login,
        *,
        account: str,
        folder: str,
        on_new_mail: Callable[[str], None],
        status: StatusCallback | None = None,
        backoff: Backoff | None = None,
        reidle_s: float = REIDLE_S,
    ) -> None:
        self.endpoint = endpoint
        self.login = login
        self.account = account
        self.folder = folder
        self._on_new_mail = on_new_mail
        self._status = status
        self.backoff = backoff or Backoff()
        self.reidle_s = reidle_s
        self._stop = threading.Event()
        self.idling = threading.Event()
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.notifications = 0
        self.idle_commands = 0
        self._counted = threading.Condition()

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            raise RuntimeError("an IdleWatcher can be started once")
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name=f"imap-idle-{self.account}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """End IDLE, log out and wait for the thread to finish."""
        self._stop.set()
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError(f"the IDLE watcher of {self.account} did not stop within {timeout} s")
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()

    def wait_for_idle_commands(self, count: int, timeout: float) -> bool:
        """Block until ``count`` IDLE commands have been issued (re-IDLEs included), or time out."""
        with self._counted:
            return self._counted.wait_for(lambda: self.idle_commands >= count, timeout)

    # --- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    if not self._watch(catch_up=failures > 0):
                        return
                    failures = 0
                except ConnectorTransientError as exc:
                    failures += 1
                    self._wait_after(failures, f"{self.account}: {exc}")
                except ConnectorError as exc:
                    failures = max(failures + 1, 64)  # the slowest rate
                    self._wait_after(failures, f"{self.account}: {exc}", state="offline")
        except Exception:
            log.exception("%s: the IDLE watcher failed", self.account)
            self._report("offline", f"{self.account}: push notifications stopped after an internal error")
            return
        finally:
            self.idling.clear()
        self._report("stopped", f"{self.account}: push notifications stopped")

    def _wait_after(self, failures: int, why: str, *, state: StatusState = "reconnecting") -> None:
        self.idling.clear()
        if self._stop.is_set():
            return
        delay = self.backoff.delay(failures)
        self._report(state, f"{why}; reconnecting in {format_delay(delay)}", delay)
        self._stop.wait(delay)

    def _watch(self, *, catch_up: bool) -> bool:
        """Connect and idle until stopped (True) or the server cannot IDLE (False)."""
        client = open_client(self.endpoint, self.login, unbuffered=True)
        try:
            if not client.has("IDLE"):
                self._report(
                    "offline",
                    f"{self.account}: the server does not offer IDLE; new mail arrives on the poll schedule",
                )
                return False
            client.select(self.folder, readonly=True)
            self._report("idle", f"{self.account}: watching {self.folder} for new mail")
            if catch_up:
                self._notify()
            while not self._stop.is_set():
                self._idle_once(client)
            return True
        finally:
            self.idling.clear()
            client.logout()

    def _idle_once(self, client: ImapClient) -> None:
        """One IDLE command: wait for pushes until the re-IDLE deadline or stop, then DONE."""
        client.idle_start()
        with self._counted:
            self.idle_commands += 1
            self._counted.notify_all()
        self.idling.set()
        deadline = time.monotonic() + self.reidle_s
        sock = client.socket()
        wake = self._wake_r
        assert wake is not None
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if not client.has_buffered_data():
                readable, _, _ = select.select([sock, wake], [], [], remaining)
                if wake in readable:
                    self._drain_wake()
                    continue
                if not readable:
                    continue
            self._handle(client.idle_read_line())
        self.idling.clear()
        for line in client.idle_done():
            self._handle(line)

    def _handle(self, line: bytes) -> None:
        words = line.split()
        if len(words) >= 3 and words[0] == b"*" and words[2].upper() == b"EXISTS":
            self._notify()
        elif len(words) >= 2 and words[0] == b"*" and words[1].upper() == b"BYE":
            raise ImapConnectionLostError(f"the server ended the session ({line!r})")

    def _notify(self) -> None:
        self.notifications += 1
        try:
            self._on_new_mail(self.account)
        except Exception:
            log.exception("%s: the new-mail callback failed", self.account)

    def _drain_wake(self) -> None:
        if self._wake_r is None:
            return
        try:
            self._wake_r.recv(64)
        except OSError:
            return

    def _report(self, state: StatusState, message: str, retry_in_s: float | None = None) -> None:
        if self._status is not None:
            self._status(ConnectionStatus(self.account, state, message, retry_in_s))
