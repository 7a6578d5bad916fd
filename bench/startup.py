"""Benchmark: process start to main window shown, on a triaged demo profile.

Runs the real entry point (``python -m desktop --profile P``) in a subprocess under the offscreen
Qt platform, with ``INBOX_TRIAGE_STARTUP_MARK`` pointing at a file the app appends to: ``painted``
when the window is first drawn (the "Opening…" screen), ``ready`` when the review queue has been
loaded into it (database migrated, classifier loaded, first query done). Each launch is stopped
by its PID once ready. Reports the median of several launches.

Target: window shown ≤ 2.0 s. Last line: JSON.

Usage: python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TIMEOUT_S = 60.0


def prepare(root: Path) -> None:
    """A demo profile, triaged (so start-up opens a realistic queue)."""
    from desktop.wiring import create_demo_profile, open_service

    create_demo_profile(root)
    service = open_service(root)
    try:
        service.poll()
    finally:
        service.close()


def launch(
    root: Path, mark: Path, *, command: list[str] | None = None, extra_env: dict[str, str] | None = None
) -> dict[str, float]:
    """One launch: seconds from process start to first paint and to the queue loaded.

    ``command`` is the app to start (default: this checkout, from source); the bundled app's
    start-up is measured with the same code by ``packaging/measure_startup.py``.
    """
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "INBOX_TRIAGE_STARTUP_MARK": str(mark),
        **(extra_env or {}),
    }
    mark.unlink(missing_ok=True)
    started = time.time()
    process = subprocess.Popen(
        [*(command or [sys.executable, "-m", "desktop"]), "--profile", str(root)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        marks: dict[str, float] = {}
        deadline = time.monotonic() + TIMEOUT_S
        while "ready" not in marks:
            if process.poll() is not None:
                raise SystemExit(f"the app exited early: {process.stderr.read() if process.stderr else ''}")
            if time.monotonic() > deadline:
                raise SystemExit("the app did not get ready in time")
            time.sleep(0.005)
            if mark.exists():
                for line in mark.read_text(encoding="utf-8").splitlines():
                    what, _, stamp = line.partition(" ")
                    marks[what] = float(stamp)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return {"shown_s": marks["painted"] - started, "ready_s": marks["ready"] - started}


def main() -> None:
    """Prepare the profile, launch the app several times, print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inbox-triage-startup-") as tmp:
        root = Path(tmp) / "demo"
        prepare(root)
        results = [launch(root, Path(tmp) / "mark.txt") for _ in range(args.runs)]
    shown = statistics.median(r["shown_s"] for r in results)
    ready = statistics.median(r["ready_s"] for r in results)
    print(f"{args.runs} launches: window shown after {shown:.3f} s, queue loaded after {ready:.3f} s")
    print(
        json.dumps(
            {
                "runs": args.runs,
                "window_shown_s": round(shown, 3),
                "queue_ready_s": round(ready, 3),
                "all": [{k: round(v, 3) for k, v in r.items()} for r in results],
            }
        )
    )


if __name__ == "__main__":
    main()
