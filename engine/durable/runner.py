"""The durable runner: claims runs, executes their steps, checkpoints, retries, waits.

Promises (see ARCHITECTURE.md): each step's result is checkpointed in the same transaction as
its local effects and audit events; after a crash every unfinished run continues from its last
checkpoint and no finished step runs again; transient failures are retried with backoff and
jitter up to a per-step limit, then the run is ``failed`` with its error and can be retried;
waiting for a person is a durable state; a lease fences every checkpoint so two workers never
record the same step.

Consecutive *local* steps (database effects only) may share one transaction: if the process dies
before it commits, none of them finished and they simply run again. Steps are computed with no
lock held; their writes are queued and applied together when the batch commits, so several
worker processes on one SQLite profile compute in parallel and only take turns to write.
"""

from __future__ import annotations

import concurrent.futures
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic

from sqlalchemy import Connection, Executable, bindparam, insert, select, update

from engine.audit.event import NewAuditEvent
from engine.durable import leases
from engine.durable.effects import EffectLedger
from engine.durable.retry import ErrorKind, classify_error, is_retryable
from engine.durable.states import RunState
from engine.durable.step import DepsT, RunInfo, Step, StepContext, StepResult
from engine.errors import LeaseLostError, StepTimeoutError, TransientError
from engine.storage import audit_repo
from engine.storage.db import Database
from engine.storage.models import Email, Run, StepCheckpoint, table_of
from engine.storage.types import utcnow

log = logging.getLogger(__name__)

_R = table_of(Run)
_E = table_of(Email)
_C = table_of(StepCheckpoint)

#: Run columns a step may set through ``StepResult.run_updates``.
_UPDATABLE = frozenset({"category", "confidence", "priority", "flags", "outcome"})

#: At most this many local steps share one transaction.
MAX_GROUPED_STEPS = 16

# Statements built once: SQLAlchemy memoises their cache keys, which keeps per-step overhead low.
_LEASES = select(_R.c.id, _R.c.lease_owner, _R.c.step_index)
_SET_RUN = update(_R).where(_R.c.id == bindparam("b_run"))
_INSERT_CHECKPOINT = insert(_C)
_LOAD_RUN = (
    select(
        _R,
        _E.c.identity,
        _E.c.account,
        _E.c.folder,
        _E.c.uidvalidity,
        _E.c.uid,
        _E.c.source_key,
        _E.c.message_id,
        _E.c.received_at,
    )
    .join(_E, _E.c.id == _R.c.email_id)
    .where(_R.c.id == bindparam("b_run"))
)
_LOAD_CHECKPOINTS = (
    select(_C.c.step_index, _C.c.step_name, _C.c.output)
    .where(_C.c.run_id == bindparam("b_run"))
    .order_by(_C.c.step_index)
)


Preload = Callable[[Connection, RunInfo, int], dict[str, Any]]


@dataclass(frozen=True)
class Workflow(Generic[DepsT]):
    """A named, ordered list of steps.

    ``preload`` (optional) reads what the next steps will need in the same read transaction that
    loads the run (one round trip instead of several); its result becomes the drive's scratch.
    """

    name: str
    steps: tuple[Step[DepsT], ...]
    preload: Preload | None = None

    def index_of(self, step_name: str) -> int:
        """Position of a step by name."""
        for index, step in enumerate(self.steps):
            if step.name == step_name:
                return index
        raise KeyError(step_name)


