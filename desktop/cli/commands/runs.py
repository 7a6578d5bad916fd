"""``run --once``, ``serve``, ``runs list``, ``runs retry``."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable
from types import FrameType

from connectors.imap.idle import IdleWatcher
from connectors.imap.session import ConnectionStatus, StatusCallback
from desktop.cli.context import CommandContext
from desktop.cli.output import print_json, print_table
from desktop.cli.shapes import run_json
from desktop.worker_processes import MAX_PROCESSES, extra_processes, poll_in_processes
from engine.durable.states import ALL_STATES
from engine.ingest import IngestReport
from engine.service import PollReport, TriageService


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module."""
    run = sub.add_parser("run", help="ingest new mail and process every run as far as it can go")
    run.add_argument("--once", action="store_true", required=True, help="one pass, then exit")
    run.add_argument(
        "--source", help="demo | eml:DIR | maildir:DIR | mbox:FILE (default: configured accounts)"
    )
    run.add_argument("--workers", type=int, default=1, help="runs processed in parallel (default 1)")
    _add_processes_option(run, default=1)
    run.add_argument("--json", action="store_true", help="print a JSON summary")
    run.set_defaults(handler=cmd_run_once)

    serve = sub.add_parser("serve", help="poll on the configured schedule until stopped (SIGINT/SIGTERM)")
    _add_processes_option(serve, default=None)
    serve.set_defaults(handler=cmd_serve)

    runs = sub.add_parser("runs", help="list and retry runs")
    runs_sub = runs.add_subparsers(dest="runs_command", required=True)
    lst = runs_sub.add_parser("list", help="list runs, newest first")
    lst.add_argument(
        "--state", choices=ALL_STATES, action="append", help="only runs in this state (repeatable)"
    )
    lst.add_argument("--limit", type=int, default=100)
    lst.add_argument("--offset", type=int, default=0)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_runs_list)
    retry = runs_sub.add_parser("retry", help="retry a failed run from the step that failed")
    retry.add_argument("run", type=int)
    retry.set_defaults(handler=cmd_runs_retry)


def _add_processes_option(parser: argparse.ArgumentParser, default: int | None) -> None:
    parser.add_argument(
        "--processes",
        type=_process_count,
        default=default,
        metavar="N|auto",
        help="triage in N processes, this one included (up to one per CPU core helps with a big "
        "backlog such as a first sync); auto: one per core, up to 4, once 200 runs wait "
        f"(default {'auto' if default is None else default})",
    )


def _process_count(value: str) -> int | None:
    if value == "auto":
        return None
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is neither 'auto' nor a whole number") from None
    if not 1 <= count <= MAX_PROCESSES:
        raise argparse.ArgumentTypeError(f"give between 1 and {MAX_PROCESSES} processes, not {count}")
    return count


def run_pass(
    service: TriageService, source_spec: str | None, workers: int, processes: int | None = 1
) -> dict[str, object]:
    """Ingest from the given source (or the configured ones) and process; return a summary."""
    service.resume()
    if source_spec:
        from desktop.wiring import source_from_spec

        source = source_from_spec(source_spec)
        with extra_processes(service, processes) as extra:
            try:
                ingest = service.ingest(source, on_batch=extra.ingested)
            finally:
                source.close()
            stats = service.process(workers=workers)
        stats.add(extra.stats)
        service.daily_maintenance()
        errors: dict[str, str] = {}
    else:
        report = poll_in_processes(service, processes, workers=workers)
        ingest, stats, errors = report.ingest, report.runner, report.errors
    counts = service.queries.state_counts()
    return summary_json(ingest, stats.__dict__, counts.counts, errors)


def summary_json(
    ingest: IngestReport, runner: dict[str, int], states: dict[str, int], errors: dict[str, str]
) -> dict[str, object]:
    """The ``run --once --json`` shape."""
    return {
        "ingested": {"fetched": ingest.fetched, "new_runs": ingest.new_runs, "duplicates": ingest.duplicates},
        "processed": dict(runner),
        "states": dict(sorted(states.items())),
        "source_errors": errors,
    }


def cmd_run_once(ctx: CommandContext) -> int:
    """``run --once``."""
    summary = run_pass(ctx.service, ctx.args.source, ctx.args.workers, ctx.args.processes)
    if ctx.args.json:
        print_json(summary)
    else:
        ingested = summary["ingested"]
        assert isinstance(ingested, dict)
        print(
            f"Fetched {ingested['fetched']} message(s): {ingested['new_runs']} new, "
            f"{ingested['duplicates']} already known."
        )
        states = summary["states"]
        assert isinstance(states, dict)
        print("Runs by state: " + ", ".join(f"{k} {v}" for k, v in states.items()))
        for name, error in (summary["source_errors"] or {}).items():  # type: ignore[attr-defined]
            print(f"Source {name}: {error}")
    return 0


