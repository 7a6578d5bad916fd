"""The rate limiter: pacing, the sliding-window cap, concurrency, Retry-After pauses, 16 threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from connectors.errors import RateLimitedError
from connectors.ratelimit import RateLimiter
from engine.errors import TransientError


class FakeTime:
    """A clock whose sleep advances it (single-threaded tests)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def limiter(fake: FakeTime, limit: int | None, **kwargs: object) -> RateLimiter:
    return RateLimiter(limit, clock=fake.clock, sleep=fake.sleep, **kwargs)  # type: ignore[arg-type]


def max_in_window(starts: list[float], window: float) -> int:
    starts = sorted(starts)
    best = 0
    j = 0
    for i, start in enumerate(starts):
        while starts[j] <= start - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_paces_evenly_after_the_burst() -> None:
    fake = FakeTime()
    rl = limiter(fake, 60, burst=3, margin_s=0.0)
    starts = [rl.reserve() - 1000.0 for _ in range(6)]
    assert starts == pytest.approx([0, 0, 0, 1, 2, 3])


def test_sliding_window_caps_even_with_a_large_burst() -> None:
    fake = FakeTime()
    rl = limiter(fake, 5, window_s=10.0, burst=5, margin_s=0.5)
    starts = [rl.reserve() - 1000.0 for _ in range(7)]
    assert starts[:5] == pytest.approx([0, 0, 0, 0, 0])
    assert starts[5] == pytest.approx(10.5)  # the first start must leave the window (plus margin)
    assert max_in_window(starts, 10.0) == 5


def test_no_limit_never_waits() -> None:
    fake = FakeTime()
    rl = limiter(fake, None)
    assert {rl.reserve() for _ in range(100)} == {1000.0}


def test_pause_holds_everyone_until_retry_after() -> None:
    fake = FakeTime()
    rl = limiter(fake, 600)
    rl.pause(30)
    assert rl.paused_for == pytest.approx(30)
    assert rl.reserve() == pytest.approx(1030.0)
    rl.pause(5)  # a shorter pause never shortens a longer one
    assert rl.paused_for == pytest.approx(30)


def test_deadline_raises_without_reserving() -> None:
    fake = FakeTime()
    rl = limiter(fake, 600, name="OpenAI")
    rl.pause(120)
    with pytest.raises(RateLimitedError) as caught, rl.slot(max_wait=10):
        pytest.fail("must not run")
    assert isinstance(caught.value, TransientError)
    assert caught.value.retry_after == pytest.approx(120)
    assert "OpenAI" in str(caught.value)
    fake.sleep(120)
    assert rl.reserve() == pytest.approx(fake.now)  # nothing was reserved by the refused call


def test_slot_sleeps_until_the_reserved_start() -> None:
    fake = FakeTime()
    rl = limiter(fake, 60, burst=1)
    seen = []
    for _ in range(3):
        with rl.slot():
            seen.append(fake.now - 1000.0)
    assert seen == pytest.approx([0, 1, 2])


def test_concurrency_slot_times_out() -> None:
    rl = RateLimiter(None, max_concurrency=1, name="Local")
    with rl.slot(), pytest.raises(RateLimitedError, match="busy"), rl.slot(max_wait=0.05):
        pytest.fail("must not run")


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="limit"):
        RateLimiter(0)
    with pytest.raises(ValueError, match="max_concurrency"):
        RateLimiter(10, max_concurrency=0)


class RecordingLimiter(RateLimiter):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.reserved: list[float] = []
        self._record = threading.Lock()

    def reserve(self, *, deadline: float | None = None) -> float:
        start = super().reserve(deadline=deadline)
        with self._record:
            self.reserved.append(start)
        return start


def test_sixteen_threads_never_exceed_the_limit_or_the_concurrency() -> None:
    window, limit, concurrency = 0.2, 8, 3
    rl = RecordingLimiter(limit, window, max_concurrency=concurrency, margin_s=0.01)
    lock = threading.Lock()
    in_flight = 0
    most_in_flight = 0
    actual: list[float] = []

    def call() -> None:
        nonlocal in_flight, most_in_flight
        with rl.slot():
            now = time.monotonic()
            with lock:
                in_flight += 1
                most_in_flight = max(most_in_flight, in_flight)
                actual.append(now)
            time.sleep(0.005)  # the "request" being limited
            with lock:
                in_flight -= 1

    with ThreadPoolExecutor(max_workers=16) as pool:
        for future in [pool.submit(call) for _ in range(16 * 5)]:
            future.result()

    assert len(rl.reserved) == 80
    assert max_in_window(rl.reserved, window) <= limit
    assert most_in_flight <= concurrency
    # Each call starts no earlier than its reservation, so the sorted sequences compare pairwise.
    assert all(a >= r for a, r in zip(sorted(actual), sorted(rl.reserved), strict=True))
    elapsed = max(rl.reserved) - min(rl.reserved)
    assert elapsed >= (80 / limit - 1) * window  # the limit really applied
