"""One running app per profile: a second launch asks the first to come forward, then exits.

The first instance listens on a local socket (a Unix socket or a Windows named pipe) whose
name is derived from the profile folder; a later launch on the same profile connects, sends
``activate`` and quits. A stale socket left by a crashed instance is removed before listening.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

ACTIVATE = b"activate\n"
CONNECT_TIMEOUT_MS = 300


def server_name(profile_root: Path) -> str:
    """The local socket name of the instance that owns ``profile_root``."""
    digest = hashlib.sha256(str(Path(profile_root).resolve()).encode("utf-8")).hexdigest()[:20]
    return f"inbox-triage-{digest}"


def ask_running_instance(name: str, *, timeout_ms: int = CONNECT_TIMEOUT_MS) -> bool:
    """Tell the instance listening on ``name`` to come forward; False when none is running."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(ACTIVATE)
    socket.flush()
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(timeout_ms)
    return True


class SingleInstance(QObject):
    """The listening side: emits :attr:`activate_requested` when another launch asks."""

    activate_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.newConnection.connect(self._on_connection)

    def listen(self) -> bool:
        """Start listening (removing a stale socket first); False if the name cannot be taken."""
        QLocalServer.removeServer(self.name)
        return bool(self._server.listen(self.name))

    def close(self) -> None:
        """Stop listening."""
        self._server.close()

    @Slot()
    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            if socket is None:
                break
            socket.readyRead.connect(self._ready_read)
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    @Slot()
    def _ready_read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        data = bytes(socket.readAll().data())
        if ACTIVATE.strip() in data:
            self.activate_requested.emit()


def claim_or_activate(profile_root: Path, parent: QObject | None = None) -> SingleInstance | None:
    """Become the instance for ``profile_root``; None when another one runs (it was asked to show)."""
    name = server_name(profile_root)
    if ask_running_instance(name):
        return None
    instance = SingleInstance(name, parent)
    instance.listen()
    return instance
