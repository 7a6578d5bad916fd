"""Benchmark: generated emails through the whole embedded pipeline.

Each email is ingested (stored with its run, durably) and driven through parse → minimise →
classify → CRM → draft → route (→ send to the local outbox for categories whose policy
auto-sends; the bench sets enquiry and order to auto-send so the send path is measured too) →
close, one after another, on a fresh SQLite profile (WAL, synchronous=FULL). The offline
classifier is trained before the clock starts (a real profile caches it).

Prints ``emails_per_s``, ``p50_ms`` and ``p99_ms`` (per email, ingest to resting state) and
``peak_rss_mb``. Last line: JSON.

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
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.outbox import OutboxFolderSender

from bench.mailgen import generate
from engine.ingest import store_message
from engine.ports import RawMessage
from engine.profile import Profile
from engine.service import Connections, TriageService, open_database
from engine.settings import OfficeSettings, Policy
from engine.storage.types import utcnow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=5000)
    args = parser.parse_args()
    messages = [
        RawMessage(account="bench", folder="INBOX", raw=g.raw, source_key=g.name)
        for g in generate(args.emails, seed=11, malformed_every=250)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        profile = Profile(Path(tmp))
        db = open_database(profile)
        service = TriageService(
            profile, db, Connections(sender=OutboxFolderSender(profile.outbox_dir), sources={})
        )
        service.settings.save_office(
            OfficeSettings(office_name="Bench Office", reply_from="office@example.org"), actor="bench"
        )
        for category in ("enquiry", "order"):
            service.settings.save_policy(
                Policy(category=category, mode="auto_send", threshold=0.0), actor="bench"
            )
        service.classifier()  # train/load before timing
        runner = service.runner()
        latencies: list[float] = []
        started = time.perf_counter()
        for message in messages:
            t0 = time.perf_counter()
            with db.write() as conn:
                run_id = store_message(conn, message, now=utcnow())
            assert run_id is not None
            runner.drive(run_id)
            latencies.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - started
        states = service.queries.state_counts().counts
        outcomes = Counter(r.outcome for r in service.queries.runs(limit=args.emails))
        sent = len(list(profile.outbox_dir.glob("*.eml")))
        service.close()
    latencies.sort()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"{args.emails} emails in {elapsed:.2f} s: {args.emails / elapsed:.1f} emails/s; "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms; peak RSS {peak_rss_mb:.0f} MB"
    )
    print(f"states: {dict(states)}; outcomes: {dict(outcomes)}; replies in outbox: {sent}")
    print(
        json.dumps(
            {
                "emails": args.emails,
                "emails_per_s": round(args.emails / elapsed, 1),
                "p50_ms": round(p50, 3),
                "p99_ms": round(p99, 3),
                "peak_rss_mb": round(peak_rss_mb, 1),
                "replies_sent": sent,
                "states": states,
            }
        )
    )


if __name__ == "__main__":
    main()
