"""Benchmark: the durable runner's own cost per step.

Sequential runs of a workflow of 4 no-op durable steps on SQLite (WAL, synchronous=FULL) in a
temporary folder. Each step still writes its checkpoint, fences its lease and appends its audit
event (hash-chained); each run is claimed and completed. Prints ``runs_per_s`` and
``ms_per_step`` = elapsed / (runs × 4), run overhead included, for the default mode (consecutive
local steps share a transaction) and for one transaction per step. Last line: JSON.

Usage: python bench/engine_overhead.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from engine.durable.retry import RetryPolicy
from engine.durable.runner import Runner, Workflow
from engine.durable.step import StepContext, StepResult
from engine.storage import migrate
from engine.storage.db import Database, sqlite_url
from engine.storage.models import Email, Run, table_of
from engine.storage.types import utcnow


class NoopStep:
    """A durable step that does nothing but get checkpointed."""

    local = True
    timeout_s = 30.0
    retry = RetryPolicy()

    def __init__(self, name: str) -> None:
        self.name = name

    def execute(self, ctx: StepContext[Any]) -> StepResult:
        return StepResult(output={})


def seed(db: Database, count: int) -> None:
    now = utcnow()
    em, r = table_of(Email), table_of(Run)
    with db.write() as conn:
        for n in range(1, count + 1):
            email_id = conn.execute(
                em.insert()
                .values(identity=f"bench/{n}", account="bench", folder="INBOX", ingested_at=now, size=0)
                .returning(em.c.id)
            ).scalar_one()
            conn.execute(
                r.insert().values(
                    email_id=email_id,
                    workflow="noop",
                    state="pending",
                    step_index=0,
                    attempt=0,
                    priority=0,
                    created_at=now,
                    updated_at=now,
                )
            )


def measure(runs: int, *, grouped: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(sqlite_url(Path(tmp) / "bench.db"))
        migrate.upgrade(db)
        seed(db, runs)
        workflow: Workflow[None] = Workflow("noop", tuple(NoopStep(f"noop{i}") for i in range(4)))
        runner = Runner(db, workflow, None, install_id="bench", group_local_steps=grouped)
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        started = time.perf_counter()
        stats = runner.run_until_idle()
        elapsed = time.perf_counter() - started
        with db.read() as conn:
            done = conn.execute(text("SELECT COUNT(*) FROM runs WHERE state='completed'")).scalar_one()
        runner.close()
        db.dispose()
    assert stats.completed == runs == done, (stats, done)
    return {"runs_per_s": runs / elapsed, "ms_per_step": elapsed * 1000 / (runs * 4), "elapsed_s": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    measure(50, grouped=True)  # warm-up: imports, SQLAlchemy statement caches
    grouped = measure(args.runs, grouped=True)
    per_step = measure(args.runs, grouped=False)
    print(
        f"grouped local steps:      {grouped['runs_per_s']:8.1f} runs/s  {grouped['ms_per_step']:.3f} ms/step"
    )
    print(
        f"one transaction per step: {per_step['runs_per_s']:8.1f} runs/s  "
        f"{per_step['ms_per_step']:.3f} ms/step"
    )
    print(
        json.dumps(
            {
                "runs": args.runs,
                "steps_per_run": 4,
                "synchronous": "FULL",
                "runs_per_s": round(grouped["runs_per_s"], 1),
                "ms_per_step": round(grouped["ms_per_step"], 4),
                "one_tx_per_step_runs_per_s": round(per_step["runs_per_s"], 1),
                "one_tx_per_step_ms_per_step": round(per_step["ms_per_step"], 4),
            }
        )
    )


if __name__ == "__main__":
    main()
