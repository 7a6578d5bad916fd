"""A TCP proxy on loopback that counts the IMAP commands a client sends and can cut connections.

Used with plain IMAP (security ``none`` is allowed on loopback) so the proxy can read the
commands: an independent count of what a poll costs on the wire, and a way to drop every open
connection at once (as a NAT box or a flaky Wi-Fi does) without restarting the server.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.support.ports import LOOPBACK

_COMMAND = re.compile(rb"^[A-Za-z0-9.]+ ([A-Za-z]+)")


class CountingProxy:
    """Forwards 127.0.0.1:port to a target; records each client command's name."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._commands: list[str] = []
        self._sockets: list[socket.socket] = []
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def commands(self) -> list[str]:
        """Command names seen so far (upper case), in order."""
        with self._lock:
            return list(self._commands)

    def reset(self) -> None:
        """Forget the commands seen so far."""
        with self._lock:
            self._commands.clear()

    def cut(self) -> None:
        """Close every open connection (both sides), as a dropped network would."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        """Stop accepting and cut every connection."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        self.cut()
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        pending = b""
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if count:
                    pending = self._count(pending + data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _count(self, data: bytes) -> bytes:
        *lines, rest = data.split(b"\r\n")
        with self._lock:
            for line in lines:
                match = _COMMAND.match(line)
                if match:
                    self._commands.append(match.group(1).decode().upper())
        return rest


@pytest.fixture
def counting_proxy_factory() -> Iterator[type[CountingProxy]]:
    """Build proxies (closed after the test): ``factory(host, port)``."""
    proxies: list[CountingProxy] = []

    class _Factory(CountingProxy):
        def __init__(self, target_host: str, target_port: int) -> None:
            super().__init__(target_host, target_port)
            proxies.append(self)

    yield _Factory
    for proxy in proxies:
        proxy.close()
