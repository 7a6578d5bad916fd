"""Run a server as a subprocess in its own process group, wait for its port, and stop it by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
_LOG_TAIL_CHARS = 4000


class ServerStartError(RuntimeError):
    """A test server did not start listening in time (the message carries the tail of its log)."""


def log_tail(*paths: Path | None) -> str:
    """Return the last few thousand characters of each existing log file, labelled by path."""
    parts = []
    for path in paths:
        if path is not None and path.exists():
            text = path.read_text(errors="replace")[-_LOG_TAIL_CHARS:]
            parts.append(f"--- {path} ---\n{text}")
    return "\n".join(parts) or "(no log written)"


def start_process(
    argv: Sequence[str],
    output_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new process group (session), stdout and stderr appended to `output_path`.

    `user` switches to that account (and its primary group, no supplementary groups) in the child:
    PostgreSQL refuses to run as root.
    """
    with output_path.open("ab") as output:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            pass_fds=tuple(pass_fds),
            user=user,
            group=_primary_group(user) if user is not None else None,
            extra_groups=[] if user is not None else None,
        )


def wait_for_port(
    host: str,
    port: int,
    *,
    process: subprocess.Popen[bytes] | None = None,
    logs: Sequence[Path] = (),
    timeout: float = START_TIMEOUT_S,
) -> float:
    """Poll until `host:port` accepts a TCP connection; return the seconds it took.

    Raises ServerStartError (with the server's log) when the process exits first or time runs out.
    """
    started = time.monotonic()
    delay = 0.005
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return time.monotonic() - started
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise ServerStartError(
                f"{process.args!r} exited with {process.returncode} before {host}:{port} opened\n"
                + log_tail(*logs)
            )
        if time.monotonic() - started > timeout:
            raise ServerStartError(
                f"nothing listening on {host}:{port} after {timeout} s\n" + log_tail(*logs)
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def stop_process(
    process: subprocess.Popen[bytes],
    *,
    sig: signal.Signals = signal.SIGTERM,
    timeout: float = STOP_TIMEOUT_S,
) -> None:
    """Stop a server by PID: send `sig`, wait, SIGKILL its group after `timeout`, confirm it is gone."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait(timeout=timeout)
    if pid_alive(process.pid):
        raise RuntimeError(f"process {process.pid} ({process.args!r}) still exists after stopping it")


def pid_alive(pid: int) -> bool:
    """Return True while `kill -0 pid` succeeds."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(pid: int) -> None:
    """SIGKILL the process group led by `pid` (the server started it with start_new_session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _primary_group(user: str) -> int:
    """Return the primary group id of `user`."""
    import pwd

    return pwd.getpwnam(user).pw_gid
