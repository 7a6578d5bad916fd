"""Exchange Online's limits for one mailbox, kept on the client side.

At most 4 requests to a mailbox at the same time (more are answered 429 "ApplicationThrottled"),
and at most 30 messages sent per minute. :class:`MailboxLimits` is shared by the mailbox's source
and sender: a semaphore for concurrency and a sliding one-minute window for sends.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from connectors.errors import RateLimitedError

#: Exchange Online: concurrent requests per app and mailbox.
MAX_CONCURRENT_REQUESTS = 4
#: Exchange Online: messages a mailbox may send per minute.
MAX_SENDS_PER_MINUTE = 30
_WINDOW_S = 60.0


class MailboxLimits:
    """Concurrency and send-rate limits of one mailbox."""

    def __init__(
        self,
        *,
        concurrent: int = MAX_CONCURRENT_REQUESTS,
        sends_per_minute: int = MAX_SENDS_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.concurrent = concurrent
        self.sends_per_minute = sends_per_minute
        self.requests = threading.BoundedSemaphore(concurrent)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sends: deque[float] = deque()

    def take_send_slot(self, *, max_wait_s: float = _WINDOW_S) -> float:
        """Reserve a send within the per-minute limit, waiting up to ``max_wait_s``; return the wait.

        Raises :class:`RateLimitedError` (with ``retry_after``) when the wait would be longer.
        """
        with self._lock:
            now = self._clock()
            while self._sends and self._sends[0] <= now - _WINDOW_S:
                self._sends.popleft()
            wait = 0.0
            if len(self._sends) >= self.sends_per_minute:
                wait = self._sends[0] + _WINDOW_S - now
                if wait > max_wait_s:
                    raise RateLimitedError(
                        f"{self.sends_per_minute} messages were sent in the last minute (Exchange limit)",
                        retry_after=wait,
                    )
                self._sends.popleft()
            self._sends.append(now + wait)
        if wait > 0:
            self._sleep(wait)
        return wait
