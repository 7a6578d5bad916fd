"""A toy workflow for runner tests: steps whose behaviour each test scripts."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from engine.durable.retry import RetryPolicy
from engine.durable.runner import Workflow
from engine.durable.step import StepContext, StepResult
from engine.storage.db import Database
from engine.storage.models import Email, Run, table_of
from engine.storage.types import utcnow


@dataclass
class ToyDeps:
    """Shared by the toy steps: how often each step ran, and per-step scripted behaviour."""

    executions: Counter[str] = field(default_factory=Counter)
    behaviour: dict[str, Callable[[StepContext[Any]], StepResult | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ToyStep:
    """A step that counts its executions and then does what the test scripted (default: nothing)."""

    def __init__(
        self, name: str, *, local: bool = True, timeout_s: float = 5.0, retry: RetryPolicy | None = None
    ) -> None:
        self.name = name
        self.local = local
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy(max_attempts=3, initial_delay_s=1.0, max_delay_s=10.0)

    def execute(self, ctx: StepContext[ToyDeps]) -> StepResult:
        with ctx.deps.lock:
            ctx.deps.executions[self.name] += 1
        script = ctx.deps.behaviour.get(self.name)
        if script is not None:
            result = script(ctx)
            if result is not None:
                return result
        run_id = ctx.run.run_id
        name = self.name

        def apply(conn: Connection) -> None:
            conn.execute(
                text("INSERT INTO settings(key, value, updated_at) VALUES (:k, '1', '2026-01-01')"),
                {"k": f"toy:{run_id}:{name}"},
            )

        return StepResult(output={"step": self.name, "run": run_id}, apply=apply)


def toy_workflow(*steps: ToyStep) -> Workflow[ToyDeps]:
    """A workflow of the given toy steps (default four local ones)."""
    chosen = steps or tuple(ToyStep(f"s{i}") for i in range(1, 5))
    return Workflow(name="toy", steps=chosen)


def create_runs(db: Database, count: int, *, workflow: str = "toy") -> list[int]:
    """Insert ``count`` emails with one pending run each; return the run ids."""
    now = utcnow()
    ids: list[int] = []
    em, r = table_of(Email), table_of(Run)
    with db.write() as conn:
        start = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM emails")).scalar_one()
        for i in range(count):
            n = start + i + 1
            email_id = conn.execute(
                em.insert()
                .values(
                    identity=f"toy/INBOX/1/{n}",
                    account="toy",
                    folder="INBOX",
                    uidvalidity=1,
                    uid=n,
                    message_id=f"<toy-{n}@example.org>",
                    ingested_at=now,
                    size=10,
                )
                .returning(em.c.id)
            ).scalar_one()
            ids.append(
                conn.execute(
                    r.insert()
                    .values(
                        email_id=email_id,
                        workflow=workflow,
                        state="pending",
                        step_index=0,
                        attempt=0,
                        priority=0,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(r.c.id)
                ).scalar_one()
            )
    return ids


def toy_marks(db: Database) -> set[str]:
    """The local effects the toy steps applied."""
    with db.read() as conn:
        return {row[0] for row in conn.execute(text("SELECT key FROM settings WHERE key LIKE 'toy:%'"))}
