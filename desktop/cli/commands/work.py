"""``work``: triage the profile's runs in this process — one of several sharing a backlog."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from desktop.cli.context import CommandContext
from desktop.cli.output import print_json
from engine.durable.runner import RunnerStats

#: Seconds between looks for new runs while the ingesting process is still at work.
IDLE_WAIT_S = 0.05


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the command of this module."""
    work = sub.add_parser(
        "work",
        help="process runs (no polling) until none can progress; run several to share a big backlog",
    )
    work.add_argument(
        "--until-stdin-closes",
        action="store_true",
        help="keep looking for new runs until standard input is closed, then finish and exit",
    )
    work.add_argument("--json", action="store_true", help="print the runner's counts as JSON")
    work.set_defaults(handler=cmd_work)


def cmd_work(ctx: CommandContext) -> int:
    """``work``: drive runs until idle (and, with ``--until-stdin-closes``, until stdin closes)."""
    service = ctx.service
    stop = threading.Event()
    no_more_runs = threading.Event()
    if ctx.args.until_stdin_closes:
        threading.Thread(target=_wait_for_eof, args=(no_more_runs,), name="stdin-eof", daemon=True).start()
    else:
        no_more_runs.set()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        no_more_runs.set()

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    totals = RunnerStats()
    try:
        while not stop.is_set():
            last_pass = no_more_runs.is_set()
            stats = service.process(stop=stop)
            totals.add(stats)
            if stats.runs == 0:
                if last_pass:
                    break
                no_more_runs.wait(IDLE_WAIT_S)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if ctx.args.json:
        print_json(dict(totals.__dict__))
    else:
        print(
            f"Processed {totals.runs} run(s): {totals.completed} closed, {totals.waiting} now waiting "
            f"for review, {totals.retrying} to retry, {totals.failed} failed."
        )
    return 0


def _wait_for_eof(done: threading.Event) -> None:
    try:
        while sys.stdin is not None and sys.stdin.buffer.read(65536):  # no stdin: nothing to wait for
            pass
    except (OSError, ValueError):
        pass
    done.set()
