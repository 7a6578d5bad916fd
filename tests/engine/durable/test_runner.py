"""The durable runner's promises, on a toy workflow with scripted steps."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

from engine.audit.event import NewAuditEvent
from engine.audit.verify import verify_chain
from engine.durable.leases import new_owner_id
from engine.durable.runner import Runner
from engine.durable.step import StepContext, StepResult
from engine.errors import OutcomeUnknownError, PermanentError, TransientError
from engine.ports import EffectReceipt
from engine.review import retry_run
from engine.storage import audit_repo
from engine.storage.db import Database
from engine.storage.models import Effect, Run, StepCheckpoint, table_of
from tests.engine.conftest import FakeClock
from tests.engine.durable.toy import ToyDeps, ToyStep, create_runs, toy_marks, toy_workflow

_R = table_of(Run)
_C = table_of(StepCheckpoint)


def make_runner(
    db: Database, deps: ToyDeps, clock: FakeClock, *steps: ToyStep, **kwargs: Any
) -> Runner[ToyDeps]:
    return Runner(
        db, toy_workflow(*steps), deps, install_id="test", now=clock, rng=random.Random(1), **kwargs
    )


def run_row(db: Database, run_id: int) -> Any:
    with db.read() as conn:
        return conn.execute(select(_R).where(_R.c.id == run_id)).one()


def audit_actions(db: Database, run_id: int) -> list[str]:
    with db.read() as conn:
        return [e.action for e in audit_repo.iter_events(conn) if e.run_id == str(run_id)]


def chain_ok(db: Database) -> bool:
    with db.read() as conn:
        return verify_chain(audit_repo.iter_events(conn)).ok


@pytest.mark.parametrize("grouped", [True, False])
def test_runs_every_step_once_and_completes(db: Database, clock: FakeClock, grouped: bool) -> None:
    deps = ToyDeps()
    [run_id] = create_runs(db, 1)
    stats = make_runner(db, deps, clock, group_local_steps=grouped).run_until_idle()
    assert stats.completed == 1 and stats.steps == 4
    assert deps.executions == {"s1": 1, "s2": 1, "s3": 1, "s4": 1}
    row = run_row(db, run_id)
    assert row.state == "completed" and row.step_index == 4 and row.lease_owner is None
    with db.read() as conn:
        names = [
            r.step_name
            for r in conn.execute(select(_C).where(_C.c.run_id == run_id).order_by(_C.c.step_index))
        ]
    assert names == ["s1", "s2", "s3", "s4"]
    assert toy_marks(db) == {f"toy:{run_id}:s{i}" for i in range(1, 5)}
    assert audit_actions(db, run_id) == ["step.s1", "step.s2", "step.s3", "step.s4", "run.completed"]
    assert chain_ok(db)


def test_transient_error_is_retried_with_backoff_then_succeeds(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    failures = iter([TransientError("timeout talking to CRM"), TransientError("503")])

    def flaky(ctx: StepContext[Any]) -> StepResult | None:
        error = next(failures, None)
        if error is not None:
            raise error
        return None

    deps.behaviour["s2"] = flaky
    [run_id] = create_runs(db, 1)
    runner = make_runner(db, deps, clock)
    assert runner.run_until_idle().retrying == 1
    row = run_row(db, run_id)
    assert row.state == "retrying" and row.attempt == 1 and "timeout" in row.error
    delay = (row.next_attempt_at - clock()).total_seconds()
    assert 0.5 <= delay <= 1.0  # first retry: full jitter in [initial/2, initial]
    assert runner.run_until_idle().runs == 0  # not before its time
    clock.advance(delay)
    runner.run_until_idle()
    row = run_row(db, run_id)
    assert row.state == "retrying" and row.attempt == 2
    assert 1.0 <= (row.next_attempt_at - clock()).total_seconds() <= 2.0  # doubled cap
    clock.advance(2)
    runner.run_until_idle()
    assert run_row(db, run_id).state == "completed"
    assert deps.executions["s1"] == 1  # finished steps never run again
    assert deps.executions["s2"] == 3
    assert audit_actions(db, run_id).count("step.retry_scheduled") == 2


def test_retry_after_is_honoured(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    deps.behaviour["s1"] = lambda ctx: (_ for _ in ()).throw(TransientError("429", retry_after=7.5))
    [run_id] = create_runs(db, 1)
    make_runner(db, deps, clock).run_until_idle()
    assert (run_row(db, run_id).next_attempt_at - clock()).total_seconds() == pytest.approx(7.5)


def test_attempt_limit_marks_failed_and_retry_resumes_from_failed_step(
    db: Database, clock: FakeClock
) -> None:
    deps = ToyDeps()
    broken = {"on": True}

    def maybe_fail(ctx: StepContext[Any]) -> StepResult | None:
        if broken["on"]:
            raise TransientError("server unavailable")
        return None

    deps.behaviour["s3"] = maybe_fail
    [run_id] = create_runs(db, 1)
    runner = make_runner(db, deps, clock)
    for _ in range(3):
        runner.run_until_idle()
        clock.advance(60)
    row = run_row(db, run_id)
    assert row.state == "failed" and row.error == "server unavailable" and row.attempt == 3
    assert row.step_index == 2
    broken["on"] = False
    retry_run(db, run_id, actor="Alice", now=clock())
    runner.run_until_idle()
    assert run_row(db, run_id).state == "completed"
    assert deps.executions == {"s1": 1, "s2": 1, "s3": 4, "s4": 1}
    assert "run.retry_requested" in audit_actions(db, run_id)


def test_permanent_error_fails_at_once(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    deps.behaviour["s1"] = lambda ctx: (_ for _ in ()).throw(PermanentError("HTTP 400: bad request"))
    [run_id] = create_runs(db, 1)
    assert make_runner(db, deps, clock).run_until_idle().failed == 1
    row = run_row(db, run_id)
    assert row.state == "failed" and row.error_kind == "permanent"
    assert deps.executions["s1"] == 1


def test_unexpected_exception_is_a_permanent_internal_failure(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    deps.behaviour["s2"] = lambda ctx: (_ for _ in ()).throw(ZeroDivisionError("division by zero"))
    [run_id] = create_runs(db, 1)
    make_runner(db, deps, clock).run_until_idle()
    row = run_row(db, run_id)
    assert row.state == "failed" and row.error_kind == "internal" and "division" in row.error


def test_step_timeout_is_a_retryable_failure(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    release = threading.Event()
    deps.behaviour["slow"] = lambda ctx: (release.wait(10), None)[1]
    [run_id] = create_runs(db, 1)
    runner = make_runner(db, deps, clock, ToyStep("slow", local=False, timeout_s=0.05))
    try:
        runner.run_until_idle()
    finally:
        release.set()
    row = run_row(db, run_id)
    assert row.state == "retrying" and row.error_kind == "timeout"
    runner.close()


def test_wait_is_durable_and_resumes_after_decision(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    deps.behaviour["s2"] = lambda ctx: StepResult(output={"route": "review"}, wait="review")
    [run_id] = create_runs(db, 1)
    assert make_runner(db, deps, clock).run_until_idle().waiting == 1
    assert run_row(db, run_id).state == "waiting_review"
    # A new runner (as after a restart days later) does not touch a waiting run.
    clock.advance(3 * 86400)
    assert make_runner(db, deps, clock).run_until_idle().runs == 0
    with db.write() as conn:
        conn.execute(update(_R).where(_R.c.id == run_id).values(state="pending"))
    make_runner(db, deps, clock).run_until_idle()
    assert run_row(db, run_id).state == "completed"
    assert deps.executions == {"s1": 1, "s2": 1, "s3": 1, "s4": 1}


def test_finish_and_quarantine_stop_the_run(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    deps.behaviour["s1"] = lambda ctx: (
        StepResult(quarantine="no headers") if ctx.run.run_id == first else StepResult(finish="no_reply")
    )
    first, second = create_runs(db, 2)
    make_runner(db, deps, clock).run_until_idle()
    assert (run_row(db, first).state, run_row(db, first).error) == ("quarantined", "no headers")
    assert (run_row(db, second).state, run_row(db, second).outcome) == ("completed", "no_reply")
    assert deps.executions["s2"] == 0


def test_live_lease_blocks_other_workers_and_expired_lease_does_not(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    [run_id] = create_runs(db, 1)
    with db.write() as conn:
        conn.execute(
            update(_R)
            .where(_R.c.id == run_id)
            .values(lease_owner="otherhost:1:abcd", lease_expires_at=clock().replace(hour=10))
        )
    runner = make_runner(db, deps, clock)
    assert runner.run_until_idle().runs == 0
    assert runner.release_dead_leases() == 0  # another host: only expiry frees it
    clock.advance(3601)
    assert runner.run_until_idle().completed == 1


def test_lease_of_dead_local_process_is_released_at_once(db: Database, clock: FakeClock) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    import socket

    owner = f"{socket.gethostname()}:{int(dead.stdout)}:dead"
    [run_id] = create_runs(db, 1)
    with db.write() as conn:
        conn.execute(
            update(_R)
            .where(_R.c.id == run_id)
            .values(lease_owner=owner, lease_expires_at=clock().replace(hour=23))
        )
    runner = make_runner(db, ToyDeps(), clock)
    assert runner.release_dead_leases() == 1
    assert runner.run_until_idle().completed == 1
    assert os.getpid() != int(dead.stdout)


def test_a_worker_that_lost_its_lease_cannot_checkpoint(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()

    def stolen(ctx: StepContext[Any]) -> StepResult | None:
        with db.write() as conn:
            conn.execute(update(_R).where(_R.c.id == ctx.run.run_id).values(lease_owner=new_owner_id()))
        return None

    deps.behaviour["s1"] = stolen
    [run_id] = create_runs(db, 1)
    stats = make_runner(db, deps, clock).run_until_idle()
    assert stats.lost_leases == 1
    with db.read() as conn:
        assert conn.execute(select(_C).where(_C.c.run_id == run_id)).first() is None
    assert toy_marks(db) == set()


def test_two_runners_share_runs_without_running_any_twice(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    ids = create_runs(db, 40)
    a, b = make_runner(db, deps, clock, claim_batch=3), make_runner(db, deps, clock, claim_batch=3)
    threads = [threading.Thread(target=r.run_until_idle) for r in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert deps.executions == {f"s{i}": 40 for i in range(1, 5)}
    assert all(run_row(db, i).state == "completed" for i in ids)
    assert chain_ok(db)


class Crash(BaseException):
    """Simulates the process dying: not an Exception, so nothing in the runner handles it."""


def test_crash_inside_a_group_loses_only_uncommitted_steps(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    crash = {"on": True}

    def die(ctx: StepContext[Any]) -> StepResult | None:
        if crash["on"]:
            raise Crash
        return None

    deps.behaviour["s3"] = die
    steps = (ToyStep("s1"), ToyStep("s2", local=False), ToyStep("s3"), ToyStep("s4"))
    [run_id] = create_runs(db, 1)
    with pytest.raises(Crash):
        make_runner(db, deps, clock, *steps).run_until_idle()
    # s1 was committed before the remote step s2; s2 is remote so it committed on its own.
    assert run_row(db, run_id).step_index == 2
    crash["on"] = False
    with db.write() as conn:  # the dead process's lease
        conn.execute(update(_R).values(lease_owner=None, lease_expires_at=None))
    make_runner(db, deps, clock, *steps).run_until_idle()
    assert run_row(db, run_id).state == "completed"
    assert deps.executions == {"s1": 1, "s2": 1, "s3": 2, "s4": 1}


def test_workflow_change_is_detected_on_replay(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    deps.behaviour["s2"] = lambda ctx: StepResult(wait="review")
    [run_id] = create_runs(db, 1)
    make_runner(db, deps, clock).run_until_idle()
    with db.write() as conn:
        conn.execute(update(_R).where(_R.c.id == run_id).values(state="pending"))
    renamed = (ToyStep("other"), ToyStep("s2"), ToyStep("s3"), ToyStep("s4"))
    make_runner(db, deps, clock, *renamed).run_until_idle()
    row = run_row(db, run_id)
    assert row.state == "failed" and "workflow" in row.error


# --- effects -------------------------------------------------------------------------------------


class FlakyRemote:
    """A remote system that records applied effects; it can apply and then lose the answer."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.lose_answer_once = False
        self.refuse_once = False

    def perform(self, key: str) -> EffectReceipt:
        if self.refuse_once:
            self.refuse_once = False
            raise TransientError("connection refused")
        self.applied.append(key)
        if self.lose_answer_once:
            self.lose_answer_once = False
            raise OutcomeUnknownError("connection dropped after the request was sent")
        return EffectReceipt(external_id=f"remote-{len(self.applied)}", destination="crm.example.org")

    def find(self, key: str) -> EffectReceipt | None:
        return (
            EffectReceipt(external_id="found", destination="crm.example.org") if key in self.applied else None
        )


