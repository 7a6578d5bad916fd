"""The process and binary helpers behind every server fixture."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.support.binaries import requires_binary
from tests.support.ports import free_port
from tests.support.processes import ServerStartError, pid_alive, start_process, stop_process, wait_for_port

IGNORES_SIGTERM = (
    "import signal, socket, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "server = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n"
    "time.sleep(60)\n"
)


def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    """A process that ignores SIGTERM is killed after the timeout, and its PID is gone."""
    log = tmp_path / "out.log"
    port = free_port()
    process = start_process([sys.executable, "-c", IGNORES_SIGTERM, str(port)], log)
    try:
        wait_for_port("127.0.0.1", port, process=process, logs=[log])  # SIGTERM is ignored from here on
        stop_process(process, timeout=0.2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not pid_alive(process.pid)


def test_wait_for_port_reports_an_early_exit_with_the_log(tmp_path: Path) -> None:
    """A server that dies before listening fails fast, showing what it printed."""
    log = tmp_path / "server.log"
    process = start_process([sys.executable, "-c", "import sys; sys.exit('bind failed: port in use')"], log)
    with pytest.raises(ServerStartError, match="bind failed: port in use"):
        wait_for_port("127.0.0.1", free_port(), process=process, logs=[log], timeout=10)


def test_wait_for_port_times_out(tmp_path: Path) -> None:
    """Nothing listening within the timeout raises ServerStartError."""
    with pytest.raises(ServerStartError, match="nothing listening"):
        wait_for_port("127.0.0.1", free_port(), timeout=0.05)


def test_free_port_is_bindable() -> None:
    """free_port returns a loopback port that can be bound right away."""
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_requires_binary_finds_an_existing_one() -> None:
    """The path of an installed program is returned."""
    assert Path(requires_binary("sh")).name == "sh"


def test_requires_binary_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside CI a missing binary skips, naming the package to install."""
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install no-such-package"):
        requires_binary("no-such-binary-for-inbox-triage", "no-such-package")


def test_requires_binary_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under CI=true a missing binary is a failure, not a skip."""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run, not skip"):
        requires_binary("no-such-binary-for-inbox-triage", "no-such-package")
