"""Token use per provider per day, shown in Settings (the engine persists it).

:class:`TokenUsageLedger` is what the provider chain records into; :class:`InMemoryTokenUsageLedger`
is the thread-safe reference implementation (and the one tests and the bench use).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class TokenUsage:
    """One provider's use on one day."""

    provider: str
    day: date
    requests: int
    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


@runtime_checkable
class TokenUsageLedger(Protocol):
    """Where token use is recorded; must be safe to call from several threads."""

    def record(self, provider: str, day: date, *, input_tokens: int, output_tokens: int) -> None:
        """Add one answered request to ``provider``'s totals for ``day``."""
        ...

    def usage(self, day: date) -> list[TokenUsage]:
        """Every provider's totals for ``day``, sorted by provider name."""
        ...


class InMemoryTokenUsageLedger:
    """A :class:`TokenUsageLedger` kept in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[tuple[str, date], tuple[int, int, int]] = {}

    def record(self, provider: str, day: date, *, input_tokens: int, output_tokens: int) -> None:
        """Add one answered request to ``provider``'s totals for ``day``."""
        with self._lock:
            requests, tokens_in, tokens_out = self._totals.get((provider, day), (0, 0, 0))
            self._totals[(provider, day)] = (
                requests + 1,
                tokens_in + max(0, input_tokens),
                tokens_out + max(0, output_tokens),
            )

    def usage(self, day: date) -> list[TokenUsage]:
        """Every provider's totals for ``day``, sorted by provider name."""
        with self._lock:
            items = [(p, t) for (p, d), t in self._totals.items() if d == day]
        return [TokenUsage(p, day, r, i, o) for p, (r, i, o) in sorted(items)]