def effect_step(remote: FlakyRemote) -> ToyStep:
    return ToyStep("effect", local=False)


def effect_behaviour(remote: FlakyRemote) -> Any:
    def run(ctx: StepContext[Any]) -> StepResult:
        key = ctx.idempotency_key("crm")
        receipt = ctx.effect(
            "crm",
            destination="crm.example.org",
            perform=lambda: remote.perform(key),
            reconcile=lambda: remote.find(key),
        )
        return StepResult(
            output={"external_id": receipt.external_id},
            events=[
                NewAuditEvent(
                    action="crm.remote_logged",
                    outcome="ok",
                    run_id=str(ctx.run.run_id),
                    destination="crm.example.org",
                )
            ],
        )

    return run


def test_effect_whose_answer_was_lost_is_reconciled_not_repeated(db: Database, clock: FakeClock) -> None:
    remote = FlakyRemote()
    remote.lose_answer_once = True
    deps = ToyDeps()
    deps.behaviour["effect"] = effect_behaviour(remote)
    [run_id] = create_runs(db, 1)
    runner = make_runner(db, deps, clock, effect_step(remote))
    runner.run_until_idle()
    assert run_row(db, run_id).error_kind == "outcome_unknown"
    clock.advance(60)
    runner.run_until_idle()
    assert run_row(db, run_id).state == "completed"
    assert len(remote.applied) == 1
    assert "effect.reconciled" in audit_actions(db, run_id)


