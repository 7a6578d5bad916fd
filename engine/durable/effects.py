"""At-most-once effects outside the machine, by idempotency key and reconcile-before-retry.

Protocol for one effect (key = run key + step + kind):

1. A ``done`` row exists → return its receipt; nothing is sent again.
2. A ``started`` row exists → a previous attempt may have reached the remote side; ask the
   connector to *reconcile* (look the record up by its key, look for the Message-ID in Sent).
   Found → record ``done`` and return it.
3. Otherwise record ``started`` (committed before anything leaves the machine), perform, and
   record ``done`` with the receipt. A failure that proves nothing was applied (a refused
   connection, a 4xx) records ``not_applied``; an outcome-unknown failure leaves ``started``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import insert, select, update

from engine.audit.event import NewAuditEvent
from engine.errors import OutcomeUnknownError, StepError
from engine.ports import EffectReceipt
from engine.storage import audit_repo
from engine.storage.db import Database
from engine.storage.models import Effect, table_of

_E = table_of(Effect)

STARTED = "started"
DONE = "done"
NOT_APPLIED = "not_applied"


def _receipt_to_json(receipt: EffectReceipt) -> dict[str, object]:
    return {"external_id": receipt.external_id, "destination": receipt.destination, "detail": receipt.detail}


def receipt_from_json(data: dict[str, object]) -> EffectReceipt:
    """Rebuild a stored receipt."""
    detail = data.get("detail")
    return EffectReceipt(
        external_id=str(data.get("external_id", "")),
        destination=str(data.get("destination", "")),
        detail=dict(detail) if isinstance(detail, dict) else {},
    )


class EffectLedger:
    """Records the life of each effect so that it happens at most once, even across crashes."""

    def __init__(self, db: Database, now: Callable[[], datetime]) -> None:
        self._db = db
        self._now = now

    def state_of(self, key: str) -> tuple[str, EffectReceipt | None] | None:
        """The recorded state and receipt of an effect, or None if never attempted."""
        with self._db.read() as conn:
            row = conn.execute(select(_E.c.state, _E.c.receipt).where(_E.c.key == key)).first()
        if row is None:
            return None
        receipt = receipt_from_json(row.receipt) if row.receipt else None
        return str(row.state), receipt

    def perform_once(
        self,
        *,
        key: str,
        run_id: int,
        step_name: str,
        kind: str,
        destination: str,
        perform: Callable[[], EffectReceipt],
        reconcile: Callable[[], EffectReceipt | None],
    ) -> EffectReceipt:
        """Run ``perform`` unless the effect already happened; see the module docstring."""
        known = self.state_of(key)
        if known is not None:
            state, receipt = known
            if state == DONE and receipt is not None:
                return receipt
            if state == STARTED:
                found = reconcile()
                if found is not None:
                    self._finish(key, found, run_id=run_id, kind=kind, reconciled=True)
                    return found
        self._start(key, run_id=run_id, step_name=step_name, kind=kind, destination=destination, exists=known)
        try:
            receipt = perform()
        except OutcomeUnknownError:
            raise
        except StepError:
            self._mark(key, NOT_APPLIED)
            raise
        self._finish(key, receipt, run_id=run_id, kind=kind, reconciled=False)
        return receipt

    def _start(
        self,
        key: str,
        *,
        run_id: int,
        step_name: str,
        kind: str,
        destination: str,
        exists: tuple[str, EffectReceipt | None] | None,
    ) -> None:
        now = self._now()
        with self._db.write() as conn:
            if exists is None:
                conn.execute(
                    insert(_E).values(
                        key=key,
                        run_id=run_id,
                        step_name=step_name,
                        kind=kind,
                        destination=destination,
                        state=STARTED,
                        attempts=1,
                        receipt=None,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                conn.execute(
                    update(_E)
                    .where(_E.c.key == key)
                    .values(state=STARTED, attempts=_E.c.attempts + 1, updated_at=now)
                )

    def _mark(self, key: str, state: str) -> None:
        with self._db.write() as conn:
            conn.execute(update(_E).where(_E.c.key == key).values(state=state, updated_at=self._now()))

    def _finish(self, key: str, receipt: EffectReceipt, *, run_id: int, kind: str, reconciled: bool) -> None:
        with self._db.write() as conn:
            conn.execute(
                update(_E)
                .where(_E.c.key == key)
                .values(state=DONE, receipt=_receipt_to_json(receipt), updated_at=self._now())
            )
            if reconciled:
                audit_repo.append(
                    conn,
                    [
                        NewAuditEvent(
                            action="effect.reconciled",
                            outcome="found",
                            run_id=str(run_id),
                            destination=receipt.destination,
                            detail={"kind": kind, "external_id": receipt.external_id[:200]},
                        )
                    ],
                    now=self._now(),
                )
