"""A lock between the processes (and threads) writing one SQLite database, taken before BEGIN.

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps and
retries with growing pauses (up to 100 ms). With several worker processes sharing a profile
that leaves the lock free while everyone sleeps. Writers therefore first queue on an OS file
lock beside the database (``flock`` on macOS and Linux, ``LockFileEx`` on Windows), which wakes
the next writer the moment the previous one commits. The lock only orders writers: SQLite's own
locking still guarantees correctness, so a writer that does not take it (an older copy of the
app, the ``sqlite3`` shell) is simply served by the busy handler as before, and when the file
lock cannot be used at all the app carries on without it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


class WriterLock:
    """An exclusive lock on ``path`` for this process's writers, re-entrant per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.RLock()
        self._fd: int | None = None
        self._depth = 0
        self._usable = True

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the ``with`` block."""
        with self._threads:
            self._depth += 1
            locked = self._depth == 1 and self._acquire()
            try:
                yield
            finally:
                self._depth -= 1
                if locked:
                    self._release()

    def close(self) -> None:
        """Close the lock file (the next ``held`` opens it again)."""
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _acquire(self) -> bool:
        if not self._usable:
            return False
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            _lock(self._fd)
        except OSError as exc:
            self._usable = False
            log.warning("writer lock %s unavailable (%s); SQLite's busy wait is used instead", self.path, exc)
            return False
        return True

    def _release(self) -> None:
        if self._fd is not None:
            try:
                _unlock(self._fd)
            except OSError as exc:
                log.warning("could not release writer lock %s: %s", self.path, exc)


if sys.platform == "win32":
    import ctypes
    import msvcrt
    from ctypes import wintypes

    class _Overlapped(ctypes.Structure):
        _fields_ = [
            ("Internal", ctypes.c_void_p),
            ("InternalHigh", ctypes.c_void_p),
            ("Offset", wintypes.DWORD),
            ("OffsetHigh", wintypes.DWORD),
            ("hEvent", wintypes.HANDLE),
        ]

    _LOCKFILE_EXCLUSIVE_LOCK = 0x2
    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]

    def _lock(fd: int) -> None:
        handle = msvcrt.get_osfhandle(fd)  # type: ignore[attr-defined,unused-ignore]
        if not _kernel32.LockFileEx(handle, _LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, ctypes.byref(_Overlapped())):
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined,unused-ignore]

    def _unlock(fd: int) -> None:
        handle = msvcrt.get_osfhandle(fd)  # type: ignore[attr-defined,unused-ignore]
        if not _kernel32.UnlockFileEx(handle, 0, 1, 0, ctypes.byref(_Overlapped())):
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined,unused-ignore]

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