def test_effect_refused_before_sending_is_performed_again(db: Database, clock: FakeClock) -> None:
    remote = FlakyRemote()
    remote.refuse_once = True
    deps = ToyDeps()
    deps.behaviour["effect"] = effect_behaviour(remote)
    [run_id] = create_runs(db, 1)
    runner = make_runner(db, deps, clock, effect_step(remote))
    runner.run_until_idle()
    with db.read() as conn:
        assert conn.execute(select(table_of(Effect).c.state)).scalar_one() == "not_applied"
    clock.advance(60)
    runner.run_until_idle()
    assert run_row(db, run_id).state == "completed" and len(remote.applied) == 1


def test_done_effect_is_not_performed_again_after_crash_before_checkpoint(
    db: Database, clock: FakeClock
) -> None:
    remote = FlakyRemote()
    deps = ToyDeps()
    crash = {"on": True}
    inner = effect_behaviour(remote)

    def effect_then_crash(ctx: StepContext[Any]) -> StepResult:
        result = inner(ctx)
        if crash["on"]:
            raise Crash
        return result

    deps.behaviour["effect"] = effect_then_crash
    [run_id] = create_runs(db, 1)
    with pytest.raises(Crash):
        make_runner(db, deps, clock, effect_step(remote)).run_until_idle()
    crash["on"] = False
    with db.write() as conn:
        conn.execute(update(_R).values(lease_owner=None, lease_expires_at=None))
    make_runner(db, deps, clock, effect_step(remote)).run_until_idle()
    assert run_row(db, run_id).state == "completed"
    assert len(remote.applied) == 1
    assert deps.executions["effect"] == 2


