"""The states a run can be in, and which of them the runner may pick up."""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    """Where a run stands. Terminal: completed, failed, quarantined."""

    PENDING = "pending"
    RETRYING = "retrying"
    WAITING_REVIEW = "waiting_review"
    COMPLETED = "completed"
    FAILED = "failed"
    QUARANTINED = "quarantined"


#: States a worker may claim (``retrying`` only once ``next_attempt_at`` has passed).
CLAIMABLE_STATES: tuple[str, ...] = (RunState.PENDING.value, RunState.RETRYING.value)

#: ``CLAIMABLE_STATES`` as SQL with literal values: the condition of the ``ix_runs_claimable``
#: partial index, which a query can only use when it repeats the condition word for word.
CLAIMABLE_CONDITION = "state IN (" + ", ".join(f"'{s}'" for s in CLAIMABLE_STATES) + ")"

#: States in which nothing more happens without a person.
TERMINAL_STATES: tuple[str, ...] = (
    RunState.COMPLETED.value,
    RunState.FAILED.value,
    RunState.QUARANTINED.value,
)

ALL_STATES: tuple[str, ...] = tuple(s.value for s in RunState)
