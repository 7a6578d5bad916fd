"""Several processes triaging one profile: ``work``, ``run --once --processes N``, a failed worker.

The workers are real processes of this app (``python -m desktop ... work``) on a real SQLite
profile, and over IMAP against the real Dovecot, sharing a file-backed test keyring.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.mailgen import write_folder
from connectors.local_folder import EmlFolderSource
from desktop.wiring import open_service
from desktop.worker_processes import AUTO_BACKLOG, WorkerProcessError, WorkerProcesses, auto_process_count
from engine.audit.verify import verify_chain
from engine.profile import Profile
from engine.storage import audit_repo
from engine.storage.db import Database
from tests.connectors.imap.helpers import message
from tests.servers.dovecot import DovecotMailbox
from tests.support.file_keyring import file_keyring_env

REPO = Path(__file__).resolve().parents[2]


def _app(
    profile: Path, *args: str, env: dict[str, str] | None = None, stdin: int | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "desktop", "--profile", str(profile), *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        text=True,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _profile_facts(profile: Path) -> dict[str, object]:
    """Runs per email, leases still held, states, and whether the audit chain verifies."""
    db = Database(Profile(profile).database_url())
    try:
        with db.read() as conn:
            per_email = conn.execute(text("SELECT COUNT(*) FROM runs GROUP BY email_id")).scalars().all()
            emails = conn.execute(text("SELECT COUNT(*) FROM emails")).scalar_one()
            leased = conn.execute(
                text("SELECT COUNT(*) FROM runs WHERE lease_owner IS NOT NULL")
            ).scalar_one()
            states: dict[str, int] = {
                str(r[0]): int(r[1])
                for r in conn.execute(text("SELECT state, COUNT(*) FROM runs GROUP BY state"))
            }
            chain_ok = verify_chain(audit_repo.iter_events(conn)).ok
    finally:
        db.dispose()
    return {
        "emails": emails,
        "runs_per_email": set(per_email),
        "leased": leased,
        "states": states,
        "chain": chain_ok,
    }


def test_a_worker_triages_runs_ingested_while_it_waits_then_exits_when_stdin_closes(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    service = open_service(profile)
    service.classifier()
    worker = _app(profile, "work", "--until-stdin-closes", "--json", stdin=subprocess.PIPE)
    try:
        write_folder(tmp_path / "mail", 40, seed=3)
        ingested = service.ingest(EmlFolderSource(tmp_path / "mail", account="mail"))
        assert ingested.new_runs == 40
        deadline = time.monotonic() + 60
        while service.queries.state_counts().counts.get("pending", 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker.poll() is None, "the worker left before its stdin was closed"
        out, err = worker.communicate("", timeout=60)  # closes stdin
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
        service.close()
    assert worker.returncode == 0, err
    assert json.loads(out)["runs"] == 40
    facts = _profile_facts(profile)
    assert facts["runs_per_email"] == {1}
    assert facts["leased"] == 0
    assert "pending" not in facts["states"]  # type: ignore[operator]
    assert facts["chain"]


def test_run_once_in_three_processes_triages_every_email_exactly_once(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    write_folder(tmp_path / "mail", 300, seed=5, malformed_every=50)
    app = _app(profile, "run", "--once", "--source", f"eml:{tmp_path / 'mail'}", "--processes", "3", "--json")
    out, err = app.communicate(timeout=300)
    assert app.returncode == 0, err
    summary = json.loads(out)
    assert summary["ingested"]["new_runs"] == 300
    assert summary["processed"]["runs"] == 300  # this process and its two workers together
    assert sum(summary["states"].values()) == 300
    assert summary["states"]["quarantined"] == 6
    facts = _profile_facts(profile)
    assert facts == {**facts, "emails": 300, "runs_per_email": {1}, "leased": 0, "chain": True}
    assert sorted(p.name for p in (profile / "logs").glob("worker-*.log")) == ["worker-1.log", "worker-2.log"]


def test_a_worker_that_fails_is_reported_with_its_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    pool = WorkerProcesses(not_a_folder, 1, log_dir=tmp_path / "logs")
    pool.start()
    with pytest.raises(WorkerProcessError, match=r"worker 1 exited with code 1: .*error"):
        pool.join(timeout_s=60)


def test_a_wrong_number_of_processes_is_refused(tmp_path: Path) -> None:
    app = _app(tmp_path / "p", "run", "--once", "--processes", "0")
    _, err = app.communicate(timeout=60)
    assert app.returncode == 2
    assert "give between 1 and 32 processes, not 0" in err


def test_first_sync_over_imap_in_two_processes(tmp_path: Path, dovecot: DovecotMailbox) -> None:
    """The configured account (password in the shared keyring) is polled once; workers flag too."""
    env = file_keyring_env(tmp_path / "keyring.json")
    uids = [dovecot.append(dovecot.user, "INBOX", message(n)) for n in range(1, 61)]
    profile = tmp_path / "profile"
    add = _app(
        profile, "accounts", "add", "imap", "office", "--host", dovecot.host,
        "--port", str(dovecot.imaps_port), "--user", dovecot.user, "--ca-file", str(dovecot.ca_file),
        "--password-stdin", env=env, stdin=subprocess.PIPE,
    )  # fmt: skip
    _, err = add.communicate(dovecot.password + "\n", timeout=60)
    assert add.returncode == 0, err
    app = _app(profile, "run", "--once", "--processes", "2", "--json", env=env)
    out, err = app.communicate(timeout=300)
    assert app.returncode == 0, err
    summary = json.loads(out)
    assert summary["ingested"]["new_runs"] == 60
    assert summary["processed"]["runs"] == 60
    assert summary["source_errors"] == {}
    facts = _profile_facts(profile)
    assert facts == {**facts, "emails": 60, "runs_per_email": {1}, "leased": 0, "chain": True}
    closed = facts["states"].get("completed", 0)  # type: ignore[attr-defined]
    connection = dovecot.connect(dovecot.user)
    try:
        connection.select("INBOX", readonly=True)
        _, data = connection.uid("SEARCH", "KEYWORD", "$Triaged")
        flagged = [int(u) for u in (data[0] or b"").split()]
    finally:
        connection.logout()
    assert len(flagged) == closed and set(flagged) <= set(uids)
    # Polling again finds nothing new and creates nothing.
    again = _app(profile, "run", "--once", "--processes", "2", "--json", env=env)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert json.loads(out)["ingested"]["new_runs"] == 0


def test_auto_uses_one_process_per_core_up_to_four() -> None:
    assert [auto_process_count(cpus) for cpus in (1, 2, 3, 4, 16)] == [1, 2, 3, 4, 4]


def test_auto_starts_workers_only_for_a_big_backlog(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    write_folder(tmp_path / "few", 20, seed=7)
    write_folder(tmp_path / "many", AUTO_BACKLOG + 50, seed=8)
    few = _app(
        profile, "run", "--once", "--source", f"eml:{tmp_path / 'few'}", "--processes", "auto", "--json"
    )
    out, err = few.communicate(timeout=120)
    assert few.returncode == 0, err
    assert json.loads(out)["processed"]["runs"] == 20
    assert not list((profile / "logs").glob("worker-*.log")), "a small poll started workers"
    many = _app(
        profile, "run", "--once", "--source", f"eml:{tmp_path / 'many'}", "--processes", "auto", "--json"
    )
    out, err = many.communicate(timeout=300)
    assert many.returncode == 0, err
    assert json.loads(out)["processed"]["runs"] == AUTO_BACKLOG + 50
    workers = list((profile / "logs").glob("worker-*.log"))
    assert len(workers) == auto_process_count() - 1
    facts = _profile_facts(profile)
    assert facts == {**facts, "emails": AUTO_BACKLOG + 70, "runs_per_email": {1}, "leased": 0, "chain": True}
