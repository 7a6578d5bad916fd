"""The outcome of classifying one email."""

from __future__ import annotations

from dataclasses import dataclass

#: Where a classification came from.
SOURCES = ("rule", "model", "headers", "ai")


@dataclass(frozen=True)
class Classification:
    """A category with a confidence in [0, 1] and the human-readable reasons behind it.

    ``source`` is ``"rule"`` (a user rule matched), ``"model"`` (the local model decided),
    ``"headers"`` (automated-mail headers decided, with the model's agreement) or ``"ai"`` (an AI
    provider decided; see :mod:`engine.ai.chain`).
    """

    category: str
    confidence: float
    reasons: tuple[str, ...]
    source: str

    def __post_init__(self) -> None:
        """Reject impossible values early: they would end up in the audit log."""
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within [0, 1], got {self.confidence!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {self.source!r}")
