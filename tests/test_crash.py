"""Crash test: a child process triages a few hundred emails and is SIGKILLed at random moments.

After at least 50 kills (resuming each time) every email has exactly one run, none is lost, no
CRM activity and no outbox reply exists twice, and the audit log verifies.
"""

from __future__ import annotations

import email
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.mailgen import write_folder
from engine.audit.verify import verify_chain
from engine.profile import Profile
from engine.review import approve
from engine.storage import audit_repo
from engine.storage.db import Database

REPO = Path(__file__).resolve().parents[1]
EMAILS = 300
KILLS = 52


def cli(profile: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "desktop", "--profile", str(profile), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )


def finish(proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode(errors="replace")


def approve_some(db: Database, rng: random.Random, limit: int) -> int:
    with db.read() as conn:
        waiting = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT runs.id FROM runs JOIN drafts ON drafts.run_id = runs.id "
                    "WHERE state = 'waiting_review'"
                )
            )
        ]
    chosen = rng.sample(waiting, min(limit, len(waiting)))
    for run_id in chosen:
        approve(db, run_id, actor="Crash Tester")
    return len(chosen)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261130)
    inbox = tmp_path / "inbox"
    generated = write_folder(inbox, EMAILS, malformed_every=50)
    profile_dir = tmp_path / "profile"
    finish(cli(profile_dir, "policy", "set", "enquiry", "--auto-send", "--threshold", "0"))
    finish(cli(profile_dir, "settings", "set", "office.reply_from", "hello@thornburywebb.co.uk"))
    profile = Profile(profile_dir)
    db = Database(profile.database_url())

    kills = 0
    attempts = 0
    while kills < KILLS:
        attempts += 1
        assert attempts < KILLS * 3, "the child kept finishing before it could be killed"
        approve_some(db, rng, limit=rng.randint(0, 6))
        proc = cli(profile_dir, "run", "--once", "--source", f"eml:{inbox}")
        try:
            proc.wait(timeout=rng.uniform(0.4, 3.5))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        else:
            assert proc.returncode == 0, proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            # Finished before the kill: let more work arrive by approving, and keep going.
    # Settle: approve everything left, run to the end without interruption.
    for _ in range(3):
        approve_some(db, rng, limit=10_000)
        finish(cli(profile_dir, "run", "--once", "--source", f"eml:{inbox}"))

    with db.read() as conn:
        emails = conn.execute(text("SELECT COUNT(*) FROM emails")).scalar_one()
        runs = conn.execute(text("SELECT COUNT(*) FROM runs")).scalar_one()
        per_email = conn.execute(
            text("SELECT MAX(c) FROM (SELECT COUNT(*) c FROM runs GROUP BY email_id)")
        ).scalar_one()
        states = dict(conn.execute(text("SELECT state, COUNT(*) FROM runs GROUP BY state")).fetchall())
        activities = conn.execute(text("SELECT run_id FROM activities")).fetchall()
        sent = conn.execute(text("SELECT COUNT(*) FROM runs WHERE outcome = 'sent'")).scalar_one()
        verified = verify_chain(audit_repo.iter_events(conn))
    db.dispose()

    assert emails == runs == EMAILS, "every input is stored once, with one run"
    assert per_email == 1
    assert set(states) <= {"completed", "quarantined"}, states
    assert states.get("quarantined") == EMAILS // 50
    assert len(activities) == len({a[0] for a in activities}) == EMAILS - EMAILS // 50
    replies = [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in profile.outbox_dir.glob("*.eml")
    ]
    in_reply_to = Counter(str(m["In-Reply-To"]) for m in replies)
    assert in_reply_to and max(in_reply_to.values()) == 1, "no reply was sent twice"
    assert len(replies) == sent
    assert verified.ok, verified.problem
    assert kills >= 50
    assert len(generated) == EMAILS
