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
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from desktop.errors import DesktopError
from desktop.self_launch import child_env, command_line_command, hidden_window_flags
from engine.durable.runner import RunnerStats
from engine.durable.states import CLAIMABLE_STATES
from engine.ingest import IngestReport
from engine.service import PollReport, TriageService

#: The most processes one poll may use (more than the cores only adds contention).
MAX_PROCESSES = 32

#: ``auto`` starts worker processes once this many runs wait to be triaged.
AUTO_BACKLOG = 200

#: ``auto`` uses at most this many processes (more rarely pays with one SQLite writer).
AUTO_MAX = 4

#: Seconds to wait for the workers to finish once their stdin is closed.
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
        command = [*command_line_command(), "--profile", str(self.profile_root)]
        command += ["work", "--until-stdin-closes", "--json"]
        for index in range(self.count):
            stderr_path = self.log_dir / f"worker-{index + 1}.log"
            with stderr_path.open("wb") as stderr:
                process = subprocess.Popen(  # noqa: S603 - this app itself, on its own profile
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    env=child_env(),
                    creationflags=hidden_window_flags(),
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

        Raises :class:`WorkerProcessError` naming every worker that failed (after waiting for all
        of them); the runs a failed worker held are freed by the next ``resume``.
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


def auto_process_count(cpus: int | None = None) -> int:
    """How many processes ``auto`` uses for a big backlog: one per core, at most :data:`AUTO_MAX`."""
    return max(1, min(cpus if cpus is not None else (os.cpu_count() or 1), AUTO_MAX))


class ExtraProcesses:
    """The worker processes of one pass, started now or once the backlog is big enough."""

    def __init__(self, service: TriageService, count: int, *, start_at_backlog: int) -> None:
        self.service = service
        self.count = count
        self.start_at_backlog = start_at_backlog
        self.stats = RunnerStats()
        self.pool: WorkerProcesses | None = None
        self._new_runs = 0

    def consider(self, backlog: int) -> None:
        """Start the workers if ``backlog`` runs wait (only once; never with a count of 0)."""
        if self.pool is not None or self.count <= 0 or backlog < self.start_at_backlog:
            return
        self.service.classifier()  # trained and cached once, before the workers load it
        profile = self.service.profile
        self.pool = WorkerProcesses(profile.root, self.count, log_dir=profile.log_dir)
        self.pool.start()

    def ingested(self, batch: IngestReport) -> None:
        """``on_batch`` of an ingest: count its new runs towards the backlog."""
        self._new_runs += batch.new_runs
        self.consider(self._new_runs)

    def finish(self, *, stop_now: bool) -> None:
        """Wait for the workers (their counts join ``stats``), or stop them now; then free the
        runs of any worker that died (``resume``)."""
        pool, self.pool = self.pool, None
        if pool is None:
            return
        try:
            if stop_now:
                pool.terminate()
            else:
                self.stats.add(pool.join())
        finally:
            self.service.resume()


@contextmanager
def extra_processes(
    service: TriageService, processes: int | None, *, stop: threading.Event | None = None
) -> Iterator[ExtraProcesses]:
    """Worker processes on ``service``'s profile for the ``with`` block: ``processes - 1`` of them.

    Enter it before ingesting: the workers triage the runs each ingested batch creates while this
    process is still downloading. With ``processes`` of None (``auto``) they start only once
    :data:`AUTO_BACKLOG` runs wait — runs already pending, or new ones as ingest reports them
    (pass ``extra.ingested`` as ``on_batch``) — so an ordinary poll of a few emails starts none.
    Leaving the block tells them no more runs are coming and waits for them; ``extra.stats`` then
    holds what they did. When ``stop`` is set (or the block raises) they are stopped instead, and
    their unfinished runs go on at the next pass.
    """
    if processes is None:
        extra = ExtraProcesses(service, auto_process_count() - 1, start_at_backlog=AUTO_BACKLOG)
        extra.consider(service.queries.count_runs(states=CLAIMABLE_STATES))
    else:
        extra = ExtraProcesses(service, processes - 1, start_at_backlog=0)
        extra.consider(0)
    try:
        yield extra
    except BaseException:
        extra.finish(stop_now=True)
        raise
    extra.finish(stop_now=stop is not None and stop.is_set())


def poll_in_processes(
    service: TriageService, processes: int | None, *, workers: int = 1, stop: threading.Event | None = None
) -> PollReport:
    """One poll of ``service`` with ``processes - 1`` worker processes triaging alongside it.

    With ``processes`` of 1 this is simply ``service.poll``; None means ``auto`` (see
    :func:`extra_processes`).
    """
    with extra_processes(service, processes, stop=stop) as extra:
        report = service.poll(workers=workers, stop=stop, on_batch=extra.ingested)
    report.runner.add(extra.stats)
    return report
