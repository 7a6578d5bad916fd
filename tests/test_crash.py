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
    """Start ``inbox-triage --profile PROFILE ARGS...``; stderr goes to a log beside the profile."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with (profile.parent / "child-stderr.log").open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "desktop", "--profile", str(profile), *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=REPO,
        )


def finish(proc: subprocess.Popen[bytes], profile: Path, timeout: float = 300) -> None:
    """Wait for a child that must succeed."""
    proc.wait(timeout=timeout)
    log = (profile.parent / "child-stderr.log").read_text(errors="replace")
    assert proc.returncode == 0, log[-3000:]


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
    incoming = tmp_path / "incoming"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    generated = write_folder(incoming, EMAILS, malformed_every=50)
    waiting_files = sorted(incoming.iterdir())
    profile_dir = tmp_path / "profile"
    finish(cli(profile_dir, "policy", "set", "enquiry", "--auto-send", "--threshold", "0"), profile_dir)
    finish(cli(profile_dir, "settings", "set", "office.reply_from", "hello@thornburywebb.co.uk"), profile_dir)
    profile = Profile(profile_dir)
    db = Database(profile.database_url())

    kills = 0
    attempts = 0
    while kills < KILLS:
        attempts += 1
        assert attempts < KILLS * 4, "the child kept finishing before it could be killed"
        # New mail keeps arriving and people keep approving, so every child has work to be killed in.
        for path in waiting_files[:8]:
            path.rename(inbox / path.name)
        del waiting_files[:8]
        approve_some(db, rng, limit=rng.randint(2, 8))
        proc = cli(profile_dir, "run", "--once", "--source", f"eml:{inbox}")
        try:
            proc.wait(timeout=rng.uniform(0.3, 2.2))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        else:
            finish(proc, profile_dir)
    # Settle: deliver what is left, approve everything, run to the end without interruption.
    for path in waiting_files:
        path.rename(inbox / path.name)
    for _ in range(3):
        approve_some(db, rng, limit=10_000)
        finish(cli(profile_dir, "run", "--once", "--source", f"eml:{inbox}"), profile_dir)

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