class IdlePush:
    """New mail pushed by IMAP IDLE triggers a poll within moments.

    One :class:`~connectors.imap.idle.IdleWatcher` per IMAP account (``idle`` on) reports new mail;
    a single thread then runs ``poll_now`` (the scheduler's "check now"). When a poll is already
    running, the mail may have arrived after it looked, so another poll follows as soon as that
    one has finished. Pushes that arrive together are served by one poll.
    """

    #: Seconds between attempts while another poll is still running.
    BUSY_RETRY_S = 0.1

    def __init__(self, poll_now: Callable[[], bool], stop: threading.Event) -> None:
        self._poll_now = poll_now
        self._stop = stop
        self._wanted = threading.Condition()
        self._pending = False
        self._thread = threading.Thread(target=self._run, name="idle-push", daemon=True)
        self.watchers: list[IdleWatcher] = []

    def start(self, service: TriageService, status: StatusCallback | None = None) -> int:
        """Start the watchers of the profile's IMAP accounts; return how many."""
        from desktop.wiring import start_idle_watchers

        self.start_polling()
        self.watchers = start_idle_watchers(service, self.notify, status)
        return len(self.watchers)

    def start_polling(self) -> None:
        """Start the thread that polls when notified (``start`` does this too)."""
        if not self._thread.is_alive():
            self._thread.start()

    def notify(self, account: str) -> None:
        """Called by a watcher: ``account`` has new mail."""
        with self._wanted:
            self._pending = True
            self._wanted.notify_all()

    def stop(self) -> None:
        """Stop the watchers and the polling thread."""
        for watcher in self.watchers:
            watcher.stop()
        with self._wanted:
            self._wanted.notify_all()
        if self._thread.is_alive():
            self._thread.join(10)

    def _run(self) -> None:
        while True:
            with self._wanted:
                self._wanted.wait_for(lambda: self._pending or self._stop.is_set())
                if self._stop.is_set():
                    return
                self._pending = False
            while not self._poll_now():  # a poll is running: poll again once it is done
                if self._stop.wait(self.BUSY_RETRY_S):
                    return


def cmd_serve(ctx: CommandContext) -> int:
    """``serve``: poll on schedule and on IMAP IDLE pushes until SIGINT/SIGTERM, then shut down cleanly."""
    from desktop.scheduling import PollScheduler

    service = ctx.service
    service.resume()
    stop = threading.Event()

    def report(result: object) -> None:
        if isinstance(result, PollReport):
            errors = "".join(f"; {name}: {error}" for name, error in result.errors.items())
            print(
                f"polled: {result.ingest.new_runs} new email(s), "
                f"{result.runner.waiting} now waiting for review, "
                f"{result.runner.completed} closed, {result.runner.failed} failed{errors}",
                flush=True,
            )

    def connection_news(status: ConnectionStatus) -> None:
        print(status.message, flush=True)

    processes = ctx.args.processes
    scheduler = PollScheduler(
        lambda: poll_in_processes(service, processes, stop=stop), service.settings.schedule, on_polled=report
    )
    push = IdlePush(lambda: scheduler.run_once(manual=True), stop)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        scheduler.start()
        watched = push.start(service, connection_news)
        print(
            f"Serving profile {service.profile.root}; polling every "
            f"{service.settings.schedule().poll_minutes} min"
            + (f", new mail pushed by IMAP IDLE for {watched} account(s)" if watched else "")
            + ". Stop with Ctrl+C.",
            flush=True,
        )
        stop.wait()
        print("Stopping: waiting for the current poll to finish...", flush=True)
        push.stop()
        scheduler.shutdown(wait=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def cmd_runs_list(ctx: CommandContext) -> int:
    """``runs list``."""
    runs = ctx.service.queries.runs(states=ctx.args.state or (), limit=ctx.args.limit, offset=ctx.args.offset)
    if ctx.args.json:
        print_json([run_json(r) for r in runs])
    else:
        print_table(
            ["RUN", "STATE", "CATEGORY", "CONF", "FROM", "SUBJECT", "ERROR"],
            [[r.run_id, r.state, r.category, r.confidence, r.sender, r.subject, r.error] for r in runs],
        )
    return 0


def cmd_runs_retry(ctx: CommandContext) -> int:
    """``runs retry RUN``: back to the runner, then one pass for it."""
    service = ctx.service
    service.retry(ctx.args.run)
    service.runner().drive(ctx.args.run)
    run = service.queries.run(ctx.args.run)
    print(f"Run {run.run_id} is now {run.state}" + (f": {run.error}" if run.error else "."))
    return 0
