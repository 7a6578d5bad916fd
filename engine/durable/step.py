"""What a workflow step is, what it is given, and what it hands back to the runner.

A step *computes* in :meth:`Step.execute` without writing to the database, and returns a
:class:`StepResult`. The runner then applies the result's local writes (``apply``), the audit
events and the checkpoint in one transaction. Effects outside the machine go through
:meth:`StepContext.effect`, which records an intent first and reconciles before any retry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Executable

from engine.audit.event import NewAuditEvent
from engine.durable.retry import RetryPolicy
from engine.ports import EffectReceipt

if TYPE_CHECKING:
    from engine.durable.effects import EffectLedger
    from engine.storage.db import Database

DepsT = TypeVar("DepsT")


@dataclass(frozen=True)
class RunInfo:
    """The run and its email as a step sees them (read-only)."""

    run_id: int
    run_key: str
    email_id: int
    identity: str
    account: str
    folder: str
    uidvalidity: int | None
    uid: int | None
    source_key: str | None
    message_id: str | None
    received_at: datetime | None
    category: str | None
    confidence: float | None

    @property
    def email_ref(self) -> str:
        """How the audit log refers to this email: its Message-ID, else its identity."""
        return self.message_id or self.identity


@dataclass
class StepResult:
    """What a step produced.

    - ``output``: JSON-ready result, checkpointed and handed to later steps.
    - ``events``: audit events recorded with the checkpoint.
    - ``apply``: local database writes done in the checkpoint's transaction.
    - ``writes``: plain statements with their parameters, also in that transaction: the same
      statement of several runs is executed once for all of them, after every ``apply`` of the
      batch. Use them for rows that no other step's ``apply`` touches (e.g. the parsed fields of
      the run's own email).
    - ``run_updates``: columns of the run to set (category, confidence, priority, flags).
    - ``wait``: the run now waits for a person (e.g. ``"review"``).
    - ``finish``: the run is complete with this outcome; later steps are skipped.
    - ``quarantine``: the email cannot be understood; the run stops with this reason.
    """

    output: dict[str, Any] = field(default_factory=dict)
    events: list[NewAuditEvent] = field(default_factory=list)
    apply: Callable[[Connection], None] | None = None
    writes: tuple[tuple[Executable, dict[str, Any]], ...] = ()
    run_updates: dict[str, Any] = field(default_factory=dict)
    wait: str | None = None
    finish: str | None = None
    quarantine: str | None = None


class Step(Protocol[DepsT]):
    """One step of a workflow.

    ``local`` steps only touch this machine's database, so the runner may checkpoint several of
    them in one transaction; a step that reaches outside (CRM, SMTP, an AI provider) is not local
    and runs with ``timeout_s`` in a worker thread. Before a remote step the runner commits what
    the batch has recorded so far, unless the step has a true ``repeatable`` attribute: its outside
    action may simply happen again (setting a flag), so if the process dies before the earlier
    steps commit, doing it once more on the rerun is harmless.
    """

    @property
    def name(self) -> str:
        """Stable name, checked against the checkpoint on replay."""
        ...

    @property
    def local(self) -> bool:
        """True when the step's only effects are on this machine's database."""
        ...

    @property
    def timeout_s(self) -> float:
        """How long one attempt may take."""
        ...

    @property
    def retry(self) -> RetryPolicy:
        """Attempts and backoff for this step."""
        ...

    def execute(self, ctx: StepContext[DepsT]) -> StepResult:
        """Do the step's work and describe its local effects."""
        ...


@dataclass
class StepContext(Generic[DepsT]):
    """Everything a step may use: the run, earlier outputs, the workflow's dependencies."""

    run: RunInfo
    step_name: str
    step_index: int
    attempt: int
    outputs: Mapping[str, Mapping[str, Any]]
    deps: DepsT
    db: Database
    now: Callable[[], datetime]
    deadline: float
    ledger: EffectLedger
    scratch: dict[str, Any] = field(default_factory=dict)

    def output_of(self, step_name: str) -> Mapping[str, Any]:
        """The checkpointed output of an earlier step (empty if it has not run)."""
        return self.outputs.get(step_name, {})

    def idempotency_key(self, kind: str) -> str:
        """The key of an effect of this step; the same on every attempt and after a crash."""
        return f"{self.run.run_key}:{self.step_name}:{kind}"

    def effect(
        self,
        kind: str,
        *,
        destination: str,
        perform: Callable[[], EffectReceipt],
        reconcile: Callable[[], EffectReceipt | None],
    ) -> EffectReceipt:
        """Perform an effect outside the machine at most once (see :class:`EffectLedger`)."""
        return self.ledger.perform_once(
            key=self.idempotency_key(kind),
            run_id=self.run.run_id,
            step_name=self.step_name,
            kind=kind,
            destination=destination,
            perform=perform,
            reconcile=reconcile,
        )
