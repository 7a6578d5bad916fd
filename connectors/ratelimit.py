"""Per-provider request limits: requests per minute, concurrent requests, and Retry-After pauses.

:class:`RateLimiter` guarantees that no window of ``window_s`` seconds ever contains more than
``limit`` request starts (a sliding-window log, with a small safety margin for network jitter),
paces starts evenly at ``window_s / limit`` apart with a burst allowance (so a provider that
enforces its per-minute limit per second is not flooded), keeps at most ``max_concurrency``
requests in flight, and pauses every caller after a 429's ``Retry-After``. It is thread-safe:
reservations are made under one lock, so no interleaving of threads can exceed the limit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from connectors.errors import RateLimitedError

#: Extra spacing between the start that falls out of the window and the one that enters it, so the
#: limit holds as the server measures it even when requests arrive a little early or late.
DEFAULT_MARGIN_S = 0.25


class RateLimiter:
    """At most ``limit`` starts per ``window_s`` seconds and ``max_concurrency`` in flight.

    ``limit=None`` means no rate limit, ``max_concurrency=None`` no concurrency limit. ``burst``
    is how many starts may happen back to back before pacing applies (default: the concurrency,
    at least 1, at most the limit).
    """

    def __init__(
        self,
        limit: int | None,
        window_s: float = 60.0,
        *,
        max_concurrency: int | None = None,
        burst: int | None = None,
        margin_s: float = DEFAULT_MARGIN_S,
        name: str = "provider",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1 request per window")
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.limit = limit
        self.window_s = window_s
        self.max_concurrency = max_concurrency
        self.name = name
        self._margin = margin_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts: deque[float] = deque(maxlen=limit)
        self._interval = window_s / limit if limit else 0.0
        chosen = burst if burst is not None else (max_concurrency or 1)
        self._burst = max(1, min(chosen, limit)) if limit else 1
        self._tat = float("-inf")  # theoretical arrival time of the pacing (GCRA)
        self._paused_until = float("-inf")
        self._in_flight = threading.BoundedSemaphore(max_concurrency) if max_concurrency else None

    @property
    def paused_for(self) -> float:
        """Seconds until a Retry-After pause ends (0 when not paused)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """Hold every new request for ``seconds`` (after a 429 with Retry-After)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    @contextmanager
    def slot(self, *, max_wait: float | None = None) -> Iterator[None]:
        """Wait for a concurrency slot and a start time, run the body, free the slot.

        Raises :class:`RateLimitedError` (with ``retry_after``) instead of waiting longer than
        ``max_wait`` seconds, so a caller can try another provider meanwhile.
        """
        deadline = None if max_wait is None else self._clock() + max_wait
        if self._in_flight is not None:
            timeout = None if deadline is None else max(0.0, deadline - self._clock())
            if not self._in_flight.acquire(timeout=timeout):
                raise RateLimitedError(f"{self.name}: all {self.max_concurrency} connections are busy")
        try:
            self._wait_for_start(deadline)
            yield
        finally:
            if self._in_flight is not None:
                self._in_flight.release()

    def reserve(self, *, deadline: float | None = None) -> float:
        """Reserve the earliest allowed start time (clock units) and return it.

        Raises :class:`RateLimitedError` without reserving when that time is after ``deadline``.
        """
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until)
            if self.limit is not None:
                start = max(start, self._tat - (self._burst - 1) * self._interval)
                if len(self._starts) == self.limit:  # the oldest of the last `limit` starts
                    start = max(start, self._starts[0] + self.window_s + self._margin)
            if deadline is not None and start > deadline:
                raise RateLimitedError(
                    f"{self.name}: over its request limit for the next {start - now:.0f} s",
                    retry_after=start - now,
                )
            if self.limit is not None:
                self._tat = max(self._tat, start) + self._interval
                self._starts.append(start)
            return start

    def _wait_for_start(self, deadline: float | None) -> None:
        start = self.reserve(deadline=deadline)
        delay = start - self._clock()
        if delay > 0:
            self._sleep(delay)