@dataclass
class RunnerStats:
    """Counts of what one call of the runner did."""

    runs: int = 0
    steps: int = 0
    completed: int = 0
    waiting: int = 0
    retrying: int = 0
    failed: int = 0
    quarantined: int = 0
    lost_leases: int = 0

    def add(self, other: RunnerStats) -> None:
        """Accumulate another worker's counts."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Group:
    """One run's consecutive steps: computed with no lock held, their writes queued until flushed."""

    run_id: int
    start_index: int
    applies: list[Callable[[Connection], None]] = field(default_factory=list)
    writes: list[tuple[Executable, dict[str, Any]]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    events: list[NewAuditEvent] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


class _Batch:
    """The flushed groups of consecutive runs, written in one writer transaction at commit.

    The batch is committed before anything else writes (a remote step's effect ledger, a
    failure, a lease release, the next claim) and at the end of each claimed batch; if the
    process dies first, none of those steps had finished and they simply run again. Each group
    is fenced on its run's lease first, so a lost lease skips only that run's writes. Every
    commit also renews the leases of the batch's ``claimed`` runs still waiting their turn.
    """

    def __init__(self, claimed: Sequence[int] = ()) -> None:
        self.pending: list[_Group] = []
        self.claimed = list(claimed)

    def add(self, group: _Group) -> None:
        """Queue a flushed group for the next commit."""
        self.pending.append(group)

    def take(self) -> list[_Group]:
        """Remove and return the queued groups."""
        pending, self.pending = self.pending, []
        return pending


@dataclass
class _RunState:
    info: RunInfo
    step_index: int
    attempt: int
    outcome: str | None = None
    outputs: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    scratch: dict[str, Any] = field(default_factory=dict)


class Runner(Generic[DepsT]):
    """Drives runs of one workflow to their next wait or end."""

    def __init__(
        self,
        db: Database,
        workflow: Workflow[DepsT],
        deps: DepsT,
        *,
        install_id: str,
        owner: str | None = None,
        lease_s: float = leases.DEFAULT_LEASE_S,
        now: Callable[[], datetime] = utcnow,
        group_local_steps: bool = True,
        claim_batch: int = 32,
        rng: random.Random | None = None,
        on_run_driven: Callable[[int, float], None] | None = None,
    ) -> None:
        self.db = db
        self.workflow = workflow
        self.deps = deps
        self.install_id = install_id
        self.owner = owner or leases.new_owner_id()
        self.lease_s = lease_s
        self.now = now
        self.group_local_steps = group_local_steps
        self.claim_batch = claim_batch
        self._rng = rng or random.Random()
        self.on_run_driven = on_run_driven
        self.ledger = EffectLedger(db, now)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="step")

    # --- public API --------------------------------------------------------------------------

    def release_dead_leases(self) -> int:
        """Free runs whose lease belongs to a process on this computer that has died."""
        with self.db.write() as conn:
            return leases.release_dead_local_leases(conn)

    def run_until_idle(self, *, workers: int = 1, stop: threading.Event | None = None) -> RunnerStats:
        """Process every run that can make progress now; return when none is left."""
        if workers <= 1:
            return self._worker_loop(stop)
        totals = RunnerStats()
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="runner") as pool:
            for stats in pool.map(lambda _: self._worker_loop(stop), range(workers)):
                totals.add(stats)
        return totals

    def drive(self, run_id: int) -> RunnerStats:
        """Claim one specific run (if runnable and free) and drive it."""
        stats = RunnerStats()
        with self.db.write() as conn:
            mine = leases.claim_one(
                conn, run_id=run_id, owner=self.owner, now=self.now(), lease_s=self.lease_s
            )
        if mine:
            batch = _Batch()
            try:
                self._drive_claimed(run_id, stats, batch)
            finally:
                self._commit(batch, stats)
        return stats

    def close(self) -> None:
        """Stop the step thread pool (running steps finish in the background)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- the loop ----------------------------------------------------------------------------

    def _worker_loop(self, stop: threading.Event | None) -> RunnerStats:
        stats = RunnerStats()
        while stop is None or not stop.is_set():
            with self.db.write() as conn:
                claimed = leases.claim(
                    conn, owner=self.owner, now=self.now(), lease_s=self.lease_s, limit=self.claim_batch
                )
            if not claimed:
                break
            batch = _Batch(claimed)
            try:
                for index, run_id in enumerate(claimed):
                    if stop is not None and stop.is_set():
                        self._commit(batch, stats)
                        with self.db.write() as conn:
                            leases.release(conn, run_ids=claimed[index:], owner=self.owner)
                        break
                    self._drive_claimed(run_id, stats, batch)
            finally:
                self._commit(batch, stats)
        return stats

    def _drive_claimed(self, run_id: int, stats: RunnerStats, batch: _Batch) -> None:
        stats.runs += 1
        started = time.perf_counter()
        try:
            try:
                state = self._load(run_id)
            except _WorkflowMismatch as exc:
                self._commit(batch, stats)
                self._fail_unloadable(run_id, str(exc), stats)
                return
            self._drive(state, stats, batch)
        except LeaseLostError:
            stats.lost_leases += 1
            log.warning("run %s: lease lost to another worker; stopping here", run_id)
        except Exception:
            log.exception("run %s: unexpected error in the runner", run_id)
            self._abandon(batch, [run_id])
            raise
        if self.on_run_driven is not None:
            self.on_run_driven(run_id, time.perf_counter() - started)

    def _load(self, run_id: int) -> _RunState:
        with self.db.read() as conn:
            row = conn.execute(_LOAD_RUN, {"b_run": run_id}).one()
            checkpoints = conn.execute(_LOAD_CHECKPOINTS, {"b_run": run_id}).fetchall()
            info = _run_info(row, run_id, self.install_id)
            scratch = self.workflow.preload(conn, info, int(row.step_index)) if self.workflow.preload else {}
        state = _RunState(
            info=info,
            step_index=int(row.step_index),
            attempt=int(row.attempt),
            outcome=row.outcome,
            scratch=scratch,
        )
        for cp in checkpoints:
            expected = (
                self.workflow.steps[cp.step_index].name if cp.step_index < len(self.workflow.steps) else None
            )
            if expected != cp.step_name:
                raise _WorkflowMismatch(run_id, cp.step_index, cp.step_name, expected)
            state.outputs[cp.step_name] = cp.output
        return state

    def _drive(self, state: _RunState, stats: RunnerStats, batch: _Batch) -> None:
        group: _Group | None = None
        run_id = state.info.run_id
        while True:
            if state.step_index >= len(self.workflow.steps):
                group = group or _Group(run_id=run_id, start_index=state.step_index)
                self._finish_run(group, state, outcome=None)
                stats.completed += 1
                self._flush(group, state, batch, stats)
                return
            step = self.workflow.steps[state.step_index]
            local = _is_local(step, state)
            if group is not None and (not local or len(group.checkpoints) >= MAX_GROUPED_STEPS):
                self._flush(group, state, batch, stats)
                group = None
            # A remote step writes its effect ledger in transactions of its own, and must not act
            # for a run whose lease was lost (a repeatable one may: acting twice is harmless).
            if not local and not getattr(step, "repeatable", False) and run_id in self._commit(batch, stats):
                return
            try:
                result = self._execute(step, state, local=local)
            except Exception as exc:  # noqa: BLE001 - every step failure is recorded, none is lost
                if group is not None:
                    self._flush(group, state, batch, stats)
                    group = None
                if run_id in self._commit(batch, stats):
                    return
                self._record_failure(state, step, exc, stats)
                return
            group = group or _Group(run_id=run_id, start_index=state.step_index)
            self._record_step(group, state, step, result)
            stats.steps += 1
            ended = self._after_step(group, state, result, stats)
            if ended or not (self.group_local_steps and local):
                self._flush(group, state, batch, stats)
                group = None
            if ended:
                return

    # --- executing a step ----------------------------------------------------------------------

    def _execute(self, step: Step[DepsT], state: _RunState, *, local: bool) -> StepResult:
        deadline = time.monotonic() + step.timeout_s
        ctx: StepContext[DepsT] = StepContext(
            run=state.info,
            step_name=step.name,
            step_index=state.step_index,
            attempt=state.attempt + 1,
            outputs=state.outputs,
            deps=self.deps,
            db=self.db,
            now=self.now,
            deadline=deadline,
            ledger=self.ledger,
            scratch=state.scratch,
        )
        if local:
            return step.execute(ctx)
        future = self._pool.submit(step.execute, ctx)
        try:
            return future.result(timeout=step.timeout_s)
        except concurrent.futures.TimeoutError as exc:
            raise StepTimeoutError(f"step {step.name} took longer than {step.timeout_s:g} s") from exc

    # --- recording results: queued per group, written per batch ---------------------------------

    def _record_step(self, group: _Group, state: _RunState, step: Step[DepsT], result: StepResult) -> None:
        """Queue the step's local writes, checkpoint, audit events and run columns."""
        for key in result.run_updates:
            if key not in _UPDATABLE:
                raise ValueError(f"step {step.name} may not set run column {key!r}")
        if result.apply is not None:
            group.applies.append(result.apply)
        group.writes.extend(result.writes)
        group.checkpoints.append(
            {
                "run_id": state.info.run_id,
                "step_index": state.step_index,
                "step_name": step.name,
                "output": result.output,
                "attempts": state.attempt + 1,
                "finished_at": self.now(),
            }
        )
        group.events.extend(
            result.events
            or [
                NewAuditEvent(
                    action=f"step.{step.name}",
                    outcome="ok",
                    run_id=str(state.info.run_id),
                    email_ref=state.info.email_ref,
                )
            ]
        )
        group.values.update(result.run_updates)
        state.outputs[step.name] = result.output
        state.step_index += 1
        state.attempt = 0
        if "category" in result.run_updates or "confidence" in result.run_updates:
            state.info = _with_classification(state.info, result.run_updates)
        if "outcome" in result.run_updates:
            state.outcome = result.run_updates["outcome"]

    def _flush(self, group: _Group, state: _RunState, batch: _Batch, stats: RunnerStats) -> None:
        """Close the group at the run's current step and queue it for the batch's transaction.

        Written at once when local steps are not grouped; otherwise with the rest of the batch.
        """
        now = self.now()
        group.values = {
            "step_index": state.step_index,
            "step_name": self.workflow.steps[state.step_index - 1].name if state.step_index else None,
            "attempt": 0,
            "error": None,
            "error_kind": None,
            "next_attempt_at": None,
            "updated_at": now,
            "lease_expires_at": now + timedelta(seconds=self.lease_s),
            **group.values,
        }
        batch.add(group)
        if not self.group_local_steps and state.info.run_id in self._commit(batch, stats):
            raise LeaseLostError(f"run {state.info.run_id}: lease lost before its steps were recorded")

    def _commit(self, batch: _Batch, stats: RunnerStats) -> set[int]:
        """Write the batch's queued groups in one writer transaction; return runs whose lease was lost.

        Each group is fenced on its run's lease and step first: when that fails, none of the
        group's writes are made (the run belongs to another worker now) and the batch goes on.
        The same statement of different runs is executed once for all of them (``executemany``).
        """
        groups = batch.take()
        if not groups:
            return set()
        now = self.now()
        try:
            with self.db.write() as conn:
                fenced, lost = self._fence(conn, groups)
                for group in fenced:
                    for apply in group.applies:
                        apply(conn)
                writes: dict[Executable, list[dict[str, Any]]] = {}
                for group in fenced:
                    for statement, params in group.writes:
                        writes.setdefault(statement, []).append(params)
                for statement, rows in writes.items():
                    conn.execute(statement, rows)
                checkpoints = [c for group in fenced for c in group.checkpoints]
                if checkpoints:
                    conn.execute(_INSERT_CHECKPOINT, checkpoints)
                audit_repo.append(conn, [e for group in fenced for e in group.events], now=now)
                if batch.claimed:
                    leases.renew(
                        conn,
                        run_ids=batch.claimed,
                        owner=self.owner,
                        expires_at=now + timedelta(seconds=self.lease_s),
                    )
        except Exception:
            log.exception("writing the steps of runs %s failed", sorted({g.run_id for g in groups}))
            self._release_quietly({g.run_id for g in groups})
            raise
        for run_id in sorted(lost):
            stats.lost_leases += 1
            log.warning("run %s: lease lost to another worker; its last steps were not recorded", run_id)
        return lost

    def _fence(self, conn: Connection, groups: list[_Group]) -> tuple[list[_Group], set[int]]:
        """Check each group against its run's lease and step, and set the runs' columns.

        Reads the runs once (locked: this transaction is the only writer on SQLite, and ``FOR
        UPDATE`` holds the rows on PostgreSQL), then walks the groups in order as the runs would
        change; returns the groups that may be written and the runs whose lease was lost.
        """
        query = _LEASES.where(_R.c.id.in_({g.run_id for g in groups}))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        current = {int(r.id): (r.lease_owner, int(r.step_index)) for r in conn.execute(query)}
        fenced: list[_Group] = []
        lost: set[int] = set()
        merged: dict[int, dict[str, Any]] = {}
        for group in groups:
            owner, index = current.get(group.run_id, (None, -1))
            if group.run_id in lost or owner != self.owner or index != group.start_index:
                lost.add(group.run_id)
                continue
            fenced.append(group)
            merged.setdefault(group.run_id, {}).update(group.values)
            current[group.run_id] = (
                group.values.get("lease_owner", owner),
                int(group.values["step_index"]),
            )
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for run_id, values in merged.items():
            by_columns.setdefault(tuple(sorted(values)), []).append({"b_run": run_id, **values})
        for rows in by_columns.values():
            conn.execute(_SET_RUN, rows)
        return fenced, lost

    def _abandon(self, batch: _Batch, run_ids: list[int]) -> None:
        """After an unexpected error: drop the queued writes and free the runs (they run again)."""
        self._release_quietly({g.run_id for g in batch.take()} | set(run_ids))

    def _release_quietly(self, run_ids: set[int]) -> None:
        try:
            with self.db.write() as conn:
                leases.release(conn, run_ids=sorted(run_ids), owner=self.owner)
        except Exception:  # the leases expire on their own
            log.exception("could not release the leases of runs %s", sorted(run_ids))

    def _after_step(self, group: _Group, state: _RunState, result: StepResult, stats: RunnerStats) -> bool:
        """Queue a wait, a finish or a quarantine; return whether the run stops here."""
        now = self.now()
        released = {"lease_owner": None, "lease_expires_at": None}
        if result.quarantine is not None:
            group.values.update(
                state=RunState.QUARANTINED.value,
                error=result.quarantine,
                error_kind="quarantined",
                finished_at=now,
                outcome="quarantined",
                **released,
            )
            stats.quarantined += 1
            return True
        if result.finish is not None:
            self._finish_run(group, state, outcome=result.finish)
            stats.completed += 1
            return True
        if result.wait is not None:
            group.values.update(state=RunState.WAITING_REVIEW.value, waiting_since=now, **released)
            stats.waiting += 1
            return True
        if state.step_index >= len(self.workflow.steps):
            self._finish_run(group, state, outcome=None)
            stats.completed += 1
            return True
        return False

    def _finish_run(self, group: _Group, state: _RunState, *, outcome: str | None) -> None:
        group.values.update(
            state=RunState.COMPLETED.value, finished_at=self.now(), lease_owner=None, lease_expires_at=None
        )
        if outcome is not None:
            group.values["outcome"] = outcome
            state.outcome = outcome
        group.events.append(
            NewAuditEvent(
                action="run.completed",
                outcome=str(state.outcome or "done"),
                run_id=str(state.info.run_id),
                email_ref=state.info.email_ref,
            )
        )

    # --- failures ------------------------------------------------------------------------------

    def _fail_unloadable(self, run_id: int, message: str, stats: RunnerStats) -> None:
        now = self.now()
        with self.db.write() as conn:
            conn.execute(
                update(_R)
                .where(_R.c.id == run_id, _R.c.lease_owner == self.owner)
                .values(
                    state=RunState.FAILED.value,
                    error=message,
                    error_kind=ErrorKind.PERMANENT.value,
                    updated_at=now,
                    finished_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
            audit_repo.append(
                conn,
                [
                    NewAuditEvent(
                        action="run.failed",
                        outcome="failed",
                        run_id=str(run_id),
                        detail={"error_kind": "workflow_changed"},
                    )
                ],
                now=now,
            )
        stats.failed += 1

    def _record_failure(
        self, state: _RunState, step: Step[DepsT], exc: BaseException, stats: RunnerStats
    ) -> None:
        kind = classify_error(exc)
        if isinstance(exc, LeaseLostError):
            raise exc
        if kind is ErrorKind.INTERNAL:
            log.error("run %s step %s: internal error", state.info.run_id, step.name, exc_info=exc)
        attempt = state.attempt + 1
        now = self.now()
        message = _describe(exc)
        retry = is_retryable(kind) and attempt < step.retry.max_attempts
        values: dict[str, Any] = {
            "attempt": attempt,
            "error": message,
            "error_kind": kind.value,
            "updated_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        detail: dict[str, Any] = {"step": step.name, "attempt": attempt, "error_type": type(exc).__name__}
        if retry:
            retry_after = exc.retry_after if isinstance(exc, TransientError) else None
            delay = step.retry.delay_for(attempt, retry_after=retry_after, rng=self._rng)
            values.update(state=RunState.RETRYING.value, next_attempt_at=now + timedelta(seconds=delay))
            detail["retry_in_ms"] = int(delay * 1000)
            action, outcome = "step.retry_scheduled", "retry"
            stats.retrying += 1
        else:
            values.update(state=RunState.FAILED.value, next_attempt_at=None, finished_at=now)
            action, outcome = "run.failed", "failed"
            stats.failed += 1
        detail["error_kind"] = kind.value
        with self.db.write() as conn:
            fenced = conn.execute(
                update(_R)
                .where(_R.c.id == state.info.run_id, _R.c.lease_owner == self.owner)
                .values(**values)
            )
            if fenced.rowcount != 1:
                raise LeaseLostError(f"run {state.info.run_id}: lease lost while recording a failure")
            audit_repo.append(
                conn,
                [
                    NewAuditEvent(
                        action=action,
                        outcome=outcome,
                        run_id=str(state.info.run_id),
                        email_ref=state.info.email_ref,
                        detail=detail,
                    )
                ],
                now=now,
            )


def _is_local(step: Step[Any], state: _RunState) -> bool:
    """Whether the step stays on this machine this time: always, or given earlier outputs.

    A step may define ``local_for(outputs) -> bool`` (e.g. *send* when the route closed the run
    without a reply) to be recorded with its neighbours instead of in a thread of its own.
    """
    if step.local:
        return True
    local_for = getattr(step, "local_for", None)
    return bool(local_for(state.outputs)) if callable(local_for) else False


def _run_info(row: Any, run_id: int, install_id: str) -> RunInfo:
    return RunInfo(
        run_id=run_id,
        run_key=f"{install_id}:{run_id}",
        email_id=int(row.email_id),
        identity=row.identity,
        account=row.account,
        folder=row.folder,
        uidvalidity=row.uidvalidity,
        uid=row.uid,
        source_key=row.source_key,
        message_id=row.message_id,
        received_at=row.received_at,
        category=row.category,
        confidence=row.confidence,
    )


class _WorkflowMismatch(Exception):  # noqa: N818 - internal signal, never leaves the runner
    """A checkpoint was written by a different workflow definition (the step names differ)."""

    def __init__(self, run_id: int, index: int, found: str, expected: str | None) -> None:
        super().__init__(
            f"run {run_id}: checkpoint {index} is step {found!r} but the workflow now has {expected!r} there"
        )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def _with_classification(info: RunInfo, updates: Mapping[str, Any]) -> RunInfo:
    from dataclasses import replace

    return replace(
        info,
        category=updates.get("category", info.category),
        confidence=updates.get("confidence", info.confidence),
    )
