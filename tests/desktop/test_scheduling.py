"""The poll scheduler behind ``serve`` and the window: interval, working hours, check now, no overlap."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

import pytest

from desktop.scheduling import PollScheduler, within_working_hours
from engine.settings import ScheduleSettings


class Polls:
    """A poll callback that counts calls and can be held open."""

    def __init__(self) -> None:
        self.count = 0
        self.running = threading.Event()
        self.done = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.concurrent = 0
        self.max_concurrent = 0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self.count += 1
            self.concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self.concurrent)
        self.running.set()
        self.release.wait(10)
        with self._lock:
            self.concurrent -= 1
        self.done.set()
        return "polled"


@pytest.fixture
def thread_errors() -> list[BaseException]:
    seen: list[BaseException] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: seen.append(args.exc_value)  # type: ignore[assignment,arg-type]
    yield seen  # type: ignore[misc]
    threading.excepthook = previous


def test_first_poll_runs_at_start_and_check_now_polls_again(thread_errors: list[BaseException]) -> None:
    polls = Polls()
    results: list[object] = []
    scheduler = PollScheduler(polls, lambda: ScheduleSettings(poll_minutes=60), on_polled=results.append)
    scheduler.start()
    try:
        assert polls.done.wait(10)
        polls.done.clear()
        scheduler.check_now()
        assert polls.done.wait(10)
    finally:
        scheduler.shutdown()
    assert polls.count == 2
    assert results == ["polled", "polled"]
    assert scheduler.next_poll() is None or scheduler.last_poll is not None
    assert thread_errors == []


def test_check_now_works_when_polling_is_switched_off(thread_errors: list[BaseException]) -> None:
    polls = Polls()
    scheduler = PollScheduler(polls, lambda: ScheduleSettings(enabled=False))
    scheduler.start()
    try:
        assert not polls.done.wait(0.3), "switched off: no poll at start"
        scheduler.check_now()
        assert polls.done.wait(10)
    finally:
        scheduler.shutdown()
    assert polls.count == 1
    assert thread_errors == []


def test_overlapping_polls_never_run_twice() -> None:
    polls = Polls()
    polls.release.clear()
    scheduler = PollScheduler(polls, lambda: ScheduleSettings(enabled=False))
    worker = threading.Thread(target=scheduler.run_once, kwargs={"manual": True})
    worker.start()
    assert polls.running.wait(10)
    assert scheduler.run_once(manual=True) is False  # the second poll is skipped, not queued
    polls.release.set()
    worker.join(10)
    assert polls.count == 1 and polls.max_concurrent == 1


def test_shutdown_right_after_check_now_raises_nothing(thread_errors: list[BaseException]) -> None:
    for _ in range(5):
        polls = Polls()
        scheduler = PollScheduler(polls, lambda: ScheduleSettings(enabled=False))
        scheduler.start()
        scheduler.check_now()
        scheduler.shutdown(wait=True)
    assert thread_errors == []


def test_working_hours_skip_scheduled_polls_but_not_manual_ones() -> None:
    schedule = ScheduleSettings(working_hours_only=True, start="09:00", end="17:30")
    saturday = datetime(2026, 11, 28, 10, 0)
    monday_early, monday_mid = datetime(2026, 11, 30, 8, 59), datetime(2026, 11, 30, 12, 0)
    assert not within_working_hours(schedule, saturday)
    assert not within_working_hours(schedule, monday_early)
    assert within_working_hours(schedule, monday_mid)
    assert within_working_hours(replace(schedule, working_hours_only=False), saturday)
    polls = Polls()
    scheduler = PollScheduler(polls, lambda: schedule, clock=lambda: saturday)
    assert scheduler.run_once() is False
    assert scheduler.run_once(manual=True) is True
    assert polls.count == 1


def test_a_failing_poll_is_reported_not_raised() -> None:
    errors: list[BaseException] = []

    def broken() -> None:
        raise OSError("mailbox unreachable")

    scheduler = PollScheduler(broken, ScheduleSettings, on_error=errors.append)
    assert scheduler.run_once(manual=True) is False
    assert scheduler.last_error == "mailbox unreachable"
    assert [str(e) for e in errors] == ["mailbox unreachable"]
