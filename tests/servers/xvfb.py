"""A virtual X display (Xvfb) for tests and tools that need a real window (screenshots).

GUI tests normally use QT_QPA_PLATFORM=offscreen; this is for the ones that must see pixels.
Xvfb picks a free display number itself (-displayfd) so parallel sessions never collide.
"""

from __future__ import annotations

import os
import select
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.binaries import requires_binary
from tests.support.processes import START_TIMEOUT_S, ServerStartError, log_tail, start_process, stop_process

SCREEN = "1280x800x24"


class XvfbServer:
    """One Xvfb process; `display` is the DISPLAY value (":N") once started."""

    def __init__(self, binary: str, log_file: Path) -> None:
        """Prepare (not start) Xvfb with its output going to `log_file`."""
        self.binary = binary
        self.log_file = log_file
        self.display = ""
        self.start_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """True while Xvfb is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start Xvfb and wait until it reports the display it serves (it is ready then)."""
        started = time.monotonic()
        read_end, write_end = os.pipe()
        try:
            argv = [self.binary, "-displayfd", str(write_end), "-screen", "0", SCREEN, "-nolisten", "tcp"]
            self._process = start_process(argv, self.log_file, pass_fds=[write_end])
            os.close(write_end)
            write_end = -1
            number = self._read_display_number(read_end)
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
        self.display = f":{number}"
        self.start_seconds = time.monotonic() - started

    def stop(self) -> None:
        """Stop Xvfb by PID."""
        if self._process is not None:
            stop_process(self._process)
            self._process = None

    def _read_display_number(self, fd: int) -> int:
        """Read the display number Xvfb writes to the -displayfd pipe when it is ready."""
        data = b""
        deadline = time.monotonic() + START_TIMEOUT_S
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            readable, _, _ = select.select([fd], [], [], max(remaining, 0))
            chunk = os.read(fd, 64) if readable else b""
            if not chunk:
                if self._process is not None:
                    stop_process(self._process)
                    self._process = None
                raise ServerStartError("Xvfb did not report a display\n" + log_tail(self.log_file))
            data += chunk
        return int(data.strip())


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """Start Xvfb (1280x800x24, no TCP) for the session and yield its DISPLAY string, e.g. ":42"."""
    binary = requires_binary("Xvfb", "xvfb")
    with tempfile.TemporaryDirectory(prefix="inbox-triage-xvfb-") as directory:
        server = XvfbServer(binary, Path(directory) / "xvfb.log")
        server.start()
        try:
            yield server.display
        finally:
            server.stop()
