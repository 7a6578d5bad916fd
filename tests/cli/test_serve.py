"""``inbox-triage serve``: polls on schedule and stops cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from desktop.wiring import create_demo_profile
from engine.storage.db import Database

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_polls_then_stops_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    profile = create_demo_profile(tmp_path / "demo")
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop", "--profile", str(profile.root), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert "Serving profile" in banner
        polled = proc.stdout.readline()  # blocks until the first poll has finished
        assert polled.startswith("polled:"), polled
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Stopping" in out
    db = Database(profile.database_url())
    with db.read() as conn:
        runs = conn.execute(text("SELECT COUNT(*) FROM runs")).scalar_one()
        leased = conn.execute(text("SELECT COUNT(*) FROM runs WHERE lease_owner IS NOT NULL")).scalar_one()
    db.dispose()
    assert runs == 52
    assert leased == 0
