"""Extra engine processes that triage a profile's runs alongside this one.

Triage is CPU-bound Python, so one process uses one core. For a big backlog (the first sync of a
mailbox, a day of mail after a holiday) :class:`WorkerProcesses` starts more copies of this app
running ``inbox-triage work --until-stdin-closes`` on the same profile. They claim runs through
the same leases as this process (a run is driven by one process at a time, every step once), so
they need no other coordination: each computes steps with no lock held and takes its turn to
write. While this process is still ingesting, the workers keep looking for new runs; closing
their stdin (:meth:`WorkerProcesses.ingest_finished`) tells them to finish what is left and exit.
A worker that dies leaves its runs leased to a dead process; this process frees them (``resume``)
and the runs continue from their last checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from desktop.errors import DesktopError
from desktop.self_launch import child_env, self_command
from engine.durable.runner import RunnerStats
from engine.service import PollReport, TriageService

#: The most processes one poll may use (more than the cores only adds contention).
MAX_PROCESSES = 32

#: Seconds to wait for a worker to finish after its stdin was closed, per run still to do.
JOIN_TIMEOUT_S = 3600.0


class WorkerProcessError(DesktopError):
    """A worker process failed (its exit code and the end of its error output are in the message)."""


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    stderr_path: Path


class WorkerProcesses:
    """``count`` extra processes triaging the profile at ``profile_root`` until told to stop."""

    def __init__(self, profile_root: Path, count: int, *, log_dir: Path) -> None:
        if count < 0:
            raise ValueError("the number of worker processes cannot be negative")
        self.profile_root = profile_root
        self.count = count
        self.log_dir = log_dir
        self._workers: list[_Worker] = []

    def start(self) -> None:
        """Start the workers (each opens the profile and begins claiming runs at once)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = [*self_command(), "--profile", str(self.profile_root), "work", "--until-stdin-closes"]
        command.append("--json")
        for index in range(self.count):
            stderr_path = self.log_dir / f"worker-{index + 1}.log"
            with stderr_path.open("wb") as stderr:
                process = subprocess.Popen(  # noqa: S603 - this app itself, on its own profile
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    env=child_env(),
                )
            self._workers.append(_Worker(process, stderr_path))

    def ingest_finished(self) -> None:
        """Tell the workers no more runs are coming: they finish what is runnable, then exit."""
        for worker in self._workers:
            stdin, worker.process.stdin = worker.process.stdin, None  # communicate() must not flush it
            if stdin is not None:
                with contextlib.suppress(OSError):  # the worker has already gone: join reports it
                    stdin.close()

    def join(self, timeout_s: float = JOIN_TIMEOUT_S) -> RunnerStats:
        """Wait for every worker; return their runner counts added up.

        Raises :class:`WorkerProcessError` naming the first worker that failed; the others are
        still waited for, and runs a failed worker held are freed by the next ``resume``.
        """
        self.ingest_finished()
        totals = RunnerStats()
        failures: list[str] = []
        for index, worker in enumerate(self._workers, start=1):
            try:
                out, _ = worker.process.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                out, _ = worker.process.communicate()
                failures.append(f"worker {index} did not finish within {timeout_s:g} s and was stopped")
                continue
            if worker.process.returncode != 0:
                code = worker.process.returncode
                failures.append(f"worker {index} exited with code {code}: {_tail(worker.stderr_path)}")
                continue
            try:
                counts = json.loads(out.decode("utf-8"))
                totals.add(RunnerStats(**counts))
            except (ValueError, TypeError) as exc:
                failures.append(f"worker {index} printed no summary ({exc})")
        self._workers = []
        if failures:
            raise WorkerProcessError("; ".join(failures))
        return totals

    def terminate(self) -> None:
        """Stop the workers now (Ctrl+C): each finishes its current run's writes or none of them."""
        for worker in self._workers:
            if worker.process.poll() is None:
                worker.process.terminate()
        for worker in self._workers:
            try:
                worker.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.communicate()
        self._workers = []


def _tail(path: Path, limit: int = 400) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "(no error output)"
    if not text:
        return "(no error output)"
    last = text.splitlines()[-1]
    return last if len(last) <= limit else last[-limit:]


@contextmanager
def extra_processes(
    service: TriageService, processes: int, *, stop: threading.Event | None = None
) -> Iterator[RunnerStats]:
    """Run ``processes - 1`` worker processes on ``service``'s profile for the ``with`` block.

    Start it before ingesting: the workers triage the runs each ingested batch creates while this
    process is still downloading. Leaving the block tells them no more runs are coming and waits
    for them; the yielded counts then hold what they did. When ``stop`` is set (or the block
    raises) they are stopped instead, and their unfinished runs go on at the next pass.
    """
    extra = RunnerStats()
    if processes <= 1:
        yield extra
        return
    service.classifier()  # trained and cached once, before the workers load it
    pool = WorkerProcesses(service.profile.root, processes - 1, log_dir=service.profile.log_dir)
    pool.start()
    try:
        yield extra
    except BaseException:
        pool.terminate()
        service.resume()
        raise
    if stop is not None and stop.is_set():
        pool.terminate()
        service.resume()
        return
    try:
        extra.add(pool.join())
    finally:
        service.resume()  # frees the runs of a worker that died


def poll_in_processes(
    service: TriageService, processes: int, *, workers: int = 1, stop: threading.Event | None = None
) -> PollReport:
    """One poll of ``service`` with ``processes - 1`` worker processes triaging alongside it.

    With ``processes`` of 1 this is simply ``service.poll``.
    """
    with extra_processes(service, processes, stop=stop) as extra:
        report = service.poll(workers=workers, stop=stop)
    report.runner.add(extra)
    return report
