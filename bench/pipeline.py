"""Benchmark: generated emails through the whole embedded pipeline, the way a poll runs them.

A folder of N generated ``.eml`` files (1 in 250 malformed) is the mailbox. One poll of a fresh
SQLite profile (WAL, synchronous=FULL) ingests it in durable batches and drives every run through
parse → minimise → classify → CRM → draft → route (→ send → close), single worker. The offline
classifier is trained before the clock starts (a real profile caches it).

Two scenarios:
- ``as_shipped``: the default policies — nothing is auto-sent; spam and notifications are closed,
  everything else waits for review.
- ``auto_send``: enquiries and orders auto-send (threshold 0), so the send path (idempotent
  effect ledger + the durable local outbox, which fsyncs each reply) is measured too.

Prints per scenario ``emails_per_s`` (N / wall time of the poll, ingest included), ``p50_ms`` and
``p99_ms`` (time each run was driven, from its claim to its resting state; the batch's shared
write transaction, done once per 32 runs, is in ``emails_per_s`` but not here) and ``peak_rss_mb``
(the whole process). Last line: JSON with the as-shipped figures and the auto-send ones nested.

Usage: python bench/pipeline.py [--emails N]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.mailgen import write_folder
from connectors.local_folder import EmlFolderSource
from connectors.outbox import OutboxFolderSender
from engine.profile import Profile
from engine.service import Connections, TriageService, open_database
from engine.settings import OfficeSettings, Policy


def run_scenario(mailbox: Path, emails: int, *, auto_send: bool) -> dict[str, Any]:
    """One poll of a fresh profile over ``mailbox``; return the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        profile = Profile(Path(tmp))
        db = open_database(profile)
        source = EmlFolderSource(mailbox, account="bench")
        service = TriageService(
            profile, db, Connections(sender=OutboxFolderSender(profile.outbox_dir), sources={"bench": source})
        )
        office = OfficeSettings(office_name="Bench Office", reply_from="office@example.org")
        service.settings.save_office(office, actor="bench")
        if auto_send:
            for category in ("enquiry", "order"):
                service.settings.save_policy(Policy(category, mode="auto_send", threshold=0.0), actor="bench")
        service.classifier()  # trained and cached before timing, as in a real profile
        durations: list[float] = []
        service.runner().on_run_driven = lambda _run, seconds: durations.append(seconds * 1000)
        started = time.perf_counter()
        report = service.poll()
        elapsed = time.perf_counter() - started
        states = service.queries.state_counts().counts
        sent = len(list(profile.outbox_dir.glob("*.eml")))
        service.close()
    assert report.ingest.new_runs == emails, report
    assert sum(states.values()) == emails, states
    assert not states.get("failed"), states
    durations.sort()
    return {
        "emails_per_s": round(emails / elapsed, 1),
        "elapsed_s": round(elapsed, 2),
        "p50_ms": round(statistics.median(durations), 3),
        "p99_ms": round(durations[min(len(durations) - 1, int(len(durations) * 0.99))], 3),
        "replies_sent": sent,
        "states": dict(sorted(states.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mailbox = Path(tmp) / "mailbox"
        write_folder(mailbox, args.emails, seed=11, malformed_every=250)
        shipped = run_scenario(mailbox, args.emails, auto_send=False)
        auto = run_scenario(mailbox, args.emails, auto_send=True)
    peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    for name, figures in (("as shipped", shipped), ("auto-send", auto)):
        print(
            f"{name:10s}: {args.emails} emails in {figures['elapsed_s']} s = "
            f"{figures['emails_per_s']} emails/s; "
            f"per run p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms; states {figures['states']}; "
            f"replies {figures['replies_sent']}"
        )
    print(f"peak RSS {peak_rss_mb} MB")
    print(json.dumps({"emails": args.emails, **shipped, "peak_rss_mb": peak_rss_mb, "auto_send": auto}))


if __name__ == "__main__":
    main()