def test_audit_chain_links_every_event(db: Database, clock: FakeClock) -> None:
    create_runs(db, 5)
    make_runner(db, ToyDeps(), clock).run_until_idle()
    with db.read() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM audit_events")).scalar_one()
    assert count == 25
    assert chain_ok(db)


def test_a_lost_lease_in_a_batch_undoes_only_that_run(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    first, second, third = create_runs(db, 3)
    runner = make_runner(db, deps, clock, claim_batch=3)

    def steal(ctx: StepContext[Any]) -> StepResult | None:
        # Another worker takes this run over while our steps are being computed.
        if ctx.run.run_id == second:
            with db.write() as conn:
                conn.execute(update(_R).where(_R.c.id == second).values(lease_owner="otherhost:1:thief"))
        return None

    deps.behaviour["s1"] = steal
    stats = runner.run_until_idle()
    assert stats.lost_leases == 1
    assert run_row(db, first).state == run_row(db, third).state == "completed"
    with db.read() as conn:
        assert conn.execute(select(_C).where(_C.c.run_id == second)).first() is None
    assert toy_marks(db) == {f"toy:{r}:s{i}" for r in (first, third) for i in range(1, 5)}
    assert chain_ok(db)


def test_steps_are_computed_with_no_write_lock_held(db: Database, clock: FakeClock) -> None:
    """Another writer can commit while a step computes (several processes share one profile)."""
    deps = ToyDeps()
    [run_id] = create_runs(db, 1)
    finished = threading.Event()

    def compute(ctx: StepContext[Any]) -> StepResult | None:
        def other_writer() -> None:
            with db.write() as conn:
                conn.execute(text("INSERT INTO settings(key, value, updated_at) VALUES ('other', '1', 'x')"))
            finished.set()

        thread = threading.Thread(target=other_writer)
        thread.start()
        thread.join(5)
        assert finished.is_set(), "a writer was blocked while a step computed"
        return None

    deps.behaviour["s3"] = compute
    make_runner(db, deps, clock).run_until_idle()
    assert run_row(db, run_id).state == "completed"
    assert chain_ok(db)


def test_writes_of_a_batch_go_in_together_and_a_lost_run_writes_none(db: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    runs = create_runs(db, 4)
    insert_mark = text("INSERT INTO settings(key, value, updated_at) VALUES (:key, '1', '2026-01-01')")
    thief = runs[2]

    def write_mark(ctx: StepContext[Any]) -> StepResult:
        if ctx.run.run_id == thief:
            with db.write() as conn:
                conn.execute(update(_R).where(_R.c.id == thief).values(lease_owner="otherhost:1:thief"))
        return StepResult(writes=((insert_mark, {"key": f"write:{ctx.run.run_id}"}),))

    deps.behaviour["s2"] = write_mark
    stats = make_runner(db, deps, clock, claim_batch=4).run_until_idle()
    assert stats.lost_leases == 1
    with db.read() as conn:
        keys = {r[0] for r in conn.execute(text("SELECT key FROM settings WHERE key LIKE 'write:%'"))}
    assert keys == {f"write:{r}" for r in runs if r != thief}
    assert chain_ok(db)


@pytest.mark.parametrize("repeatable", [False, True])
def test_earlier_steps_commit_before_a_remote_step_unless_it_is_repeatable(
    db: Database, clock: FakeClock, repeatable: bool
) -> None:
    deps = ToyDeps()
    [run_id] = create_runs(db, 1)
    remote = ToyStep("remote", local=False)
    remote.repeatable = repeatable  # type: ignore[attr-defined]
    seen: list[int] = []

    def look(ctx: StepContext[Any]) -> StepResult | None:
        with db.read() as conn:
            seen.append(conn.execute(select(_R.c.step_index).where(_R.c.id == run_id)).scalar_one())
        return None

    deps.behaviour["remote"] = look
    make_runner(db, deps, clock, ToyStep("s1"), ToyStep("s2"), remote).run_until_idle()
    assert seen == [0 if repeatable else 2]
    assert run_row(db, run_id).state == "completed"


def test_claimed_runs_waiting_their_turn_keep_their_lease(db: Database, clock: FakeClock) -> None:
    """Slow remote steps early in a batch must not let the later runs' leases run out."""
    deps = ToyDeps()
    runs = create_runs(db, 3)
    remote = ToyStep("remote", local=False)
    expiries: dict[int, Any] = {}

    def slow(ctx: StepContext[Any]) -> StepResult | None:
        clock.advance(50)
        return None

    def look(ctx: StepContext[Any]) -> StepResult | None:
        expiries[ctx.run.run_id] = (clock(), run_row(db, ctx.run.run_id).lease_expires_at)
        return None

    deps.behaviour["remote"] = slow
    deps.behaviour["s1"] = look
    clock.start = clock()  # type: ignore[attr-defined]
    runner = make_runner(db, deps, clock, ToyStep("s1"), remote, claim_batch=3, lease_s=60)
    stats = runner.run_until_idle()
    assert stats.completed == 3 and stats.lost_leases == 0
    # The third run was driven 100 s after the claim (60 s leases); its lease was renewed meanwhile.
    driven_at, expires_at = expiries[runs[2]]
    assert driven_at - clock.start == timedelta(seconds=100)
    assert expires_at > driven_at
