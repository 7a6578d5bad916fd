"""Benchmark: the desktop audit view over a profile with 1,000,000 audit events.

Builds the profile once (the demo mailbox triaged, then synthetic events appended through
``engine.storage.audit_repo.append`` in large batches, so the chain stays valid) and caches it in
``$TMPDIR/inbox-triage-bench/audit-<N>``. Then, offscreen, it times:

- ``open_s``: creating and showing the audit view until its first rows are painted;
- ``filter_s``: applying a free-text filter until the first matching rows are painted;
- ``peak_rss_mb``: the process's peak resident memory.

Targets: open ≤ 1.0 s, filter ≤ 0.5 s, peak RSS ≤ 400 MB. Last line: JSON.

Usage: python bench/ui_audit.py [--events N] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from engine.audit.event import NewAuditEvent, user_actor
from engine.profile import Profile

BATCH = 20_000
DONE_MARK = "bench-complete"
SEARCH_TEXT = "mrs-quinn"
_STAFF = ("Alice Smith", "Ben Okafor", "Chloe Davies")
_PIPELINE = (
    ("email.received", "stored", ("email_address", "message_body", "name", "subject")),
    ("email.parsed", "ok", ()),
    ("email.minimised", "ok", ("message_body",)),
    ("email.classified", "enquiry", ("classification",)),
    ("crm.logged", "ok", ("email_address", "name")),
    ("draft.created", "ok", ("draft_reply",)),
    ("review.queued", "review", ()),
)


def cache_dir(events: int) -> Path:
    """Where the profile with ``events`` audit events is kept between runs."""
    return Path(tempfile.gettempdir()) / "inbox-triage-bench" / f"audit-{events}"


def _events_for_run(run: int) -> list[NewAuditEvent]:
    ref = f"<bench-{run}@mail.example.org>"
    sender = "mrs-quinn@example.org" if run % 5000 == 0 else f"customer{run % 997}@example.org"
    out = [
        NewAuditEvent(
            action=action,
            outcome=outcome,
            run_id=str(100_000 + run),
            email_ref=ref,
            data_categories=cats,
            detail={"sender": sender} if action == "email.received" else {"step": action.split(".")[0]},
        )
        for action, outcome, cats in _PIPELINE
    ]
    out.append(
        NewAuditEvent(
            action="review.approved",
            outcome="approved",
            actor=user_actor(_STAFF[run % len(_STAFF)]),
            run_id=str(100_000 + run),
            email_ref=ref,
            detail={"edited": run % 3 == 0, "undo_window_s": 5},
        )
    )
    return out


def build_profile(root: Path, events: int) -> None:
    """A demo profile triaged, plus synthetic pipeline events up to ``events`` in total."""
    from desktop.wiring import create_demo_profile, open_service
    from engine.storage import audit_repo

    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    create_demo_profile(root)
    service = open_service(root)
    try:
        service.poll()
        db = service.db
        with db.read() as conn:
            head = audit_repo.head(conn)
        have = head.seq if head else 0
        moment = datetime.now(UTC) - timedelta(days=700)
        run = 0
        started = time.perf_counter()
        while have < events:
            batch: list[NewAuditEvent] = []
            while len(batch) < min(BATCH, events - have):
                batch.extend(_events_for_run(run))
                run += 1
            batch = batch[: events - have]
            with db.write() as conn:
                audit_repo.append(conn, batch, now=moment)
            have += len(batch)
            moment += timedelta(minutes=50)
            print(f"\r{have:,} events ({time.perf_counter() - started:.0f} s)", end="", file=sys.stderr)
        print(file=sys.stderr)
        with db.write() as conn:
            conn.exec_driver_sql("ANALYZE")
    finally:
        service.close()
    (root / DONE_MARK).write_text(str(events), encoding="utf-8")


def ensure_profile(events: int, *, rebuild: bool = False) -> Path:
    """The cached profile, built when missing or incomplete."""
    root = cache_dir(events)
    if rebuild or not (root / DONE_MARK).exists():
        build_profile(root, events)
    return root


def main() -> None:
    """Build (or reuse) the profile, then time the audit view."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    root = ensure_profile(args.events, rebuild=args.rebuild)
    if args.build_only:
        print(json.dumps({"profile": str(root)}))
        return
    figures = measure(Profile(root))
    figures["events"] = args.events
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(
        f"audit view over {args.events:,} events: first rows painted in {figures['open_s']:.3f} s; "
        f"text filter: first matches painted in {figures['filter_s']:.3f} s, first page of matches "
        f"complete in {figures['filter_page_complete_s']:.3f} s; peak RSS {figures['peak_rss_mb']:.0f} MB"
    )
    print(json.dumps(figures))


class _PaintWatch:
    """Notes when a widget is painted (an event filter on the table's viewport)."""

    def __init__(self, widget: object) -> None:
        from PySide6.QtCore import QEvent, QObject

        watch = self

        class Filter(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
                if event.type() == QEvent.Type.Paint:
                    watch.painted_at = time.perf_counter()
                return False

        self.painted_at = 0.0
        self._filter = Filter()
        widget.installEventFilter(self._filter)  # type: ignore[attr-defined]


def _wait(app: object, condition: object, timeout: float = 60.0) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.perf_counter() + timeout
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: loop.quit() if condition() or time.perf_counter() > deadline else None)  # type: ignore[operator]
    timer.start()
    loop.exec()
    timer.stop()
    if not condition():  # type: ignore[operator]
        raise SystemExit("timed out")


def measure(profile: Profile) -> dict[str, float | int | str]:
    """Open the audit view on ``profile`` and time first paint and a text filter."""
    from PySide6.QtWidgets import QApplication

    from desktop.app import style
    from desktop.app.context import AppContext
    from desktop.app.tasks import TaskManager
    from desktop.app.views.audit import AuditTab
    from desktop.wiring import open_service

    app = QApplication.instance() or QApplication(["bench"])
    style.apply(app)  # type: ignore[arg-type]
    service = open_service(profile.root)
    tasks = TaskManager()
    ctx = AppContext(service, tasks)
    try:
        started = time.perf_counter()
        tab = AuditTab(ctx)
        tab.resize(1240, 760)
        watch = _PaintWatch(tab.table.viewport())
        landed: list[float] = []
        tab.model.rowsInserted.connect(lambda *_: landed.append(time.perf_counter()))
        tab.show()
        tab.refresh()
        _wait(app, lambda: bool(landed) and watch.painted_at > landed[0])
        open_s = watch.painted_at - started
        rows_at_open = len(tab.model.rows)
        _wait(app, lambda: not tasks.busy)

        landed.clear()
        filtered = time.perf_counter()
        tab.filters.search.setText(SEARCH_TEXT)
        tab.filters._timer.stop()
        tab.apply_filters()
        _wait(app, lambda: bool(landed) and watch.painted_at > landed[0])
        filter_s = watch.painted_at - filtered
        _wait(app, lambda: not tab.model.loading, timeout=120)
        search_done_s = time.perf_counter() - filtered
        matches = len(tab.model.rows)
        _wait(app, lambda: not tasks.busy, timeout=120)
        tab.close()
    finally:
        tasks.wait_for_done()
        service.close()
    return {
        "open_s": round(open_s, 3),
        "rows_at_open": rows_at_open,
        "filter_s": round(filter_s, 3),
        "filter_text": SEARCH_TEXT,
        "filter_page_complete_s": round(search_done_s, 3),
        "filter_matches_first_page": matches,
    }


if __name__ == "__main__":
    main()
