"""The writer lock: writers of several processes queue on it, and it never stops a write."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from sqlalchemy import text

from engine.storage import migrate
from engine.storage.db import Database, sqlite_url
from engine.storage.write_lock import WriterLock

REPO = Path(__file__).resolve().parents[3]


def _hold_in_another_process(lock_path: Path, seconds: float) -> subprocess.Popen[str]:
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from engine.storage.write_lock import WriterLock
        lock = WriterLock(Path({str(lock_path)!r}))
        with lock.held():
            print("held", flush=True)
            time.sleep({seconds})
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_writer_waits_for_another_process_and_goes_in_when_it_lets_go(tmp_path: Path) -> None:
    lock_path = tmp_path / "db-writer.lock"
    other = _hold_in_another_process(lock_path, 0.5)
    lock = WriterLock(lock_path)
    started = time.monotonic()
    with lock.held():
        waited = time.monotonic() - started
    other.communicate(timeout=10)
    lock.close()
    assert 0.3 <= waited < 3.0


def test_threads_of_one_process_queue_and_one_thread_may_nest(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "lock")
    inside: list[str] = []

    def writer(name: str) -> None:
        with lock.held():
            inside.append(f"{name} in")
            time.sleep(0.05)
            inside.append(f"{name} out")

    with lock.held(), lock.held():  # re-entrant in one thread
        pass
    threads = [threading.Thread(target=writer, args=(n,)) for n in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    lock.close()
    assert len(inside) == 6
    assert all(inside[i].endswith("in") and inside[i + 1].endswith("out") for i in range(0, 6, 2))


def test_an_unusable_lock_file_leaves_writes_working(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "missing-folder" / "lock")
    with lock.held():
        pass
    with lock.held():  # still fine, no second attempt to open it
        pass


def test_database_writes_take_the_lock_beside_the_database(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "profile.db"))
    migrate.upgrade(db)
    other = _hold_in_another_process(tmp_path / "profile.db-writer.lock", 0.4)
    started = time.monotonic()
    with db.write() as conn:
        conn.execute(text("INSERT INTO settings(key, value, updated_at) VALUES ('k', '1', 'x')"))
    waited = time.monotonic() - started
    other.communicate(timeout=10)
    with db.read() as conn:  # readers never wait for it
        assert conn.execute(text("SELECT value FROM settings WHERE key = 'k'")).scalar_one() == "1"
    db.dispose()
    assert waited >= 0.25
