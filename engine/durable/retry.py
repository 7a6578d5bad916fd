"""Retry rules: exponential backoff with full jitter, per-step attempt limits, error classes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from engine.errors import (
    LeaseLostError,
    OutcomeUnknownError,
    PermanentError,
    StepTimeoutError,
    TransientError,
)

#: First retry after about this many seconds.
DEFAULT_INITIAL_DELAY_S = 2.0
#: Each further retry waits up to this factor longer.
DEFAULT_MULTIPLIER = 2.0
#: No retry waits longer than this.
DEFAULT_MAX_DELAY_S = 600.0
#: Attempts per step (the first try included) before the run is marked failed.
DEFAULT_MAX_ATTEMPTS = 5


class ErrorKind(StrEnum):
    """How the runner treats a step's failure."""

    TRANSIENT = "transient"
    OUTCOME_UNKNOWN = "outcome_unknown"
    TIMEOUT = "timeout"
    PERMANENT = "permanent"
    INTERNAL = "internal"


def classify_error(exc: BaseException) -> ErrorKind:
    """Map an exception to how it is retried. Unknown exceptions are bugs: not retried."""
    if isinstance(exc, StepTimeoutError):
        return ErrorKind.TIMEOUT
    if isinstance(exc, OutcomeUnknownError):
        return ErrorKind.OUTCOME_UNKNOWN
    if isinstance(exc, TransientError):
        return ErrorKind.TRANSIENT
    if isinstance(exc, PermanentError | LeaseLostError):
        return ErrorKind.PERMANENT
    return ErrorKind.INTERNAL


def is_retryable(kind: ErrorKind) -> bool:
    """Whether a failure of this kind is worth another attempt."""
    return kind in (ErrorKind.TRANSIENT, ErrorKind.OUTCOME_UNKNOWN, ErrorKind.TIMEOUT)


@dataclass(frozen=True)
class RetryPolicy:
    """Per-step retry settings."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    initial_delay_s: float = DEFAULT_INITIAL_DELAY_S
    multiplier: float = DEFAULT_MULTIPLIER
    max_delay_s: float = DEFAULT_MAX_DELAY_S

    def delay_for(
        self, attempt: int, *, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

        Full jitter: uniform in [cap/2, cap] where cap grows exponentially, so retries of many runs
        spread out. A server's ``Retry-After`` wins when it asks for longer.
        """
        cap = min(self.max_delay_s, self.initial_delay_s * (self.multiplier ** max(0, attempt - 1)))
        chooser = rng or random
        delay = chooser.uniform(cap / 2, cap)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay_s))
        return delay


NO_RETRY = RetryPolicy(max_attempts=1)
